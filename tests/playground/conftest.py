"""The web playground as a newcomer meets it: `fsm-bot sandbox` in a fresh folder, a real Chromium on its page.

The browser is Debian's chromium (`apt-get install chromium`; `.ci/run` installs it) driven by Playwright for
Python, which downloads nothing here. Without chromium (or Playwright) the tests skip and say why, except
when `CI` is set: there a skip would pass a broken setup off as green, so it is a failure.

One `fsm-bot sandbox` (sandbox and bot) serves the whole module, as it would serve one newcomer trying
things in turn; each test plays people of its own and gets a fresh browser context. Every test leaves a
screenshot of its final state in the artifacts folder (`FSM_BOT_TEST_ARTIFACTS`, or test-artifacts/playground).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from fsm_bot.sandbox.client import SandboxClient

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1280, "height": 800}
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS_ENV = "FSM_BOT_TEST_ARTIFACTS"
START_TIMEOUT = 60.0  # migrations, member sync and the first long poll; seconds on a slow CI machine
STOP_TIMEOUT = 30.0
SETTINGS = "engine:\n  sweep_seconds: 1\n"
EXPECT_TIMEOUT_MS = 15_000


def _require_browser() -> None:
    """Skip without a browser, but fail in CI, where a skip would hide a broken setup."""
    if not CHROMIUM.exists():
        problem = f"the playground tests need Debian's chromium at {CHROMIUM} (apt-get install chromium)"
    elif importlib.util.find_spec("playwright") is None:
        problem = "the playground tests need Playwright for Python (pip install -e '.[test]')"
    else:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{problem}; CI must run them")
    pytest.skip(problem)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Playground:
    """The running `fsm-bot sandbox`: its URL, a control API client to cross-check with, and its output."""

    url: str
    sandbox: SandboxClient
    log: Path

    def bot_connected(self) -> bool:
        """The bot holds a long poll (what the page's «бот в сети» shows)."""
        answer = requests.get(f"{self.url}/sandbox/playground/poll", timeout=5).json()
        return answer["stats"]["held_polls"] > 0


def _wait_until_ready(playground: Playground, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if playground.bot_connected():
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    output = playground.log.read_text(encoding="utf-8", errors="replace")[-4000:]
    raise RuntimeError(f"`fsm-bot sandbox` did not get ready (exit code {process.poll()}):\n{output}")


@pytest.fixture(scope="module")
def playground(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Playground]:
    """`fsm-bot sandbox --port <free>` run from an empty folder, so its database and log land there."""
    _require_browser()
    folder = tmp_path_factory.mktemp("playground")
    (folder / "settings.yaml").write_text(SETTINGS, encoding="utf-8")
    port = _free_port()
    log = folder / "fsm-bot-sandbox.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("FSM_BOT_")}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "fsm_bot.cli", "sandbox", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    running = Playground(url, SandboxClient(url), log)
    try:
        _wait_until_ready(running, process)
        yield running
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C, as a newcomer stops it
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_browser()
    from playwright.sync_api import expect, sync_playwright

    # The bot answers in a second or two, but a fault makes it back off and retry for several seconds.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    folder = Path(os.environ.get(ARTIFACTS_ENV) or ROOT / "test-artifacts" / "playground")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def open_page(browser: Any, playground: Playground, artifacts: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """`open_page()` opens the playground in a fresh window (a test may open two: two people at once).

    After the test each window's final state is saved as a screenshot, and a script error on the page
    (an uncaught exception) fails the test: the page must work, not just look right.
    """
    opened: list[tuple[Any, list[str]]] = []

    def open_new() -> Any:
        context = browser.new_context(viewport=VIEWPORT, locale="ru-RU")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(playground.url + "/")
        opened.append((page, errors))
        return page

    yield open_new
    failures = []
    for index, (page, errors) in enumerate(opened):
        suffix = f"-{index + 1}" if len(opened) > 1 else ""
        page.screenshot(path=str(artifacts / f"{request.node.name}{suffix}.png"), animations="disabled")
        page.context.close()
        failures += errors
    assert failures == [], f"script errors on the playground page: {failures}"
