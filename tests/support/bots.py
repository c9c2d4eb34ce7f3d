"""Bots to talk to: one in this process (`start_bot`) or the real `fsm-bot run` process (`bot_process`).

The two fixtures are offered to every test by tests/conftest.py; a bot runs against the sandbox on each
database backend in turn (the `database_url` fixture), with the test flows of tests/engine/sample_flows.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from fsm_bot.config import DEFAULT_FLOWS, Settings
from fsm_bot.runtime.bot import Bot
from fsm_bot.sandbox.client import SandboxClient

ROOT = Path(__file__).resolve().parents[2]
StartBot = Callable[..., Bot]
TEST_FLOWS = [
    *DEFAULT_FLOWS,
    "tests.engine.sample_flows:survey",
    "tests.engine.sample_flows:leaders_only",
    "tests.engine.sample_flows:crash",
    "tests.engine.sample_flows:slow",
    "tests.engine.sample_flows:remind",
    "tests.engine.sample_flows:refused",
    "tests.engine.sample_flows:stuck",
]


def bot_settings(sandbox: SandboxClient, database_url: str, **overrides: object) -> Settings:
    """Settings for a bot on the sandbox's community; a dict override is merged into its section."""
    community = sandbox.community()
    values: dict = {
        "vk": {"token": community["tokens"][0], "group_id": community["group_id"], "api_url": community["api_url"]},
        "database": {"url": database_url},
        "flows": TEST_FLOWS,
        "engine": {"workers": 8, "sweep_seconds": 1},
        # The stories here set up their own study groups; tests/members/ covers the zero configuration.
        "stream": {"community_group": False},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(**values)


@pytest.fixture
def start_bot(sandbox: SandboxClient, database_url: str) -> Iterator[StartBot]:
    """Start a bot (or several, one after the other); every one is stopped at the end."""
    bots: list[Bot] = []

    def start(**overrides: object) -> Bot:
        bot = Bot(bot_settings(sandbox, database_url, **overrides))
        bot.start()
        bots.append(bot)
        return bot

    yield start
    for bot in bots:
        bot.stop()


class BotProcess:
    """`fsm-bot run` in a child process, with its log in a file the test can read."""

    def __init__(self, config: Path, log: Path) -> None:
        self.config, self.log = config, log
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "fsm_bot.cli", "run", "--config", str(self.config)]

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("FSM_BOT_")}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
            )
        runs = self.log.read_text(encoding="utf-8").count("is running")
        deadline = time.monotonic() + 30
        while self.log.read_text(encoding="utf-8").count("is running") == runs:
            assert self.process.poll() is None, self.log.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the bot did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def _community_settings(sandbox: SandboxClient, database_url: str) -> dict:
    community = sandbox.community()
    return {
        "vk": {"token": community["tokens"][0], "group_id": community["group_id"], "api_url": community["api_url"]},
        "database": {"url": database_url},
    }


@contextmanager
def process_with(tmp_path: Path, settings: dict) -> Iterator[BotProcess]:
    """The real process for these settings (not started yet), killed at the end if the test left it running."""
    config = tmp_path / "settings.yaml"
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    process = BotProcess(config, tmp_path / "bot.log")
    try:
        yield process
    finally:
        if process.process is not None and process.process.poll() is None:
            process.kill()


@contextmanager
def group_process(
    sandbox: SandboxClient, database_url: str, tmp_path: Path, headman: int, **overrides: object
) -> Iterator[BotProcess]:
    """The real process with every flow, ИВТ-101 led by `headman` (the crash stories' bot); overrides are sections."""
    settings = {**_community_settings(sandbox, database_url), "stream": {"groups": {"ИВТ-101": {"headman": headman}}}}
    with process_with(tmp_path, {**settings, **overrides}) as process:
        yield process


@pytest.fixture
def bot_process(sandbox: SandboxClient, database_url: str, tmp_path: Path) -> Iterator[BotProcess]:
    """The real process (not started yet), auto-approving newcomers, with 6-second dialog timeouts."""
    settings = {
        **_community_settings(sandbox, database_url),
        "flows": TEST_FLOWS,
        "stream": {"auto_approve": True, "community_group": False},
        "engine": {"dialog_timeout_seconds": 6, "sweep_seconds": 1},
    }
    with process_with(tmp_path, settings) as process:
        yield process


def fsm_bot(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`fsm-bot ARGS` as a deployer runs it, with none of this shell's FSM_BOT_* settings."""
    clean_env = {key: value for key, value in os.environ.items() if not key.startswith("FSM_BOT_")}
    return subprocess.run(
        [sys.executable, "-m", "fsm_bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean_env, **(env or {})},
        timeout=60,
    )
