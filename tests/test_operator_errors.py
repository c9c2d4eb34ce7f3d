"""The operator's first hour: every mistake is one line saying what to do, with its exit code (2 for settings)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from fsm_bot.cli import UsageError, package_version, register_format
from fsm_bot.config import Settings
from fsm_bot.runtime.demo import SANDBOX_DATABASE, forget_demo_database
from tests.support.bots import fsm_bot

GROUP = {"FSM_BOT_VK__GROUP_ID": "227000001"}


def _one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


def test_a_misspelt_environment_variable_is_blamed_on_itself(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("vk:\n  group_id: 1\n", encoding="utf-8")
    line = _one_line(fsm_bot("db", "current", cwd=tmp_path, env={"FSM_BOT_VK__TOKNE": "x"}), 2)
    assert "environment variable FSM_BOT_VK__TOKNE: vk.tokne: unknown key" in line
    assert "settings.yaml" not in line


def test_an_unknown_section_in_the_environment_is_named(tmp_path: Path) -> None:
    line = _one_line(fsm_bot("db", "current", cwd=tmp_path, env={"FSM_BOT_V__TOKEN": "x"}), 2)
    assert "FSM_BOT_V__TOKEN" in line and "FSM_BOT_VK__TOKEN" in line


def test_dot_env_beside_the_settings_is_read_and_other_programs_lines_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "POSTGRES_PASSWORD=compose-only\nFSM_BOT_DATABASE__URL=sqlite:///from-dotenv.db\n", encoding="utf-8"
    )
    result = fsm_bot("db", "upgrade", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-dotenv.db").exists()
    (tmp_path / ".env").write_text("FSM_BOT_VK__GROUP_ID=abc\n", encoding="utf-8")
    assert ".env: FSM_BOT_VK__GROUP_ID: vk.group_id" in _one_line(fsm_bot("db", "current", cwd=tmp_path), 2)


def test_the_environment_wins_over_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FSM_BOT_DATABASE__URL=sqlite:///from-dotenv.db\n", encoding="utf-8")
    (tmp_path / "settings.yaml").write_text("timezone: Asia/Tomsk\n", encoding="utf-8")
    assert Settings(_env_file=tmp_path / ".env").database.url == "sqlite:///from-dotenv.db"  # type: ignore[call-arg]
    result = fsm_bot("db", "upgrade", cwd=tmp_path, env={"FSM_BOT_DATABASE__URL": "sqlite:///from-env.db"})
    assert result.returncode == 0 and (tmp_path / "from-env.db").exists()
    assert not (tmp_path / "from-dotenv.db").exists()


def test_an_unsupported_database_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("database:\n  url: mysql://bot:pw@localhost/bot\n", encoding="utf-8")
    line = _one_line(fsm_bot("db", "upgrade", cwd=tmp_path), 2)
    assert "database.url (line 2)" in line and "postgresql://" in line and "pw" not in line


def test_an_unknown_revision_is_one_line(tmp_path: Path) -> None:
    assert "9999" in _one_line(fsm_bot("db", "upgrade", "9999", cwd=tmp_path), 2)


def test_global_options_work_before_and_after_the_command(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("flows: [nosuchflow]\n", encoding="utf-8")
    for args in (["--config", "mine.yaml", "flows", "diagram"], ["flows", "diagram", "--config", "mine.yaml"]):
        assert "nosuchflow" in _one_line(fsm_bot(*args, cwd=tmp_path), 2), args


def test_version_option_and_a_bare_command_list(tmp_path: Path) -> None:
    assert fsm_bot("--version", cwd=tmp_path).stdout.strip() == f"fsm-bot {package_version()}"
    bare = fsm_bot(cwd=tmp_path)
    assert bare.returncode == 0 and "error" not in bare.stderr
    for command in ("run", "doctor", "setup", "sandbox", "timetable", "attendance", "db"):
        assert f"\n    {command} " in bare.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--output", "reg.pdf"], "not .pdf"),
        (["--output", "reg.xlsx", "--format", "csv"], "--format csv but --output reg.xlsx"),
        (["--output", "reg.csv", "--to", "2026-10-01"], "--from 2026-11-01 is after --to 2026-10-01"),
    ],
)
def test_register_export_mistakes(tmp_path: Path, args: list[str], expected: str) -> None:
    base = {"--from": "2026-11-01", "--to": "2026-11-30"}
    for index in range(0, len(args), 2):
        base[args[index]] = args[index + 1]
    flat = [part for pair in base.items() for part in pair]
    assert expected in _one_line(fsm_bot("attendance", "export", *flat, cwd=tmp_path, env=GROUP), 2)
    assert not list(tmp_path.glob("reg.*"))


def test_the_register_format_follows_the_extension() -> None:
    assert register_format(Path("reg.csv"), None) == "csv"
    assert register_format(Path("REG.XLSX"), None) == "xlsx"
    assert register_format(Path("reg.csv"), "csv") == "csv"
    assert register_format(Path("register"), "csv") == "csv"  # no extension: --format decides
    assert register_format(Path("register"), None) == "xlsx"
    with pytest.raises(UsageError):
        register_format(Path("reg.csv"), "xlsx")


def test_timetable_export_mistakes(tmp_path: Path) -> None:
    assert ".ics" in _one_line(fsm_bot("timetable", "export", "--group", "А", "--output", "x.txt", cwd=tmp_path), 2)
    reversed_period = fsm_bot(
        "timetable",
        "export",
        "--group",
        "А",
        "--output",
        "x.ics",
        "--from",
        "2026-12-01",
        "--to",
        "2026-11-01",
        cwd=tmp_path,
    )
    assert "swap them" in _one_line(reversed_period, 2)


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        line = _one_line(fsm_bot("sandbox", "--port", str(port), cwd=tmp_path), 1)
    assert f"127.0.0.1:{port}" in line and "--port" in line


def test_a_reader_that_leaves_early_is_no_traceback(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "fsm_bot.cli", "flows", "diagram"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # `| head` that has read enough, before the diagram is written
    stderr = process.stderr.read()
    process.wait(60)
    assert "Traceback" not in stderr and "BrokenPipeError" not in stderr, stderr


def test_the_demo_starts_from_a_clean_bot_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("fsm_bot_sandbox.db", "fsm_bot_sandbox.db-wal", "fsm_bot_sandbox.db-shm", "fsm_bot.db"):
        (tmp_path / name).write_text("old", encoding="utf-8")
    forget_demo_database(Settings(database={"url": "sqlite:///fsm_bot.db"}))  # the deployer's: kept
    assert len(list(tmp_path.iterdir())) == 4
    forget_demo_database(Settings(database={"url": SANDBOX_DATABASE}))
    assert [path.name for path in tmp_path.iterdir()] == ["fsm_bot.db"]
