"""`fsm-bot doctor`: is this community, this database and this machine ready for the bot?

Each check is a small function that asks one question and returns a CheckResult: what it found and, when
something is wrong, what to click where in VK (or what to run) to fix it. A community whose Long Poll does
not send `message_event` looks healthy to everyone until the first «Ознакомлен» press does nothing, so these
checks run at `fsm-bot run`'s start as well (`community_checks`), before the database is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from fsm_bot.config import Settings
from fsm_bot.runtime.vk_probe import ProbeError, VkProbe

Status = Literal["ok", "fail", "warn"]

#: Updates the bot cannot work without, with their names in VK's settings page (Long Poll / Callback API).
REQUIRED_EVENTS = {
    "message_new": "Входящее сообщение",
    "message_event": "Действие с сообщением",
    "message_allow": "Разрешение на получение",
    "message_deny": "Запрет на получение",
    "group_join": "Вступление в сообщество",
    "group_leave": "Выход из сообщества",
}
#: Rights the community key needs, with their names in VK's «Создать ключ» dialog.
REQUIRED_RIGHTS = {
    "messages": "Разрешить приложению доступ к сообщениям сообщества",
    "manage": "Разрешить приложению доступ к администрированию сообщества",
    "docs": "Разрешить приложению доступ к документам сообщества",
}
API_PAGE = "VK → your community → Управление → Работа с API"
MESSAGES_PAGE = "VK → your community → Управление → Сообщения"
SETUP_HINT = "; or run `fsm-bot setup`, which switches it on when the key has the administration right"
ACCESS_DENIED = frozenset({7, 15, 27})


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    found: str
    fix: str = ""


def check_token(probe: VkProbe, group_id: int, label: str) -> CheckResult:
    """The key is accepted and belongs to vk.group_id (a key of another community fails every call later)."""
    name = f"access key{label}"
    try:
        answer = probe.call("groups.getById")
    except ProbeError as error:
        if error.code == 0:
            return CheckResult(name, "warn", f"VK is unreachable ({error.message}) at {probe.api_url}")
        if error.code == 5:
            return CheckResult(
                name,
                "fail",
                f"VK refused the community token (error 5: {error.message})",
                f"{API_PAGE} → Ключи доступа → Создать ключ; put it in vk.token or FSM_BOT_VK__TOKEN",
            )
        return CheckResult(name, "fail", str(error), f"{API_PAGE} → Ключи доступа: check the key")
    groups = answer.get("groups", answer) if isinstance(answer, dict) else answer
    owner = int(groups[0]["id"]) if groups else None
    if owner != group_id:
        return CheckResult(
            name,
            "fail",
            f"the key belongs to community {owner}, but vk.group_id is {group_id}",
            f"put {owner} in vk.group_id, or create a key in community {group_id}: {API_PAGE} → Ключи доступа",
        )
    return CheckResult(name, "ok", f"accepted, community {group_id}")


def check_rights(probe: VkProbe) -> CheckResult:
    """messages to write, manage for the Long Poll server and the managers list, docs for exports."""
    name = "key rights"
    try:
        answer = probe.call("groups.getTokenPermissions")
    except ProbeError as error:
        return CheckResult(name, "warn", f"could not read them ({error})")
    granted = {item.get("name") for item in answer.get("permissions", [])}
    missing = [right for right in REQUIRED_RIGHTS if right not in granted]
    if not missing:
        return CheckResult(name, "ok", ", ".join(sorted(REQUIRED_RIGHTS)))
    ticks = "; ".join(f"«{REQUIRED_RIGHTS[right]}»" for right in missing)
    return CheckResult(
        name,
        "fail",
        f"the key lacks {', '.join(missing)}",
        f"{API_PAGE} → Ключи доступа → Создать ключ with {ticks} ticked; put the new key in vk.token",
    )


def check_messages(probe: VkProbe, group_id: int) -> CheckResult:
    """Community messages and bot features on: without them VK refuses every message and every button."""
    name = "community messages"
    try:
        answer = probe.call("groups.getSettings", group_id=group_id)
    except ProbeError as error:
        status: Status = "warn"
        why = "the key has no administration right" if error.code in ACCESS_DENIED else str(error)
        return CheckResult(name, status, f"could not read the community's settings ({why})")
    problems, fixes = [], []
    if not answer.get("messages"):
        problems.append("community messages are off")
        fixes.append(f"{MESSAGES_PAGE} → Сообщения сообщества: Включены")
    if not answer.get("bots_capabilities"):
        problems.append("bot features are off")
        fixes.append(f"{MESSAGES_PAGE} → Настройки для бота → Возможности ботов: Включены")
    if problems:
        return CheckResult(name, "fail", "; ".join(problems), "; ".join(fixes) + SETUP_HINT)
    return CheckResult(name, "ok", "messages and bot features on")


def _missing_events(events: dict[str, int]) -> list[str]:
    return [event for event in REQUIRED_EVENTS if not events.get(event)]


def _events_fix(page: str, missing: list[str]) -> str:
    ticks = ", ".join(f"«{REQUIRED_EVENTS[event]}» ({event})" for event in missing)
    return f"{API_PAGE} → {page} → Типы событий: tick {ticks}"


def check_long_poll(probe: VkProbe, group_id: int, api_version: str) -> CheckResult:
    """Long Poll on, the API version the bot parses, and every event it handles."""
    name = "Long Poll API"
    try:
        answer = probe.call("groups.getLongPollSettings", group_id=group_id)
    except ProbeError as error:
        return CheckResult(name, "warn", f"could not read its settings ({error})")
    if not answer.get("is_enabled"):
        return CheckResult(
            name,
            "fail",
            "Long Poll API is off",
            f"{API_PAGE} → Long Poll API → Настройки: Long Poll API: Включено" + SETUP_HINT,
        )
    problems, fixes = [], []
    if str(answer.get("api_version")) != api_version:
        problems.append(f"API version {answer.get('api_version')}, the bot speaks {api_version}")
        fixes.append(f"{API_PAGE} → Long Poll API → Настройки → Версия API: {api_version}")
    missing = _missing_events(answer.get("events", {}))
    if missing:
        problems.append(f"event(s) {', '.join(missing)} off")
        fixes.append(_events_fix("Long Poll API", missing))
    if problems:
        return CheckResult(name, "fail", "; ".join(problems), "; ".join(fixes) + SETUP_HINT)
    return CheckResult(name, "ok", f"on, API {api_version}, events {', '.join(REQUIRED_EVENTS)}")


def check_callback(probe: VkProbe, settings: Settings) -> CheckResult:
    """A Callback API server with the bot's secret, version and events (callback mode)."""
    name = "Callback API"
    group_id, callback = settings.vk.group_id, settings.vk.callback
    if callback.secret is None or not callback.confirmation:
        return CheckResult(
            name,
            "fail",
            "vk.callback.secret or vk.callback.confirmation is not set",
            f"{API_PAGE} → Callback API: copy «Строка, которую должен вернуть сервер» to vk.callback.confirmation, "
            "set a «Секретный ключ» and put it in vk.callback.secret",
        )
    try:
        servers = probe.call("groups.getCallbackServers", group_id=group_id).get("items", [])
        if not servers:
            # not a failure: VK confirms a new server by calling it, so the bot must be running to add it
            return CheckResult(
                name,
                "warn",
                "no Callback API server is configured yet",
                f"with the bot running, {API_PAGE} → Callback API → Добавить сервер: the bot's public URL ending in "
                f"{callback.path}; then `fsm-bot setup` ticks its events",
            )
        problems = []
        for server in servers:
            found = probe.call("groups.getCallbackSettings", group_id=group_id, server_id=server["id"])
            missing = _missing_events(found.get("events", {}))
            if str(found.get("api_version")) != settings.vk.api_version:
                problems.append(f"server {server.get('url')}: API version {found.get('api_version')}")
            if missing:
                problems.append(f"server {server.get('url')}: event(s) {', '.join(missing)} off")
            if server.get("secret_key") not in (None, "", callback.secret.get_secret_value()):
                problems.append(f"server {server.get('url')}: its secret key is not vk.callback.secret")
    except ProbeError as error:
        return CheckResult(name, "warn", f"could not read its settings ({error})")
    if problems:
        fix = (
            f"{API_PAGE} → Callback API → Типы событий: tick {', '.join(REQUIRED_EVENTS)}; "
            f"Настройки сервера: Версия API {settings.vk.api_version}, Секретный ключ = vk.callback.secret"
        )
        return CheckResult(name, "fail", "; ".join(problems), fix + SETUP_HINT)
    return CheckResult(name, "ok", f"{len(servers)} server(s) with the bot's events and API {settings.vk.api_version}")


def community_checks(settings: Settings) -> list[CheckResult]:
    """Everything VK must have switched on for one community (a Settings of `per_community()`)."""
    group_id = int(settings.vk.group_id or 0)
    tokens = settings.vk.all_tokens()
    results = []
    for index, token in enumerate(tokens):
        probe = VkProbe(settings.vk.api_url, token, settings.vk.api_version)
        try:
            label = f" #{index + 1}" if len(tokens) > 1 else ""
            results.append(check_token(probe, group_id, label))
            if results[-1].status != "ok" or index:
                continue  # the other checks need a working key, and one key answers for the community
            results.append(check_rights(probe))
            results.append(check_messages(probe, group_id))
            if settings.vk.mode == "longpoll":
                results.append(check_long_poll(probe, group_id, settings.vk.api_version))
            else:
                results.append(check_callback(probe, settings))
        finally:
            probe.close()
    return results


def check_database(settings: Settings) -> CheckResult:
    """Reachable, and its schema no newer than this code (an older one is upgraded at start)."""
    from fsm_bot.storage import Database
    from fsm_bot.storage.migrate import current_revision, head_revision

    url = make_url(settings.database.url)
    shown = url.render_as_string(hide_password=True)
    name = "database"
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return CheckResult(name, "ok", f"{shown}: will be created at the first start")
    try:
        database = Database(settings.database.url)
        try:
            current = current_revision(database.engine)
        finally:
            database.dispose()
    except Exception as error:  # any driver's refusal is the answer here
        reason = getattr(error, "orig", None) or error
        return CheckResult(
            name, "fail", f"{shown}: {str(reason).strip().splitlines()[0]}", "check database.url and that it is up"
        )
    head = head_revision()
    if current == head:
        return CheckResult(name, "ok", f"{shown}: schema at {head}")
    if current is None:
        return CheckResult(name, "ok", f"{shown}: empty; `fsm-bot run` (or `fsm-bot db upgrade`) creates the schema")
    return CheckResult(
        name,
        "ok",
        f"{shown}: schema at {current}, this version has {head}; `fsm-bot run` (or `fsm-bot db upgrade`) upgrades it",
    )


def check_timezone(settings: Settings, now: datetime | None = None) -> CheckResult:
    """Reminders fire by this clock: show it, so a wrong zone is seen before the first reminder comes late."""
    zone = ZoneInfo(settings.timezone)
    local = (now or datetime.now(zone)).astimezone(zone)
    return CheckResult(
        "time zone",
        "ok",
        f"{settings.timezone}: now {local:%Y-%m-%d %H:%M} (UTC{local:%z}); change it with `timezone:` in settings.yaml",
    )


def all_checks(settings: Settings) -> list[tuple[str, list[CheckResult]]]:
    """The doctor's whole checklist, in sections: each community, then this machine."""
    sections = [
        (f"community {community.vk.group_id}", community_checks(community)) for community in settings.per_community()
    ]
    sections.append(("this machine", [check_database(settings), check_timezone(settings)]))
    return sections


MARKS = {"ok": "✓", "fail": "✗", "warn": "!"}


def render(sections: list[tuple[str, list[CheckResult]]]) -> str:
    lines = []
    for title, results in sections:
        lines.append(title)
        for result in results:
            lines.append(f"  {MARKS[result.status]} {result.name}: {result.found}")
            if result.fix:
                lines.append(f"      fix: {result.fix}")
    return "\n".join(lines)


def failures(sections: list[tuple[str, list[CheckResult]]]) -> list[str]:
    """One line per failure, with what to do: what `run` prints when it refuses to start."""
    return [
        f"{title}: {result.name}: {result.found}. Fix: {result.fix}"
        for title, results in sections
        for result in results
        if result.status == "fail"
    ]
