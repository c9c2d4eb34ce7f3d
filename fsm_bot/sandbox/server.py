"""Running the sandbox: in a background thread (tests, embedding) or blocking (the ``fsm-bot sandbox`` CLI)."""

from __future__ import annotations

import importlib.util
import logging
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

from .app import create_app
from .state import DEFAULT_RPS_LIMIT, GROUP_ID, Sandbox

logger = logging.getLogger(__name__)

START_TIMEOUT = 10.0
# Held long polls must not keep a stopping server alive for their whole ``wait``.
GRACEFUL_SHUTDOWN = 3  # held long polls answer within Longpoll CLOSING_CHECK (1 s) of a stop


def _config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="asyncio",
        lifespan="off",
        access_log=False,
        log_config=None,  # leave logging to the program (the CLI configures it)
        timeout_keep_alive=75,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN,
    )


class SandboxServer:
    """The sandbox on a port of its own, served from a background thread.

    >>> server = SandboxServer(port=0)
    >>> url = server.start()   # "http://127.0.0.1:<free port>"
    >>> server.stop()
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        demo: bool = False,
        rps_limit: int | None = DEFAULT_RPS_LIMIT,
        *,
        group_id: int = GROUP_ID,
    ) -> None:
        self.host = host
        self.port = port
        self.sandbox = Sandbox(rps_limit=rps_limit, demo=demo, group_id=group_id)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Bind (port 0: a free one), serve in a daemon thread, and return the base URL once it answers."""
        if self._server is not None:
            raise RuntimeError("the sandbox server is already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto must say TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto is IPPROTO_TCP,
        # and without it every answer waits ~40 ms (Nagle against delayed ACK between headers and body).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(_config(create_app(self.sandbox), self.host, self.port))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fsm-bot-sandbox", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the sandbox server failed to start (see the log)")
            time.sleep(0.01)
        logger.info("VK sandbox serving at %s", self.url)
        return self.url

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self.sandbox.closing = True
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT)
        self._server = self._thread = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    demo: bool = True,
    rps_limit: int | None = DEFAULT_RPS_LIMIT,
    group_id: int = GROUP_ID,
) -> None:
    """Serve the sandbox until interrupted (Ctrl+C); reports only through ``logging``."""
    sandbox = Sandbox(rps_limit=rps_limit, demo=demo, group_id=group_id)
    base = f"http://{host}:{port}"
    users = "demo stream loaded" if demo else "no users"
    logger.info("VK sandbox at %s (API %s/method/, control API %s/sandbox/; %s)", base, base, base, users)
    uvicorn.Server(_config(create_app(sandbox), host, port)).run()
