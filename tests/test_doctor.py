"""`fsm-bot doctor`, `fsm-bot setup` and `run`'s start: a community set up halfway, as a deployer leaves it."""

from __future__ import annotations

import sys
from pathlib import Path

import vk_api

from fsm_bot.runtime.workers import Supervisor
from fsm_bot.sandbox.client import SandboxClient
from tests.support.bots import fsm_bot


def _env(sandbox: SandboxClient, **more: str) -> dict[str, str]:
    return {
        "FSM_BOT_VK__TOKEN": sandbox.token,
        "FSM_BOT_VK__GROUP_ID": str(sandbox.group_id),
        "FSM_BOT_VK__API_URL": sandbox.api_url,
        **more,
    }


def _long_poll_events(sandbox_vk: vk_api.VkApi, group_id: int) -> dict[str, int]:
    return sandbox_vk.method("groups.getLongPollSettings", {"group_id": group_id})["events"]


def test_a_ready_community_passes_every_check(tmp_path: Path, sandbox: SandboxClient) -> None:
    result = fsm_bot("doctor", cwd=tmp_path, env=_env(sandbox))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("access key", "key rights", "community messages", "Long Poll API", "database", "time zone"):
        assert f"✓ {name}" in result.stdout
    assert "✗" not in result.stdout
    assert not (tmp_path / "fsm_bot.db").exists(), "the doctor creates no database"


def test_message_event_off_is_named_refused_at_start_and_switched_on_by_setup(
    tmp_path: Path, sandbox: SandboxClient, sandbox_vk: vk_api.VkApi
) -> None:
    sandbox_vk.method("groups.setLongPollSettings", {"group_id": sandbox.group_id, "message_event": 0})

    doctor = fsm_bot("doctor", cwd=tmp_path, env=_env(sandbox))
    assert doctor.returncode == 1
    assert "✗ Long Poll API: event(s) message_event off" in doctor.stdout
    assert "Типы событий: tick «Действие с сообщением» (message_event)" in doctor.stdout

    run = fsm_bot("run", cwd=tmp_path, env=_env(sandbox))
    assert run.returncode == 3
    assert "message_event" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "fsm_bot.db").exists(), "run refused before touching the database"

    setup = fsm_bot("setup", cwd=tmp_path, env=_env(sandbox))
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "Long Poll API: on" in setup.stdout
    assert _long_poll_events(sandbox_vk, sandbox.group_id)["message_event"] == 1
    assert "✓ Long Poll API" in setup.stdout


def test_setup_keeps_events_switched_on_for_other_programs(
    tmp_path: Path, sandbox: SandboxClient, sandbox_vk: vk_api.VkApi
) -> None:
    sandbox_vk.method("groups.setLongPollSettings", {"group_id": sandbox.group_id, "wall_post_new": 1, "enabled": 0})
    assert fsm_bot("setup", cwd=tmp_path, env=_env(sandbox)).returncode == 0
    settings = sandbox_vk.method("groups.getLongPollSettings", {"group_id": sandbox.group_id})
    assert settings["is_enabled"] and settings["events"]["wall_post_new"] == 1


def test_messages_and_bot_features_off_are_named_with_where_to_click(tmp_path: Path, sandbox: SandboxClient) -> None:
    sandbox.set_community(messages=False, bots_capabilities=False)
    doctor = fsm_bot("doctor", cwd=tmp_path, env=_env(sandbox))
    assert doctor.returncode == 1
    assert "community messages are off; bot features are off" in doctor.stdout
    assert "Сообщения сообщества: Включены" in doctor.stdout
    assert "Возможности ботов: Включены" in doctor.stdout
    assert fsm_bot("setup", cwd=tmp_path, env=_env(sandbox)).returncode == 0
    assert sandbox.set_community()["messages"] is True


def test_a_key_without_the_administration_right_cannot_set_up(tmp_path: Path, sandbox: SandboxClient) -> None:
    sandbox.set_community(token_permissions=["messages", "docs"])
    doctor = fsm_bot("doctor", cwd=tmp_path, env=_env(sandbox))
    assert "✗ key rights: the key lacks manage" in doctor.stdout
    assert "доступ к администрированию сообщества" in doctor.stdout
    setup = fsm_bot("setup", cwd=tmp_path, env=_env(sandbox))
    assert setup.returncode == 3
    assert "administration right" in setup.stderr and "Traceback" not in setup.stderr


def test_a_key_of_another_community_is_named(tmp_path: Path, sandbox: SandboxClient) -> None:
    result = fsm_bot("doctor", cwd=tmp_path, env=_env(sandbox, FSM_BOT_VK__GROUP_ID="42"))
    assert result.returncode == 1
    assert f"the key belongs to community {sandbox.group_id}, but vk.group_id is 42" in result.stdout


def test_workers_with_a_revoked_token_stop_at_once_with_one_line(tmp_path: Path, sandbox: SandboxClient) -> None:
    env = _env(
        sandbox,
        FSM_BOT_VK__TOKEN="revoked-token",
        FSM_BOT_VK__MODE="callback",
        FSM_BOT_VK__CALLBACK__SECRET="s3cret",
        FSM_BOT_VK__CALLBACK__CONFIRMATION="5a4db0c1",
        FSM_BOT_VK__CALLBACK__PORT="1",  # never bound: the key is refused first
        FSM_BOT_DATABASE__URL="postgresql://bot@127.0.0.1:1/never",
    )
    result = fsm_bot("run", "--workers", "4", cwd=tmp_path, env=env)
    assert result.returncode == 3
    assert result.stderr.count("VK refused the community token") == 1, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_callback_mode_without_a_secret_is_a_settings_error_before_anything_else(
    tmp_path: Path, sandbox: SandboxClient
) -> None:
    result = fsm_bot("run", cwd=tmp_path, env=_env(sandbox, FSM_BOT_VK__MODE="callback"))
    assert result.returncode == 2
    assert "vk.callback.secret" in result.stderr
    assert sandbox.stats()["requests"] == 0  # no member sync, not even a VK call


class _ChildThatIsRefused(Supervisor):
    """Children that exit as a worker does when VK refuses its key mid-run (`fsm-bot run` exits 3)."""

    started = 0

    def command(self) -> list[str]:
        type(self).started += 1
        return [sys.executable, "-c", "import sys; sys.exit(3)"]


def test_the_supervisor_stops_every_worker_when_one_is_refused() -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as sock:
        supervisor = _ChildThatIsRefused(3, None, False, sock)
        assert supervisor.run() == 3
    assert _ChildThatIsRefused.started == 3, "no worker was started again"


def test_callback_mode_checks_the_servers_events_and_setup_ticks_them(
    tmp_path: Path, sandbox: SandboxClient, sandbox_vk: vk_api.VkApi
) -> None:
    env = _env(
        sandbox,
        FSM_BOT_VK__MODE="callback",
        FSM_BOT_VK__CALLBACK__SECRET="s3cret",
        FSM_BOT_VK__CALLBACK__CONFIRMATION="5a4db0c1",
    )
    first = fsm_bot("doctor", cwd=tmp_path, env=env)
    assert first.returncode == 0 and "! Callback API: no Callback API server is configured yet" in first.stdout
    sandbox.set_callback("http://127.0.0.1:9/callback", "s3cret")  # nothing listens: only its settings matter
    [server] = sandbox_vk.method("groups.getCallbackServers", {"group_id": sandbox.group_id})["items"]
    sandbox_vk.method(
        "groups.setCallbackSettings", {"group_id": sandbox.group_id, "server_id": server["id"], "message_event": 0}
    )
    doctor = fsm_bot("doctor", cwd=tmp_path, env=env)
    assert doctor.returncode == 1 and "event(s) message_event off" in doctor.stdout
    assert fsm_bot("setup", cwd=tmp_path, env=env).returncode == 0
    found = sandbox_vk.method("groups.getCallbackSettings", {"group_id": sandbox.group_id, "server_id": server["id"]})
    assert found["events"]["message_event"] == 1
