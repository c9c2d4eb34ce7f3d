"""vk_api pointed at a configurable base URL, without its built-in throttling and retries.

vk_api 11.10 hard-codes https://api.vk.ru/method/ (vk_api.py, VkApi.method) and has no host
setting, so a transport adapter mounted on that prefix rewrites each request to `vk.api_url`
(the sandbox locally). It also sleeps 0.34 s between calls (RPS_DELAY, sized for user tokens'
3 requests/s) and retries error 6 forever after 0.5 s; the gateway has its own per-token limiter
and bounded retries, so both are switched off here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
import vk_api
from requests.adapters import HTTPAdapter

VK_API_PREFIX = "https://api.vk.ru/method/"
DEFAULT_TIMEOUT = 30.0


class BaseUrlAdapter(HTTPAdapter):
    """Sends what vk_api addresses to api.vk.ru to the configured base URL instead."""

    def __init__(self, base_url: str, timeout: float = DEFAULT_TIMEOUT, pool_maxsize: int = 10) -> None:
        super().__init__(pool_connections=1, pool_maxsize=pool_maxsize)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.timeout = timeout
        self._target = requests.Session()
        self._target.mount(self.base_url, HTTPAdapter(pool_connections=1, pool_maxsize=pool_maxsize))

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        assert request.url is not None
        if request.url.startswith(VK_API_PREFIX):
            request.url = self.base_url + request.url[len(VK_API_PREFIX) :]
        if kwargs.get("timeout") is None:
            # vk_api passes no timeout; a hung VK must not hang a worker forever.
            kwargs["timeout"] = self.timeout
        adapter = self._target.get_adapter(request.url)
        return adapter.send(request, *args, **kwargs)


class GatewayVkApi(vk_api.VkApi):
    """VkApi with throttling and error handlers removed: the gateway decides both."""

    RPS_DELAY = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_handlers: dict[int, Callable[..., Any]] = {}  # error code -> vk_api's retrying handler


def make_session(api_url: str, timeout: float = DEFAULT_TIMEOUT) -> requests.Session:
    session = requests.Session()
    if api_url.rstrip("/") + "/" != VK_API_PREFIX:
        session.mount(VK_API_PREFIX, BaseUrlAdapter(api_url, timeout))
    return session


def make_vk_api(token: str, api_url: str, api_version: str, timeout: float = DEFAULT_TIMEOUT) -> GatewayVkApi:
    """A vk_api session for one community token, talking to `api_url`."""
    return GatewayVkApi(token=token, api_version=api_version, session=make_session(api_url, timeout))
