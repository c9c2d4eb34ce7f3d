"""The `fsm-bot` command as a deployer types it."""

from __future__ import annotations

from pathlib import Path

from fsm_bot.cli import package_version
from fsm_bot.sandbox.client import SandboxClient
from fsm_bot.storage.migrate import head_revision
from tests.support.bots import fsm_bot


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = fsm_bot("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ("run", "sandbox", "db", "version"):
        assert command in result.stdout


def test_every_command_takes_a_config_option(tmp_path: Path) -> None:
    for command in (["run"], ["sandbox"], ["db", "upgrade"], ["version"]):
        result = fsm_bot(*command, "--help", cwd=tmp_path)
        assert result.returncode == 0, command
        assert "--config PATH" in result.stdout, command


def test_sandbox_options(tmp_path: Path) -> None:
    result = fsm_bot("sandbox", "--help", cwd=tmp_path)
    for option in ("--port", "--no-bot", "--empty"):
        assert option in result.stdout


def test_version(tmp_path: Path) -> None:
    result = fsm_bot("version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"fsm-bot {package_version()}"
    assert package_version() != "unknown"


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    result = fsm_bot(
        "db",
        "upgrade",
        cwd=tmp_path,
        env={"FSM_BOT_DATABASE__URL": "postgresql://bot:hunter2-password@127.0.0.1:1/bot"},
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "hunter2-password" not in result.stderr
    assert "127.0.0.1" in result.stderr


def test_db_current_reports_the_revision(tmp_path: Path) -> None:
    assert fsm_bot("db", "current", cwd=tmp_path).stdout.strip() == "base (empty)"
    assert fsm_bot("db", "upgrade", cwd=tmp_path).returncode == 0
    assert fsm_bot("db", "current", cwd=tmp_path).stdout.strip() == head_revision()


def test_run_with_a_revoked_token_stops_with_a_clear_message_and_never_prints_it(
    tmp_path: Path, sandbox: SandboxClient
) -> None:
    token = "vk1.a.SECRET-TOKEN-VALUE-0123456789"
    env = {
        "FSM_BOT_VK__TOKEN": token,
        "FSM_BOT_VK__GROUP_ID": str(sandbox.group_id),
        "FSM_BOT_VK__API_URL": sandbox.api_url,
    }
    result = fsm_bot("run", "--log-json", cwd=tmp_path, env=env)
    assert result.returncode == 3  # not 1: a supervisor must not start it again
    assert token not in result.stderr + result.stdout
    assert "VK refused the community token (error 5" in result.stderr
    assert "Создать ключ" in result.stderr  # what to do
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fsm_bot.db").exists(), "the key is checked before the database is touched"


def test_flows_diagram_draws_the_enabled_dialogs(tmp_path: Path) -> None:
    result = fsm_bot("flows", "diagram", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "### onboarding" in result.stdout and "```mermaid" in result.stdout
    assert "group --> name: chosen" in result.stdout
    assert "title: appoint" in result.stdout


def test_an_unknown_flow_in_settings_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / "settings.yaml").write_text("flows: [help, brodcast]\n", encoding="utf-8")
    result = fsm_bot("flows", "diagram", cwd=tmp_path)
    assert result.returncode == 2
    assert "brodcast" in result.stderr and "Traceback" not in result.stderr
