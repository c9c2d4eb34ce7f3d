"""settings.yaml -> validated settings.

The deployer edits one YAML file and may override any key from the environment
(`FSM_BOT_<SECTION>__<KEY>`), so the token never has to live in a file. Every mistake in
that file must come back as one sentence naming the key (and the line), because the person
reading it is a headman's friend who deploys a bot, not a Python developer reading tracebacks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_CONFIG_PATH = Path("settings.yaml")
_NAMED_KEY = re.compile(r"^([a-z_]+(?:\.[a-z_]+)+) is not supported")
ENV_PREFIX = "FSM_BOT_"

TOKEN_HELP = (
    "community bots need a community access token: in VK open your community -> Управление -> "
    "Работа с API -> Ключи доступа -> Создать ключ (allow messages, management and documents), then in "
    "Long Poll API switch it on, choose API version 5.199 and enable the events message_new, message_event, "
    "message_allow, message_deny, group_join and group_leave. Put the key in vk.token or in the environment "
    "variable FSM_BOT_VK__TOKEN."
)


class ConfigError(Exception):
    """A settings problem the deployer can fix; its text is the whole message they see."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallbackSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8081, ge=1, le=65535)
    path: str = "/callback"
    secret: SecretStr | None = None
    confirmation: str | None = None


class VkSettings(_Section):
    token: SecretStr | None = None
    tokens: list[SecretStr] = Field(default_factory=list)
    group_id: int | None = Field(default=None, gt=0)
    api_url: str = "https://api.vk.ru/method/"
    api_version: str = "5.199"
    mode: Literal["longpoll", "callback"] = "longpoll"
    rps_limit: int = Field(default=20, ge=1, le=1000)
    callback: CallbackSettings = Field(default_factory=CallbackSettings)

    @model_validator(mode="before")
    @classmethod
    def _refuse_user_login(cls, values: Any) -> Any:
        # The seed bot logged in as a person with login/password; VK forbids bots on user accounts
        # and community methods (messages from the community, Long Poll for groups) need a group token.
        if isinstance(values, Mapping):
            for key in ("login", "password"):
                if key in values:
                    raise ValueError(f"vk.{key} is not supported: {TOKEN_HELP}")
        return values

    def all_tokens(self) -> list[str]:
        """Every configured token, `token` first: requests are spread over all of them."""
        found = [self.token] if self.token is not None else []
        found.extend(self.tokens)
        return [secret.get_secret_value() for secret in found if secret.get_secret_value()]


class DatabaseSettings(_Section):
    url: str = "sqlite:///fsm_bot.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        # Only these two are tested (and have a driver installed); anything else would fail later, in a traceback.
        scheme = value.split("://", 1)[0].split("+", 1)[0].lower() if "://" in value else ""
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError(
                "use sqlite:///FILE.db or postgresql://USER:PASSWORD@HOST:5432/DATABASE "
                f"(not {value.split('://', 1)[0] + '://' if '://' in value else repr(value)})"
            )
        return value


class GroupLeadersSettings(_Section):
    headman: int | None = Field(default=None, gt=0)
    deputies: list[int] = Field(default_factory=list)
    # The group's chat (беседа) with the bot in it, as VK numbers it: 2000000000 + the chat's number.
    chat_peer_id: int | None = Field(default=None, gt=2_000_000_000)


# A study group's name: what its column holds (64), so it also fits a button's payload.
GroupName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class StreamSettings(_Section):
    # Study groups and their leaders, by VK id: {"ИВТ-101": {"headman": 123, "deputies": [456]}}.
    groups: dict[GroupName, GroupLeadersSettings] = Field(default_factory=dict)
    auto_approve: bool = False
    # Zero configuration: with no `groups` here, the community itself is one study group (named after it,
    # its managers leading it, every member its student at once) for as long as it is the only group.
    community_group: bool = True


class EngineSettings(_Section):
    workers: int = Field(default=8, ge=1, le=256)
    member_sync_minutes: int = Field(default=60, ge=1)
    # Overrides every flow's own dialog timeout when set (seconds).
    dialog_timeout_seconds: int | None = Field(default=None, ge=5)
    sweep_seconds: int = Field(default=30, ge=1)
    # Bot processes sharing this database and these tokens (set by `fsm-bot run --workers N`;
    # set it by hand when each process is its own systemd unit): each process paces every token at
    # 1/processes of vk.rps_limit, so together they never exceed it.
    processes: int = Field(default=1, ge=1, le=64)
    # How long a claimed event or a message being sent stays with its process; a process that
    # died holding them lets them go after this long, and another process takes them.
    lease_seconds: int = Field(default=30, ge=2, le=3600)
    # How often a process that does not run the scheduler checks whether the one that does is gone.
    leader_check_seconds: float = Field(default=2.0, gt=0, le=60)
    # After the long poll lost events (failed 1/3, a long outage), after trouble reaching the callback endpoint
    # and at every start, messages this young are read back from VK's history and answered; older ones are
    # only marked read (fsm_bot/vk/catch_up.py).
    catch_up_hours: float = Field(default=24, ge=0, le=24 * 30)


class BroadcastSettings(_Section):
    # After this long, people who have not pressed «Ознакомлен» are reminded once and the sender
    # gets the final tally.
    nudge_after_minutes: float = Field(default=180, gt=0)


class RemindersSettings(_Section):
    # A reminder before a class that could not go out on time (the bot was down) is dropped when it
    # would be this late: "the class starts in 15 minutes" half an hour later only confuses.
    late_drop_minutes: int = Field(default=10, ge=0)
    # A daily digest that could not go out on time is still sent up to this many hours late
    # (not after the day it describes has begun).
    digest_grace_hours: float = Field(default=12, ge=0)
    # What «подписаться» offers first.
    default_digest_time: str = "20:00"
    default_lead_minutes: int = Field(default=15, ge=1, le=240)
    # Timetable sent as a calendar file covers this many days from today.
    ics_days: int = Field(default=120, ge=1, le=400)

    @field_validator("default_digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value):
            raise ValueError(f"{value!r} is not a time of day like 20:00")
        return value


class AttendanceSettings(_Section):
    # Academic hours one lesson counts for in the register and the summaries.
    hours_per_lesson: int = Field(default=2, ge=1, le=8)


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduledCommandSettings(_Section):
    """A command the bot runs by itself at set times (the seed's activate_times/activate_days)."""

    command: str = Field(min_length=1)
    # Where the answer goes: a study group's chat (stream.groups.<name>.chat_peer_id) or a peer id.
    to: str | int
    # On whose behalf it runs (a VK id); by default the group's headman, so privileges still apply.
    run_as: int | None = Field(default=None, gt=0)
    times: list[str] = Field(min_length=1)
    days: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:5]))

    @field_validator("times")
    @classmethod
    def _clock_times(cls, values: list[str]) -> list[str]:
        for value in values:
            if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", str(value)):
                raise ValueError(f"{value!r} is not a time of day like 07:30")
        return values

    @field_validator("days")
    @classmethod
    def _weekdays(cls, values: list[str]) -> list[str]:
        days = [str(value).lower()[:3] for value in values]
        unknown = [value for value in days if value not in WEEKDAYS]
        if unknown:
            raise ValueError(f"unknown day(s) {', '.join(unknown)}: use mon, tue, wed, thu, fri, sat, sun")
        return days


class TimetableFeedSettings(_Section):
    """A group's timetable published as an .ics at a web address, fetched again every `every_minutes`."""

    group: GroupName
    url: str
    every_minutes: int = Field(default=60, ge=5)  # a university's calendar changes a few times a term

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value.strip(), re.IGNORECASE):
            raise ValueError(f"{value[:80]!r} is not an http:// or https:// address")
        return value.strip()


class TimetableSettings(_Section):
    feeds: list[TimetableFeedSettings] = Field(default_factory=list)

    @field_validator("feeds")
    @classmethod
    def _one_feed_per_group(cls, feeds: list[TimetableFeedSettings]) -> list[TimetableFeedSettings]:
        groups = [feed.group for feed in feeds]
        repeated = sorted({group for group in groups if groups.count(group) > 1})
        if repeated:
            raise ValueError(f"group {repeated[0]} has two feeds: one address per group")
        return feeds


# Every dialog of the package flows/ (fsm_bot/engine/discovery.py), in the order flows/__init__.py gives.
DEFAULT_FLOWS = ["flows"]


class CommunitySettings(_Section):
    """Another community served by the same processes (a faculty's several streams): its own
    token(s), id, callback secret and confirmation, study groups and scheduled commands; everything
    else (database, flows, timezone, ...) is shared with the top level."""

    group_id: int = Field(gt=0)
    token: SecretStr | None = None
    tokens: list[SecretStr] = Field(default_factory=list)
    api_url: str | None = None  # VK's own by default (vk.api_url); a sandbox of its own in tests
    secret: SecretStr | None = None
    confirmation: str | None = None
    stream: StreamSettings = Field(default_factory=StreamSettings)
    schedule: list[ScheduledCommandSettings] = Field(default_factory=list)


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Settings(BaseSettings):
    """The whole configuration. Environment variables override the file key by key."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    vk: VkSettings = Field(default_factory=VkSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    logging: LoggingSettings = Field(default_factory=LoggingSettings)
    flows: list[str] = Field(default_factory=lambda: list(DEFAULT_FLOWS))
    stream: StreamSettings = Field(default_factory=StreamSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    broadcast: BroadcastSettings = Field(default_factory=BroadcastSettings)
    reminders: RemindersSettings = Field(default_factory=RemindersSettings)
    attendance: AttendanceSettings = Field(default_factory=AttendanceSettings)
    timetable: TimetableSettings = Field(default_factory=TimetableSettings)
    schedule: list[ScheduledCommandSettings] = Field(default_factory=list)
    communities: list[CommunitySettings] = Field(default_factory=list)
    timezone: str = "Europe/Moscow"
    locale: Literal["ru", "en"] = "ru"  # the default language; each person's own follows their VK app or choice

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as init kwargs; the environment, then a `.env` file beside settings.yaml (what
        # docker compose and systemd's EnvironmentFile read too), must win over it, key by key.
        def prefixed_dotenv() -> dict[str, Any]:
            # A .env shared with docker compose holds other programs' variables (POSTGRES_PASSWORD): only this
            # program's sections are ours; pydantic-settings would report every other line as an unknown key.
            return {key: value for key, value in dotenv_settings().items() if key in cls.model_fields}

        # pydantic-settings calls any callable source; its annotation asks for the class
        return env_settings, cast(PydanticBaseSettingsSource, prefixed_dotenv), init_settings

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use a name like Europe/Moscow)") from None
        return value

    def require_token(self) -> None:
        """Running against real VK without a token can only fail later and less clearly."""
        if not self.vk.all_tokens():
            raise ConfigError(f"vk.token is missing: {TOKEN_HELP}")
        if self.vk.group_id is None:
            raise ConfigError(
                "vk.group_id is missing: put your community's numeric id there "
                "(Управление -> Работа с API shows it; for club123456 it is 123456)."
            )

    @model_validator(mode="after")
    def _distinct_communities(self) -> Settings:
        ids = [self.vk.group_id, *(community.group_id for community in self.communities)]
        known = [group_id for group_id in ids if group_id is not None]
        repeated = sorted({group_id for group_id in known if known.count(group_id) > 1})
        if repeated:
            raise ValueError(f"communities is the same community twice: group_id {repeated[0]}")
        return self

    def per_community(self) -> list[Settings]:
        """One Settings per community this process serves: the top level's, then each of `communities`."""
        served = [self.model_copy(update={"communities": []})] if self.vk.group_id is not None else []
        for community in self.communities:
            callback = self.vk.callback.model_copy(
                update={"secret": community.secret, "confirmation": community.confirmation}
            )
            vk = self.vk.model_copy(
                update={
                    "group_id": community.group_id,
                    "token": community.token,
                    "tokens": community.tokens,
                    "api_url": community.api_url or self.vk.api_url,
                    "callback": callback,
                }
            )
            served.append(
                self.model_copy(
                    update={"vk": vk, "stream": community.stream, "schedule": community.schedule, "communities": []}
                )
            )
        return served

    def secrets(self) -> list[str]:
        """Values that must never appear in a log line or an error message."""
        found = self.vk.all_tokens()
        if self.vk.callback.secret is not None:
            found.append(self.vk.callback.secret.get_secret_value())
        for community in self.communities:
            found.extend(
                value.get_secret_value() for value in (community.token, *community.tokens, community.secret) if value
            )
        return [value for value in found if value]


def load_settings(path: Path | str | None = None) -> Settings:
    """Read, merge with the environment and validate; raise ConfigError with one clear sentence.

    A missing file at the default path is fine (defaults plus environment), so `fsm-bot sandbox`
    works in an empty folder; a missing file the user named explicitly is an error.
    """
    explicit = path is not None
    config_path = DEFAULT_CONFIG_PATH if path is None else Path(path)
    text = _read_text(config_path, explicit)
    raw = _parse_yaml(text, config_path)
    env_file = config_path.parent / ".env"
    _refuse_unknown_sections(env_file)
    try:
        return Settings(**raw, _env_file=env_file if env_file.is_file() else None)  # type: ignore[call-arg]
    except ValidationError as error:
        raise ConfigError(_describe(error, text, config_path, env_file)) from None


def _read_text(config_path: Path, explicit: bool) -> str:
    try:
        return config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{config_path}: no such settings file") from None
        return ""
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{config_path}: cannot read the settings file ({error})") from None


def _parse_yaml(text: str, config_path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{config_path}:{where}: not valid YAML: {problem}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"{config_path}: the file must be a mapping of sections (vk:, database:, ...)")
    return loaded


def _refuse_unknown_sections(env_file: Path) -> None:
    """FSM_BOT_V__TOKEN (for FSM_BOT_VK__TOKEN) would be ignored without a word: name it instead. Only nested
    names (with "__") are ours for sure: FSM_BOT_TEST_DATABASE_URL and the like belong to the test suite."""
    names = list(os.environ)
    if env_file.is_file():
        from dotenv import dotenv_values

        names += list(dotenv_values(env_file))
    for name in names:
        if not name.upper().startswith(ENV_PREFIX) or "__" not in name:
            continue
        section = name[len(ENV_PREFIX) :].split("__")[0].lower()
        if section not in Settings.model_fields:
            sections = ", ".join(sorted(Settings.model_fields))
            raise ConfigError(
                f"environment variable {name}: {section} is not a settings section ({sections}); "
                f"nested keys take two underscores, e.g. {ENV_PREFIX}VK__TOKEN"
            )


def _environment_name(location: list[str], env_file: Path) -> str | None:
    """The variable a value came from, when it came from the environment or .env rather than the file: a
    misspelt FSM_BOT_VK__TOKNE must be blamed on itself, not on a settings.yaml that never said it."""
    wanted = (ENV_PREFIX + "__".join(location)).upper()
    for name in os.environ:
        if name.upper() == wanted:
            return f"environment variable {name}"
    if env_file.is_file():
        from dotenv import dotenv_values

        for name in dotenv_values(env_file):
            if name.upper() == wanted:
                return f"{env_file}: {name}"
    return None


def _describe(error: ValidationError, text: str, config_path: Path, env_file: Path | None = None) -> str:
    """Turn pydantic's report into one line per problem, naming the dotted key and its line (or the environment
    variable it came from)."""
    lines = []
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        key = ".".join(location) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        named = _NAMED_KEY.match(message)
        if named:
            # A section validator that rejects one of its keys names it in the message.
            key = named.group(1)
            location = key.split(".")
            message = message[len(key) + len(" is ") :]
        if problem["type"] == "extra_forbidden":
            message = "unknown key (misspelt, or not a setting of this section)"
        source = _environment_name(location, env_file or config_path.parent / ".env")
        if source is not None:
            lines.append(f"{source}: {key}: {message}")
            continue
        line = _line_of(text, location)
        where = f" (line {line})" if line else ""
        lines.append(f"{config_path}: {key}{where}: {message}")
    return "\n".join(lines)


def _line_of(text: str, location: list[str]) -> int | None:
    """The 1-based line where a dotted key is written in the YAML text, if it is written there."""
    if not text.strip():
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    found_line = None
    for part in location:
        if not isinstance(node, yaml.MappingNode):
            break
        for key_node, value_node in node.value:
            if key_node.value == part:
                found_line = key_node.start_mark.line + 1
                node = value_node
                break
        else:
            break
    return found_line
