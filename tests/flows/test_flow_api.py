"""The flow author's API (issue 16.3): structured button values, declared guards, re-asking, widgets.

Each test is one moment a flow author relies on: "a button made with ("t", 123) comes back as
("t", 123), and a forged ["t", -1] comes back as nothing", "a student with no study group who
starts the register is told why and the dialog ends", "◀ on the first page stays on it".
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

import pytest

from flows import attendance, broadcast, reminders
from fsm_bot.engine import Context, Flow, Transition, in_study_group
from fsm_bot.engine.context import effects_of, with_way_out
from fsm_bot.engine.widgets import DayPicker, Item, PagedMultiSelect, Toggled, way_out
from fsm_bot.services.inputs import unpacked
from fsm_bot.services.timetable import SubscriptionKind
from fsm_bot.storage.models import Role
from tests.support.fake_services import (
    ANNA,
    TEXTS,
    FakeBroadcasts,
    FakeServices,
    FakeTimetable,
    answers,
    context,
    labels_of,
    texts_of,
)

HEADMAN = replace(ANNA, vk_id=1002, role=Role.HEADMAN)
NO_GROUP = replace(ANNA, study_group=None)
TODAY = date(2026, 12, 2)


# --- structured button values


def test_a_tuple_value_travels_as_a_json_list_and_comes_back_as_the_tuple() -> None:
    ctx = context(broadcast.flow, "pick")
    button = ctx.option("Анна", ("t", 123))
    assert json.loads(json.dumps(button.payload))["b"] == ["t", 123]
    pressed = context(broadcast.flow, "pick", button=("t", 123))
    assert pressed.choice == ("t", 123) and pressed.button is None
    assert context(broadcast.flow, "pick", button="done").choice == ("done",)


@pytest.mark.parametrize(
    "forged",
    [("t", -1), ("t", 2**31), ("t", True), ("x" * 65,), ("a", "b", "c", "d", "e"), ("t", 1.5), ("t", None)],
)
def test_a_value_no_button_of_ours_could_carry_is_no_choice(forged: tuple) -> None:  # type: ignore[type-arg]
    assert context(broadcast.flow, "pick", button=forged).choice is None


@pytest.mark.parametrize(
    ("value", "unpacked_value"),
    [
        ("a:123", ("a", 123)),  # an absence notice's «Подтвердить» from before 2026-12
        ("4500:no", (4500, "no")),  # a join request's «Отклонить» from before 2026-12
        ("r:-5", ("r", "-5")),  # not an id: stays text, so no flow's int() pattern matches it
        ("done", ("done",)),
        (("a", 123), ("a", 123)),
    ],
)
def test_a_button_of_the_old_string_form_comes_back_as_the_tuple_of_today(
    value: str | tuple[str | int, ...], unpacked_value: tuple[str | int, ...]
) -> None:
    assert unpacked(context(broadcast.flow, "pick", button=value).choice) == unpacked_value


def test_a_nested_or_empty_value_is_no_choice_nor_a_button() -> None:
    for forged in ([], [["t", 1]], {"t": 1}):
        ctx = context(broadcast.flow, "pick", button="x")
        ctx.event.payload["b"] = forged  # type: ignore[index]
        assert ctx.choice is None and ctx.button is None


def test_a_button_of_another_flow_is_no_choice() -> None:
    ctx = context(broadcast.flow, "pick", button=("t", 1))
    ctx.event.payload["f"] = "attendance"  # type: ignore[index]
    assert ctx.choice is None


def test_a_value_a_press_could_not_give_back_is_refused_when_the_button_is_made() -> None:
    ctx = context(broadcast.flow, "pick")
    for wrong in [("t", -5), ("x" * 100,), (), ("a", 1, "b", 2, "c")]:
        with pytest.raises(ValueError):
            ctx.option("?", wrong)


# --- re-asking


def test_ask_again_says_the_note_then_asks_the_same_step_without_a_transition() -> None:
    ctx = context(reminders.flow, "menu")
    ctx.ask_again("Сохранено.")
    assert texts_of(ctx) == ["Сохранено."]
    assert (effects_of(ctx).target_state, effects_of(ctx).trigger, ctx.dialog.version) == ("menu", None, 1)


class Subscriptions(FakeTimetable):
    def unsubscribe(self, kind: SubscriptionKind | None = None) -> None:
        self.subscribed = [s for s in self.subscribed if kind is not None and s.kind != kind]


def test_a_removal_button_of_reminders_answers_and_shows_the_menu_again() -> None:
    services = FakeServices(timetable=Subscriptions())
    services.timetable.subscribe(SubscriptionKind.DIGEST)
    ctx = answers(reminders.flow, "menu", button=("off", "digest"), services=services)
    assert effects_of(ctx).target_state == "menu" and services.timetable.subscribed == []
    assert texts_of(ctx) == [TEXTS("reminders.removed", what=TEXTS("reminders.remove.digest")[2:])]
    forged = answers(reminders.flow, "menu", button=("off", "everything"), services=services)
    assert effects_of(forged).finished  # not a button of the menu: the dialog ends, as for typed text


# --- declared guards


def test_a_student_without_a_group_is_told_why_and_the_dialog_ends() -> None:
    start = reminders.flow.start_handler()
    assert start is not None
    ctx = context(reminders.flow, "menu", member=NO_GROUP)
    start(ctx)
    assert texts_of(ctx) == [TEXTS("timetable.no_group")] and effects_of(ctx).finished


def test_a_guard_that_agrees_lets_the_first_question_be_asked() -> None:
    survey = Flow("survey", "help.description", needs=[in_study_group("timetable.no_group")], states=["name"])
    asked: list[str] = []

    @survey.asks("name")
    def ask_name(ctx: Context) -> None:
        asked.append(ctx.member.full_name)

    start = survey.start_handler()
    assert start is not None
    start(context(survey, "name"))
    assert asked == ["Смирнова Анна"]
    start(context(survey, "name", member=NO_GROUP))
    assert asked == ["Смирнова Анна"]


def test_a_member_moved_out_of_the_group_mid_dialog_is_told_and_the_dialog_ends() -> None:
    services = FakeServices(timetable=Subscriptions())
    services.timetable.subscribe(SubscriptionKind.DIGEST)
    ctx = answers(reminders.flow, "menu", button=("off", "digest"), member=NO_GROUP, services=services)
    assert texts_of(ctx) == [TEXTS("timetable.no_group")] and effects_of(ctx).finished
    assert [s.kind for s in services.timetable.subscribed] == [SubscriptionKind.DIGEST]


def test_a_question_asked_again_by_the_engine_checks_the_guards_first() -> None:
    """«назад» and a step asked again run a question with no answer handler before it: a member moved out
    of the group meanwhile is told why instead of seeing the group's data again."""
    asked: list[str] = []
    survey = Flow("survey", "help.description", needs=[in_study_group("timetable.no_group")], states=["name"])

    @survey.asks("name")
    def ask_name(ctx: Context) -> None:
        asked.append(ctx.member.full_name)

    again = survey.entry_handler("name", guarded=True)
    assert again is not None
    moved_out = context(survey, "name", member=NO_GROUP)
    again(moved_out)
    assert asked == [] and texts_of(moved_out) == [TEXTS("timetable.no_group")] and effects_of(moved_out).finished
    again(context(survey, "name"))
    assert asked == ["Смирнова Анна"]


def test_a_command_refused_by_its_guard_answers_without_ending_anything() -> None:
    command = Flow("command", "help.description", needs=[lambda ctx: "timetable.no_group"])
    ctx = context(command, "")
    start = command.start_handler()
    assert start is not None
    start(ctx)
    assert texts_of(ctx) == [TEXTS("timetable.no_group")] and not effects_of(ctx).finished


def test_a_start_handler_that_moves_on_is_not_followed_by_the_first_question() -> None:
    flow = Flow("f", "help.description", states=["a", "b"], transitions=[Transition("skip", "a", "b")])
    asked: list[str] = []
    flow.asks("a")(lambda ctx: asked.append("a"))
    flow.on_start(lambda ctx: ctx.go("skip"))
    ctx = context(flow, "a")
    start = flow.start_handler()
    assert start is not None
    start(ctx)
    assert asked == [] and effects_of(ctx).trigger == "skip"


# --- widgets


def test_the_day_picker_shows_each_day_once_three_to_a_row_and_reads_what_the_flow_parses() -> None:
    ctx = context(attendance.flow, "day")
    days = [TODAY, TODAY, *(TODAY - timedelta(days=n) for n in range(1, 9))]
    rows = DayPicker(per_row=3, most=6).rows(ctx, days, label=lambda day: f"{day:%d.%m}")
    assert [[button.label for button in row] for row in rows] == [
        ["02.12", "01.12", "30.11"],
        ["29.11", "28.11", "27.11"],
    ]
    pressed = context(attendance.flow, "day", button="2026-11-30")
    assert DayPicker().read(pressed, date.fromisoformat) == date(2026, 11, 30)


def test_the_multi_select_pages_six_items_with_back_done_and_forward_and_room_for_cancel() -> None:
    picker = PagedMultiSelect(marks=("✅ ", "▫️ "))
    items = [Item(n, f"Студент {n}") for n in range(1, 16)]
    ctx = context(broadcast.flow, "pick", data={"page": 1})
    view = picker.view(ctx, items, {7}, "Готово (1)")
    assert (view.page, view.pages) == (1, 3)
    labels = [button.label for row in view.rows for button in row]
    assert labels == ["✅ Студент 7", *(f"▫️ Студент {n}" for n in range(8, 13)), "◀", "Готово (1)", "▶"]
    assert [len(row) for row in view.rows] == [2, 2, 2, 3]
    # VK's ten buttons: a middle page has room for «Отмена» only, the first page for «Назад» «Отмена» too
    assert [[b.label for b in row] for row in with_way_out(view.rows, ctx.t)][-1] == ["Отмена"]
    first = picker.view(context(broadcast.flow, "pick", data={"page": 0}), items, set(), "Готово")
    assert [[b.label for b in row] for row in with_way_out(first.rows, ctx.t)][-2:] == [
        ["Готово", "▶"],
        ["Назад", "Отмена"],
    ]


def test_every_question_of_a_dialog_carries_back_and_cancel_once() -> None:
    ctx = context(broadcast.flow, "pick")
    ctx.ask("Кому?", [[ctx.option("Всем", "all")]])
    ctx.ask("Кому ещё?", [[ctx.option("Всем", "all")], way_out(ctx)])  # a flow's own row is not doubled
    ctx.ask("Отправить?", [[ctx.option("Отмена", "cancel", "negative")]])  # nor its own «Отмена»
    assert [labels_of(reply) for reply in effects_of(ctx).replies] == [
        ["Всем", "Назад", "Отмена"],
        ["Всем", "Назад", "Отмена"],
        ["Отмена", "Назад"],
    ]
    full = [[ctx.option(str(n), str(n)) for n in range(row, row + 2)] for row in range(0, 10, 2)]
    assert with_way_out(full, ctx.t) == full  # ten buttons: no room at all, the flow must make some


def test_the_multi_select_reads_toggles_turns_pages_and_never_goes_before_the_first() -> None:
    picker = PagedMultiSelect()
    assert picker.pressed(context(broadcast.flow, "pick", button=("t", 7))) == Toggled(7)
    assert picker.pressed(context(broadcast.flow, "pick", button="done")) == "done"
    back = context(broadcast.flow, "pick", button=("p", "prev"), data={"page": 0})
    assert picker.pressed(back) == "turned" and back.data["page"] == 0
    forward = context(broadcast.flow, "pick", button=("p", "next"), data={"page": 0})
    assert picker.pressed(forward) == "turned" and forward.data["page"] == 1
    assert picker.pressed(context(broadcast.flow, "pick", "Иванов")) is None  # no search: the flow asks again


def test_with_search_typed_text_becomes_the_query_and_the_first_page() -> None:
    picker = PagedMultiSelect(search="query")
    ctx = context(broadcast.flow, "pick", "Ива" * 30, data={"page": 2})
    assert picker.pressed(ctx) == "searched"
    assert ctx.data == {"query": ("Ива" * 30)[:40], "page": 0}


@dataclass(frozen=True)
class Classmate:
    vk_id: int
    name: str


class Classmates(FakeBroadcasts):
    def classmates(self, query: str = "") -> list[Classmate]:
        return [Classmate(5, "Петров П.")]


def test_broadcast_toggles_a_classmate_and_ignores_anyone_else() -> None:
    services = FakeServices(broadcasts=Classmates())
    ctx = answers(broadcast.flow, "pick", button=("t", 5), member=HEADMAN, data=_picking(), services=services)
    assert ctx.data.chosen == [5]
    [shown] = effects_of(ctx).replies
    assert labels_of(shown)[0] == "✅ Петров П."
    stranger = answers(broadcast.flow, "pick", button=("t", 6), member=HEADMAN, data=_picking(), services=services)
    assert stranger.data.chosen == []


def _picking() -> dict[str, object]:
    return {"chosen": [], "page": 0, "query": ""}


# --- typed data


def test_the_broadcast_draft_is_a_dataclass_to_its_handlers_and_json_to_the_dialog_row() -> None:
    ctx = answers(broadcast.flow, "audience", button="group", member=HEADMAN)
    assert ctx.data == broadcast.Draft(audience="group", label="ИВТ-101")
    assert ctx.dialog.data == asdict(broadcast.Draft(audience="group", label="ИВТ-101"))
    assert json.loads(json.dumps(ctx.dialog.data)) == ctx.dialog.data


def test_a_draft_saved_before_an_upgrade_loads_with_defaults_for_new_fields_and_without_old_ones() -> None:
    saved = {"parts": [{"text": "Привет"}], "audience": "group", "label": "ИВТ-101", "ask_ack": False, "gone": 1}
    ctx = answers(broadcast.flow, "options", button="pin", member=HEADMAN, data=saved)
    assert ctx.data == broadcast.Draft(
        parts=[{"text": "Привет"}], audience="group", label="ИВТ-101", ask_ack=False, pin=True
    )
    assert "gone" not in ctx.dialog.data


def test_a_condition_of_the_table_reads_the_typed_data() -> None:
    ctx = context(broadcast.flow, "compose", data={"parts": [{"text": "Привет"}], "audience": "admins"})
    assert broadcast.flow.fire("composed", "compose", ctx) == "options"  # the audience is known already


def test_flow_data_must_be_a_dataclass() -> None:
    with pytest.raises(TypeError):
        Flow("f", "help.description", states=["a"], data=dict)


# --- the context's surface


def test_a_flow_sees_what_happened_and_can_only_ask_not_read_what_was_asked() -> None:
    """What a step asked for (replies, a transition, the end) lives in `effects_of(ctx)`, not on the context:
    a flow cannot read, unset or overwrite another handler's request, and the surface stays what the README lists."""
    ctx = context(reminders.flow, "lead", "5")
    fields = {name for name in vars(ctx) if not name.startswith("_")}
    assert fields == {"event", "member", "t", "dialog", "services"}
    members = {name for name in dir(Context) if not name.startswith("_")}
    assert members == {
        "text", "button", "choice", "value", "data", "state", "use_model", "store_model",
        "reply", "ask", "update", "option", "send_to", "send_document", "command_button", "schedule_message",
        "snackbar", "go", "enter", "ask_again", "finish", "start_flow", "require", "commands", "t_for",
    }  # fmt: skip
    ctx.reply("раз")
    ctx.go("saved")
    ctx.finish("два")
    asked = effects_of(ctx)
    assert [reply.text for reply in asked.replies] == ["раз", "два"]
    assert (asked.trigger, asked.finished, asked.show_menu) == ("saved", True, True)
