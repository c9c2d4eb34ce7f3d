"""A requests transport adapter whose connections another thread can cut, to stop a held long poll at once.

VK holds a Bots Long Poll request for up to `wait` seconds (25 by default, 90 at most) when nothing
happens. `requests.Session.close()` only closes idle pooled connections, not the one a poll is blocked
on, so without this a bot asked to stop would wait for VK. Shutting the socket down wakes the blocked
read immediately (requests raises ConnectionError), and after `abort()` no new connection is opened.

The hook is urllib3's documented `ConnectionCls` of a pool class (via `PoolManager.pool_classes_by_scheme`):
each connection registers its socket when it connects. Proxied connections (HTTPS_PROXY) are not
tracked; with a proxy, stopping falls back to waiting for the poll to end.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import weakref
from collections.abc import Callable
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class AbortableAdapter(HTTPAdapter):
    """HTTPAdapter with `abort()`: shuts down every socket it opened, and refuses to open more."""

    def __init__(self) -> None:
        # Set before super().__init__, which calls init_poolmanager.
        self._lock = threading.Lock()
        self._sockets: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self._aborted = False
        super().__init__(pool_connections=1, pool_maxsize=2)

    @property
    def aborted(self) -> bool:
        return self._aborted

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _tracking_pool(HTTPConnectionPool, self._track),
            "https": _tracking_pool(HTTPSConnectionPool, self._track),
        }

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if self._aborted:
            raise requests.ConnectionError("the connection was aborted: the source is stopping")
        return super().send(request, *args, **kwargs)

    def abort(self) -> None:
        """Cut every open connection now (from any thread); later requests fail with ConnectionError."""
        with self._lock:
            self._aborted = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def _track(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if not self._aborted:
                self._sockets.add(sock)
                return
        _shutdown(sock)  # connected while abort() ran


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its owner
        sock.shutdown(socket.SHUT_RDWR)


def _tracking_pool(
    base: type[HTTPConnectionPool], track: Callable[[socket.socket | None], None]
) -> type[HTTPConnectionPool]:
    """A subclass of `base` whose connections report their socket to `track` once connected."""
    connection_cls = base.ConnectionCls

    def connect(self: HTTPConnection) -> None:
        connection_cls.connect(self)
        track(self.sock)

    tracking_connection = type(f"Tracking{connection_cls.__name__}", (connection_cls,), {"connect": connect})
    return type(f"Tracking{base.__name__}", (base,), {"ConnectionCls": tracking_connection})
