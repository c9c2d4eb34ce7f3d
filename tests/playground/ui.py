"""What a person does on the playground page, in the words they would use: «open Анна», «press Готово».

Locators go by what is on screen (roles, names, texts), as a person finds things, so a test breaks when
the page stops showing what it should, not when its markup is tidied up.
"""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Locator, Page, expect

BOT_ANSWER_TIMEOUT = 15_000  # ms; the bot answers within a second or two, unless a fault makes it retry
REPORT_PATTERN = re.compile(r"📣 Рассылка №\d+")


def be(page: Page, name: str) -> None:
    """Click the person in «Люди»: from now on the page writes to the bot as them."""
    page.locator(".people-list").get_by_role("button", name=name).click()
    expect(page.locator("#me")).to_contain_text(name)
    expect(page.get_by_role("log", name="Сообщения")).to_have_attribute("aria-busy", "false")


def bot_messages(page: Page) -> Locator:
    return page.get_by_role("article", name="Сообщение бота")


def bot_message(page: Page, text: str, timeout: float = BOT_ANSWER_TIMEOUT) -> Locator:
    """The latest message of the bot that contains `text`, once it is on screen."""
    message = bot_messages(page).filter(has_text=text).last
    expect(message).to_be_visible(timeout=timeout)
    return message


def press(message: Locator, label: str) -> None:
    """Press a button of a bot message (its inline keyboard)."""
    message.get_by_role("button", name=label, exact=True).click()


def press_keyboard(page: Page, label: str) -> None:
    """Press a button of the regular keyboard under the input."""
    keyboard = page.locator("#keyboard")
    button = keyboard.get_by_role("button", name=label, exact=True)
    expect(button).to_be_visible(timeout=BOT_ANSWER_TIMEOUT)
    button.click()


def type_and_send(page: Page, text: str) -> None:
    """Type into the input and press Enter, as in VK."""
    field = page.get_by_role("textbox", name="Сообщение")
    field.fill(text)
    field.press("Enter")
    expect(page.get_by_role("article", name="Ваше сообщение").filter(has_text=text).last).to_be_visible()


def open_main_menu(page: Page) -> None:
    """«Начать» in a new dialog (VK's button), or «меню» typed in one that has begun: the main menu."""
    start = page.locator("#keyboard").get_by_role("button", name="Начать", exact=True)
    if start.is_visible():
        start.click()
    else:
        type_and_send(page, "меню")
    bot_message(page, "Главное меню")


def broadcast_by_clicks(page: Page, headman: str, group: str, text: str) -> Locator:
    """The headman sends `text` to their group by clicks; the report message, once it is there."""
    be(page, headman)
    open_main_menu(page)
    press_keyboard(page, "Рассылка")
    bot_message(page, "Пришлите сообщение для рассылки")
    type_and_send(page, text)
    press(bot_message(page, "Добавлено сообщений: 1"), "Готово")
    press(bot_message(page, "Кому отправить?"), f"Моей группе ({group})")
    press(bot_message(page, "Настройки рассылки"), "Далее")
    bot_message(page, "Так сообщение увидят получатели")
    press(bot_message(page, "Сообщение получ"), "Отправить")
    report = bot_messages(page).filter(has_text=REPORT_PATTERN).filter(has_text=f"«{text}»")
    expect(report).to_be_visible(timeout=BOT_ANSWER_TIMEOUT)
    return report


def stat(page: Page, key: str) -> int:
    """A number of the «Статистика API» panel."""
    return int(float(page.locator(f"dd[data-stat='{key}']").inner_text()))


def journal(page: Page) -> Locator:
    return page.get_by_role("list", name="Журнал событий, новые сверху")


def snackbar(page: Page) -> Locator:
    return page.get_by_role("status")


def wait_for(predicate: Any, timeout: float = BOT_ANSWER_TIMEOUT / 1000) -> Any:
    """Until the control API shows what the page did (a PATCH, a send); the last value if it never does."""
    deadline = time.monotonic() + timeout
    value = predicate()
    while not value and time.monotonic() < deadline:
        time.sleep(0.1)
        value = predicate()
    return value
