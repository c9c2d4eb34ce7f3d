"""Fetching a group's timetable feed over HTTP: a conditional GET with a deadline and a size cap.

The bytes are read in chunks and the reading stops past the cap, so a server that sends a 2 GB body (or
one without end) costs at most a megabyte; `timeout` bounds each wait for the server and the deadline the
whole download, so a server that drips a byte a second cannot hold the scheduler's thread. Every failure
comes back as a FeedFailed value: the job that calls this must never raise.
"""

from __future__ import annotations

import time

import requests

from fsm_bot.services.timetable_feed import FeedFailed, FeedFetched, FeedNotModified, FeedOutcome
from fsm_bot.timetable.limits import MAX_FILE_BYTES

FETCH_TIMEOUT = 10.0  # seconds, for the answer and for the whole body
CHUNK = 64 * 1024
USER_AGENT = "fsm-bot (timetable feed)"


def fetch_feed(
    url: str, headers: dict[str, str], timeout: float | None = None, max_bytes: int = MAX_FILE_BYTES
) -> FeedOutcome:
    """GET `url` with the validators in `headers`: 304 -> FeedNotModified, 200 -> FeedFetched, else FeedFailed."""
    timeout = timeout or FETCH_TIMEOUT
    if not url.lower().startswith(("http://", "https://")):
        return FeedFailed("unreachable", "not an http(s) address")
    deadline = time.monotonic() + timeout
    try:
        with requests.get(url, headers={"User-Agent": USER_AGENT, **headers}, stream=True, timeout=timeout) as response:
            if response.status_code == 304:
                return FeedNotModified()
            if response.status_code != 200:
                return FeedFailed("http", str(response.status_code))
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                return FeedFailed("too_big", str(max_bytes // 2**20))
            content = bytearray()
            for chunk in response.iter_content(CHUNK):
                content += chunk
                if len(content) > max_bytes:
                    return FeedFailed("too_big", str(max_bytes // 2**20))
                if time.monotonic() > deadline:
                    return FeedFailed("timeout", f"{timeout:g}")
            return FeedFetched(bytes(content), response.headers.get("ETag"), response.headers.get("Last-Modified"))
    except requests.Timeout:
        return FeedFailed("timeout", f"{timeout:g}")
    except requests.RequestException as error:
        # the class only: a message may quote the address, and a private calendar's carries its secret
        return FeedFailed("unreachable", type(error).__name__)
