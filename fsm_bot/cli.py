"""The `fsm-bot` command.

Every failure a deployer can cause (a broken settings file, an unreachable database) ends in one
sentence on stderr and a non-zero exit code, never a traceback: exit 2 for settings and for an input
file that cannot be imported (like a usage error), 1 for the rest.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from fsm_bot.config import ConfigError, Settings, load_settings
from fsm_bot.logs import configure_logging, redact

if TYPE_CHECKING:
    from fsm_bot.storage import Database

log = logging.getLogger("fsm_bot")

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2
EXIT_NOT_READY = 3


class CommandError(Exception):
    """A failure to report to the deployer as one sentence, with exit code 1."""


class InputFileError(CommandError):
    """An input file that cannot be used (a hostile or broken timetable): exit code 2, like a usage error."""


class UsageError(InputFileError):
    """Options that contradict each other (--format csv --output reg.xlsx): exit code 2."""


class NotReady(CommandError):
    """VK refuses the key or the community lacks a setting the bot needs: exit code 3, so that a supervisor
    (`run --workers`, systemd's RestartPreventExitStatus) stops instead of starting it again and again."""


def package_version() -> str:
    try:
        return version("fsm-bot")
    except PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    # The global options work before the command (`fsm-bot --config x run`) and after it (`fsm-bot run --config
    # x`): the command's copies default to SUPPRESS, so they only override what was given before when repeated.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config", metavar="PATH", default=argparse.SUPPRESS, help="settings file (default: ./settings.yaml)"
    )
    common.add_argument(
        "--log-json", action="store_true", default=argparse.SUPPRESS, help="log JSON lines instead of text"
    )

    parser = argparse.ArgumentParser(
        prog="fsm-bot",
        description="VK community bot for student groups: broadcasts with read receipts, "
        "timetable reminders, attendance register.",
        epilog="`fsm-bot COMMAND --help` tells more; exit codes: 0 done, 1 failed, 2 settings or usage, "
        "3 VK refuses the key or the community is not set up (`fsm-bot doctor` says what to click).",
    )
    parser.add_argument("--config", metavar="PATH", default=None, help="settings file (default: ./settings.yaml)")
    parser.add_argument("--log-json", action="store_true", help="log JSON lines instead of text")
    parser.add_argument("--version", action="version", version=f"fsm-bot {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("version", parents=[common], help="print the version")

    commands.add_parser(
        "doctor", parents=[common], help="check the key, the community's VK settings, the database, the time zone"
    )
    commands.add_parser(
        "setup", parents=[common], help="switch on the community's messages, bot features and Long Poll events"
    )

    run = commands.add_parser("run", parents=[common], help="run the bot against VK (needs vk.token)")
    run.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="N processes behind the callback port (callback mode on PostgreSQL; default: 1)",
    )
    run.add_argument("--listen-fd", type=int, default=None, help=argparse.SUPPRESS)  # a worker of --workers

    sandbox = commands.add_parser(
        "sandbox", parents=[common], help="run the local VK sandbox (and the bot) on this machine"
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    sandbox.add_argument("--no-bot", action="store_true", help="run the sandbox alone, without the bot")
    sandbox.add_argument("--empty", action="store_true", help="start with no demo users")
    sandbox.add_argument(
        "--rps-limit", type=int, default=20, help="requests per second per token, 0 = unlimited (default: 20)"
    )

    flows = commands.add_parser("flows", help="the dialogs the bot offers")
    flow_commands = flows.add_subparsers(dest="flows_command", required=True, metavar="ACTION")
    diagram = flow_commands.add_parser(
        "diagram", parents=[common], help="Mermaid state diagrams of the enabled dialogs, from their tables"
    )
    diagram.add_argument("--output", metavar="FILE", help="write Markdown to FILE instead of printing it")

    timetable = commands.add_parser("timetable", help="import or export a timetable file")
    timetable_commands = timetable.add_subparsers(dest="timetable_command", required=True, metavar="ACTION")
    load = timetable_commands.add_parser(
        "import", parents=[common], help="load a YAML timetable (or a university's .ics with --group)"
    )
    load.add_argument("file", type=Path, help="timetable.yaml (format in the README) or calendar.ics")
    load.add_argument("--group", help="only this group of a YAML file; the group an .ics file belongs to")
    save = timetable_commands.add_parser("export", parents=[common], help="write a group's timetable to a file")
    save.add_argument("--group", required=True, help="study group, e.g. ИВТ-101")
    save.add_argument("--output", required=True, type=Path, help="F.ics (calendar) or F.yaml (import format)")
    save.add_argument("--subgroup", type=int, help="only what this subgroup attends (.ics)")
    save.add_argument("--from", dest="first", type=_date_argument, help="first day (default: semester start)")
    save.add_argument("--to", dest="last", type=_date_argument, help="last day (default: semester end)")

    attendance = commands.add_parser("attendance", help="the attendance register")
    attendance_commands = attendance.add_subparsers(dest="attendance_command", required=True, metavar="ACTION")
    register = attendance_commands.add_parser(
        "export", parents=[common], help="write the register of a period for the dean's office"
    )
    register.add_argument("--group", help="one study group (default: every group, a sheet each)")
    register.add_argument("--from", dest="first", required=True, type=_date_argument, help="first day, 2026-11-01")
    register.add_argument("--to", dest="last", required=True, type=_date_argument, help="last day, 2026-11-30")
    register.add_argument(
        "--format", dest="file_format", choices=EXPORT_FORMATS, help="xlsx or csv (default: the --output extension)"
    )
    register.add_argument("--output", required=True, type=Path, help="register.xlsx or register.csv")

    groups = commands.add_parser("groups", help="the stream's study groups as the database holds them")
    groups_commands = groups.add_subparsers(dest="groups_command", required=True, metavar="ACTION")
    setup_export = groups_commands.add_parser(
        "export", parents=[common], help="print groups, leaders, chats and approval as settings.yaml's `stream`"
    )
    setup_export.add_argument("--community", type=int, metavar="ID", help="one of `communities` (default: vk.group_id)")

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="apply migrations (default: to head)")
    upgrade.add_argument("revision", nargs="?", default="head")
    downgrade = db_commands.add_parser("downgrade", parents=[common], help="revert migrations to REVISION")
    downgrade.add_argument("revision", help="target revision, e.g. base or 0001")
    db_commands.add_parser("current", parents=[common], help="print the schema's revision")
    return parser


EXPORT_FORMATS = ("xlsx", "csv")
TIMETABLE_SUFFIXES = (".ics", ".yaml", ".yml")


def register_format(output: Path, given: str | None) -> str:
    """The register's format follows --output's extension; a --format that contradicts it is a mistake."""
    suffix = output.suffix.lower().lstrip(".")
    if suffix and suffix not in EXPORT_FORMATS:
        raise UsageError(f"--output {output}: the register is written as .xlsx or .csv, not .{suffix}")
    if given and suffix and given != suffix:
        raise UsageError(f"--format {given} but --output {output} is .{suffix}: drop --format or change the extension")
    return given or suffix or "xlsx"


def _check_period(first: date | None, last: date | None) -> None:
    if first is not None and last is not None and first > last:
        raise UsageError(f"--from {first} is after --to {last}: swap them")


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    configure_logging(
        settings.logging.level,
        "json" if args.log_json else settings.logging.format,
        secrets=settings.secrets(),
    )
    return settings


def _printable_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _driver_error(error: SQLAlchemyError) -> BaseException:
    """The driver's own exception says what went wrong (refused connection, bad password); only errors that
    came from the driver (DBAPIError) carry one."""
    return error.orig if isinstance(error, DBAPIError) and error.orig is not None else error


def _database(settings: Settings) -> Database:
    from fsm_bot.storage import Database

    try:
        return Database(settings.database.url, echo=settings.database.echo)
    except (SQLAlchemyError, ValueError) as error:
        raise CommandError(f"database.url {_printable_url(settings.database.url)!r} is not usable: {error}") from None


def _date_argument(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-12-01") from None


def cmd_timetable(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from fsm_bot.services.timetable_files import export_timetable, import_timetable, read_timetable_file
    from fsm_bot.storage import upgrade_to_head
    from fsm_bot.texts import Texts
    from fsm_bot.timetable import TimetableFileError

    if args.timetable_command == "export":
        if args.output.suffix.lower() not in TIMETABLE_SUFFIXES:
            raise UsageError(
                f"--output {args.output}: a timetable is written as .ics (calendar) or .yaml (import format)"
            )
        _check_period(args.first, args.last)
    settings = _settings(args)
    if settings.vk.group_id is None:
        raise ConfigError("vk.group_id is missing: the timetable belongs to a community; put its numeric id there.")
    timezone = ZoneInfo(settings.timezone)
    database = _database(settings)
    try:
        if args.timetable_command == "import":
            try:
                timetable = read_timetable_file(args.file, args.group, timezone)
            except TimetableFileError as error:
                # one problem stays on one line; a file with several lists them, one per line
                separator = "\n" if len(error.errors) > 1 else " "
                raise InputFileError(f"{args.file} was not imported, nothing changed:{separator}{error}") from None
            upgrade_to_head(database.engine)
            summary = import_timetable(database, settings.vk.group_id, timetable)
            for group, count in summary.lessons_by_group.items():
                print(f"{group}: {count} weekly lesson(s)")
            if summary.semester is not None:
                semester = summary.semester
                print(f"semester {semester.start} .. {semester.end}, first week {semester.first_week.value}")
            print("a running bot picks the new timetable up within 5 minutes")
        else:
            upgrade_to_head(database.engine)
            try:
                count = export_timetable(
                    database,
                    settings.vk.group_id,
                    args.group,
                    args.output,
                    timezone,
                    args.first,
                    args.last,
                    args.subgroup,
                    texts=Texts.load(settings.locale),  # a moved lesson's note: the engine's `timetable.moves.*`
                )
            except TimetableFileError as error:
                raise CommandError(str(error)) from None
            print(f"{args.output}: {count} {'lesson(s)' if args.output.suffix.lower() == '.ics' else 'slot(s)'}")
    except SQLAlchemyError as error:
        raise CommandError(f"{_printable_url(database.url)}: {type(error).__name__}: {_driver_error(error)}") from None
    finally:
        database.dispose()
    return EXIT_OK


def cmd_groups(args: argparse.Namespace) -> int:
    from fsm_bot.members.setup_export import read_setup, setup_yaml
    from fsm_bot.storage import upgrade_to_head

    settings = _settings(args)
    known = [settings.vk.group_id, *(community.group_id for community in settings.communities)]
    community_id: int | None = args.community if args.community is not None else settings.vk.group_id
    if community_id is None:
        raise ConfigError("vk.group_id is missing: the groups belong to a community; put its numeric id there.")
    if community_id not in known:
        raise UsageError(f"--community {community_id}: not vk.group_id nor one of `communities` in the settings")
    database = _database(settings)
    try:
        upgrade_to_head(database.engine)
        setup = database.transaction(lambda session: read_setup(session, community_id))
    except SQLAlchemyError as error:
        raise CommandError(f"{_printable_url(database.url)}: {type(error).__name__}: {_driver_error(error)}") from None
    finally:
        database.dispose()
    print(setup_yaml(setup, community_id), end="")
    return EXIT_OK


def cmd_attendance(args: argparse.Namespace) -> int:
    from fsm_bot.services.attendance_files import ExportError, export_register
    from fsm_bot.storage import upgrade_to_head
    from fsm_bot.texts import Texts

    file_format = register_format(args.output, args.file_format)
    _check_period(args.first, args.last)
    settings = _settings(args)
    if settings.vk.group_id is None:
        raise ConfigError("vk.group_id is missing: the register belongs to a community; put its numeric id there.")
    database = _database(settings)
    try:
        upgrade_to_head(database.engine)
        registers = export_register(
            database,
            settings.vk.group_id,
            args.group,
            args.first,
            args.last,
            file_format,
            args.output,
            settings.attendance.hours_per_lesson,
            Texts.load(settings.locale),  # the register's words are the engine's: `register.*`
        )
    except ExportError as error:
        raise CommandError(str(error)) from None
    except OSError as error:
        raise CommandError(f"{args.output}: {error.strerror or error}") from None
    except SQLAlchemyError as error:
        raise CommandError(f"{_printable_url(database.url)}: {type(error).__name__}: {_driver_error(error)}") from None
    finally:
        database.dispose()
    for register in registers:
        print(f"{register.group}: {len(register.students)} student(s), {len(register.lessons)} marked lesson(s)")
    print(f"written to {args.output}")
    return EXIT_OK


def cmd_version(args: argparse.Namespace) -> int:
    print(f"fsm-bot {package_version()}")
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from alembic.util.exc import CommandError as AlembicError

    from fsm_bot.storage import migrate

    settings = _settings(args)
    database = _database(settings)
    where = _printable_url(database.url)
    try:
        if args.db_command == "upgrade":
            revision = migrate.upgrade(database.engine, args.revision)
            print(f"{where}: schema at revision {revision}")
        elif args.db_command == "downgrade":
            revision = migrate.downgrade(database.engine, args.revision)
            print(f"{where}: schema at revision {revision or 'base (empty)'}")
        else:
            print(migrate.current_revision(database.engine) or "base (empty)")
    except AlembicError as error:
        head = migrate.head_revision()
        raise UsageError(f"{error}; revisions run from base to {head} (`fsm-bot db upgrade` goes to head)") from None
    except SQLAlchemyError as error:
        raise CommandError(f"{where}: {type(error).__name__}: {_driver_error(error)}") from None
    finally:
        database.dispose()
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    communities = settings.per_community()
    if not communities:
        settings.require_token()  # says what is missing
    for community in communities:
        community.require_token()
        callback = community.vk.callback
        if community.vk.mode == "callback" and (callback.secret is None or not callback.confirmation):
            raise ConfigError(
                f"community {community.vk.group_id}: callback mode needs vk.callback.secret and "
                "vk.callback.confirmation (Управление -> Работа с API -> Callback API shows both)"
            )
    if args.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if args.listen_fd is None:  # a worker of --workers: its supervisor has checked already
        _check_ready(settings)
    if args.workers > 1:
        from fsm_bot.runtime.workers import run_workers

        return run_workers(settings, args.workers, args.config, args.log_json)
    return _run_bot(settings, args.listen_fd)


def _check_ready(settings: Settings) -> None:
    """VK's side, before the database is touched: a refused key or a missing event, named with its fix."""
    from fsm_bot.runtime.doctor import community_checks, failures

    problems = failures([(f"community {c.vk.group_id}", community_checks(c)) for c in settings.per_community()])
    if problems:
        problems[-1] += " (`fsm-bot doctor` shows the whole checklist)"
        raise NotReady("\n".join(problems))


def cmd_doctor(args: argparse.Namespace) -> int:
    from fsm_bot.runtime.doctor import all_checks, render

    settings = _settings(args)
    if not settings.per_community():
        settings.require_token()
    sections = all_checks(settings)
    print(render(sections))
    failed = sum(result.status == "fail" for _, results in sections for result in results)
    print(f"{failed} problem(s) to fix" if failed else "ready: `fsm-bot run` starts the bot")
    return EXIT_FAILURE if failed else EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
    from fsm_bot.runtime.vk_probe import ProbeError
    from fsm_bot.runtime.vk_setup import set_up_community

    settings = _settings(args)
    communities = settings.per_community()
    if not communities:
        settings.require_token()
    for community in communities:
        community.require_token()
        try:
            for line in set_up_community(community):
                print(f"community {community.vk.group_id}: {line}")
        except ProbeError as error:
            raise NotReady(f"community {community.vk.group_id}: {error}") from None
    return cmd_doctor(args)


def _run_bot(settings: Settings, listen_fd: int | None = None) -> int:
    """Run until SIGINT/SIGTERM: stop taking events, finish those in flight, persist, exit 0."""
    from fsm_bot.engine.registry import FlowNotFound
    from fsm_bot.runtime.bot import BotFailed
    from fsm_bot.runtime.service import Service

    stop_requested = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop_requested.set())
    try:
        service = Service(settings, listen_fd)
        service.start()
        service.wait(stop_requested)
    except FlowNotFound as error:
        raise ConfigError(f"flows: {error}") from None
    except BotFailed as error:
        from fsm_bot.vk.errors import VkAuthError

        if isinstance(error.__cause__, VkAuthError):  # starting again cannot help: a supervisor must stop
            raise NotReady(str(error)) from None
        raise CommandError(str(error)) from None
    except SQLAlchemyError as error:
        raise CommandError(f"{_printable_url(settings.database.url)}: {_driver_error(error)}") from None
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _check_port_free(args.host, args.port)
    if args.no_bot:
        from fsm_bot.sandbox.server import serve

        print(f"fsm_bot sandbox: http://{args.host}:{args.port}/  (Ctrl+C stops it)", flush=True)
        serve(args.host, args.port, demo=not args.empty, rps_limit=args.rps_limit or None)
        return EXIT_OK
    from fsm_bot.runtime.demo import run_sandbox_with_bot

    return run_sandbox_with_bot(
        settings, args.host, args.port, demo=not args.empty, rps_limit=args.rps_limit or None, run_bot=_run_bot
    )


def _check_port_free(host: str, port: int) -> None:
    import socket

    try:
        with socket.create_server((host, port)):
            pass
    except OSError as error:
        raise CommandError(
            f"cannot listen on {host}:{port} ({os.strerror(error.errno) if error.errno else error}): "
            "another program (an earlier sandbox?) holds it; "
            f"stop it or choose another port with --port (make demo PORT=...)"
        ) from None


def cmd_flows(args: argparse.Namespace) -> int:
    from fsm_bot.engine.registry import FlowNotFound, FlowRegistry

    settings = _settings(args)
    try:
        registry = FlowRegistry.from_names(settings.flows)
    except FlowNotFound as error:
        raise ConfigError(f"flows: {error}") from None
    parts = []
    for flow in registry:
        if flow.is_dialog:
            parts.append(f"### {flow.name}\n\n```mermaid\n{flow.mermaid().strip()}\n```\n")
    text = "\n".join(parts)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"{len(parts)} diagram(s) written to {args.output}")
    else:
        print(text)
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "doctor": cmd_doctor,
    "setup": cmd_setup,
    "flows": cmd_flows,
    "version": cmd_version,
    "run": cmd_run,
    "sandbox": cmd_sandbox,
    "db": cmd_db,
    "timetable": cmd_timetable,
    "attendance": cmd_attendance,
    "groups": cmd_groups,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:  # a bare `fsm-bot`: what it can do, not an argparse complaint
        parser.print_help()
        return EXIT_OK
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # inside the try: a reader that left is found here, not at exit
        return code
    except BrokenPipeError:
        # `fsm-bot flows diagram | head`: the reader left; Python's own recipe for a quiet exit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except NotReady as error:
        print(f"fsm-bot: {redact(str(error))}", file=sys.stderr)
        return EXIT_NOT_READY
    except ConfigError as error:
        print(f"fsm-bot: settings error: {error}", file=sys.stderr)
        return EXIT_CONFIG
    except InputFileError as error:
        print(f"fsm-bot: {redact(str(error))}", file=sys.stderr)
        return EXIT_CONFIG
    except CommandError as error:
        print(f"fsm-bot: {redact(str(error))}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
