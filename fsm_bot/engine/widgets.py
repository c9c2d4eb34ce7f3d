"""Pieces of dialog several flows build the same way: a day picker, a paged multi-select, and the way out.

In the spirit of aiogram-dialog's widgets, but small: a widget draws a step's buttons and reads the
press back; the flow keeps its texts, its data and its decisions. The engine knows nothing of dates
as people type them (fsm_bot.services.dates), so a flow hands the day picker its label and parser.

    days = DayPicker(per_row=3, most=6)
    ctx.ask(ctx.t("attendance.ask_day"), days.rows(ctx, recent, label=lambda day: day_label(ctx.t, day, today)))
    day = days.read(ctx, lambda text: parse_day(text, today, "past"))

    people = PagedMultiSelect(page_size=6, marks=("✅ ", "▫️ "), search="query")
    view = people.view(ctx, [Item(p.vk_id, p.name) for p in found], chosen, done_label)
    match people.pressed(ctx):
        case Toggled(key): ...      # a person's button
        case "done": ...            # «Готово»
        case "turned" | "searched": # ◀ ▶ moved the page, or a typed text became the search
            ...

    ctx.ask(question, rows)  # the engine adds «Назад» «Отмена»: a press is the global word typed
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, TypeVar

from fsm_bot.engine.context import Context
from fsm_bot.engine.context import way_out as context_way_out
from fsm_bot.vk.keyboards import KeyboardButton

T = TypeVar("T")

# VK's inline keyboard holds at most 10 buttons in 6 rows (fsm_bot/vk/keyboards.py): 6 items two to a row,
# a row of ◀ «Готово» ▶ and «Отмена» (with «Назад» too while there is no ◀ or ▶) are what a page can show.
MAX_PAGE_SIZE = 6
MAX_SEARCH = 40


@dataclass(frozen=True)
class DayPicker:
    """Days as buttons (their ISO date as the value), `per_row` to a row, at most `most`; a typed date
    is read by the flow's parser, which reads a pressed button's ISO date too."""

    per_row: int = 3
    most: int = 9

    def rows(self, ctx: Context, days: Iterable[date], label: Callable[[date], str]) -> list[list[KeyboardButton]]:
        unique = list(dict.fromkeys(days))[: self.most]
        buttons = [ctx.option(label(day), day.isoformat()) for day in unique]
        return [buttons[index : index + self.per_row] for index in range(0, len(buttons), self.per_row)]

    def read(self, ctx: Context, parse: Callable[[str], T]) -> T:
        return parse(ctx.button or ctx.text)


def way_out(ctx: Context, back: bool = True) -> list[KeyboardButton]:
    """A row of «Назад» (unless `back` is False) and «Отмена»; `ctx.ask` adds it to every step's question by
    itself (fsm_bot.engine.context.with_way_out), so a flow uses this only to place the row elsewhere."""
    return context_way_out(ctx.t, back)


@dataclass(frozen=True)
class Item:
    """One toggle of a multi-select: the key it stands for (a person's id) and its name."""

    key: int
    label: str


@dataclass(frozen=True)
class Toggled:
    key: int


@dataclass(frozen=True)
class View:
    page: int  # from 0
    pages: int
    rows: list[list[KeyboardButton]]


Pressed = Toggled | Literal["done", "turned", "searched"] | None


@dataclass(frozen=True)
class PagedMultiSelect:
    """Items as toggles, `page_size` to a page two to a row, with ◀ «Готово» ▶ under them.

    The page number lives in the dialog's data under `page_key` (a key, or a field of the flow's data
    class), so a restart keeps it; with `search` set, a typed text becomes the search (kept under that
    key) and the page goes back to the first.
    Every button is a callback button: the flow answers a press by editing the same message.
    """

    page_size: int = MAX_PAGE_SIZE
    marks: tuple[str, str] = ("✅ ", "▫️ ")  # before a chosen item's label, before the others'
    page_key: str = "page"
    search: str | None = None  # the data key of the search text, if typing searches

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"a page holds 1 to {MAX_PAGE_SIZE} items")

    def view(self, ctx: Context, items: Sequence[Item], chosen: Collection[int], done_label: str) -> View:
        pages = max(1, -(-len(items) // self.page_size))
        page = max(0, min(int(_get(ctx, self.page_key, 0)), pages - 1))
        _set(ctx, self.page_key, page)
        shown = items[page * self.page_size : (page + 1) * self.page_size]
        toggles = [
            ctx.option((self.marks[0] if item.key in chosen else self.marks[1]) + item.label, ("t", item.key),
                       callback=True)
            for item in shown
        ]  # fmt: skip
        rows = [toggles[index : index + 2] for index in range(0, len(toggles), 2)]
        last = [ctx.option(done_label, "done", "positive", callback=True)]
        if page > 0:
            last.insert(0, ctx.option("◀", ("p", "prev"), callback=True))
        if page < pages - 1:
            last.append(ctx.option("▶", ("p", "next"), callback=True))
        rows.append(last)
        return View(page, pages, rows)

    def pressed(self, ctx: Context) -> Pressed:
        """What the press meant; a page turn and a search are already applied to the data. None for anything
        else (typed text without search, a forged value): the flow usually asks again."""
        match ctx.choice:
            case ("t", int(key)):
                return Toggled(key)
            case ("done",):
                return "done"
            case ("p", "prev" | "next" as where):
                _set(ctx, self.page_key, max(0, int(_get(ctx, self.page_key, 0)) + (1 if where == "next" else -1)))
                return "turned"
        if self.search is not None and ctx.choice is None and ctx.button is None:
            _set(ctx, self.search, ctx.text[:MAX_SEARCH])
            _set(ctx, self.page_key, 0)
            return "searched"
        return None


def _get(ctx: Context, key: str, default: object) -> Any:
    """A value of the dialog's data: a dict's key, or a field of the flow's dataclass."""
    data = ctx.data
    return data.get(key, default) if isinstance(data, dict) else getattr(data, key)


def _set(ctx: Context, key: str, value: object) -> None:
    data = ctx.data
    if isinstance(data, dict):
        data[key] = value
    else:
        setattr(data, key, value)
