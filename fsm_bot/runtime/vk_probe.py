"""A bare VK method call for `fsm-bot doctor` and `fsm-bot setup`: one request, no retries, no pacing.

The bot's own client (fsm_bot.vk) retries and paces because it runs for months; the doctor asks a handful of
questions once and must report a refusal as it is (error 5 is the answer it is looking for, not a failure to
retry), so it talks to VK directly, the way VK_PROTOCOL.md describes the transport.
"""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT_SECONDS = 15.0


class ProbeError(Exception):
    """VK answered with an error (``code`` as VK numbers it), or could not be reached (``code`` 0)."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: VK error {code}: {message}" if code else f"{method}: VK is unreachable: {message}")
        self.method = method
        self.code = code
        self.message = message


class VkProbe:
    def __init__(self, api_url: str, token: str, api_version: str) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.token = token
        self.api_version = api_version
        self.http = requests.Session()

    def call(self, method: str, **params: Any) -> Any:
        """The ``response`` of one call; ProbeError for VK's ``error`` or an unreachable VK."""
        data = {key: value for key, value in params.items() if value is not None}
        data["v"] = self.api_version
        try:
            answer = self.http.post(
                self.api_url + method,
                data=data,
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=TIMEOUT_SECONDS,
            )
            body = answer.json()
        except (requests.RequestException, ValueError) as error:
            # the exception's text may hold the URL, never the token (it travels in a header)
            raise ProbeError(method, 0, type(error).__name__) from None
        if "error" in body:
            refusal = body["error"]
            raise ProbeError(method, int(refusal.get("error_code", 0)) or -1, str(refusal.get("error_msg", "")))
        return body.get("response")

    def close(self) -> None:
        self.http.close()
