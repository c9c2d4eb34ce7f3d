"""Garbage in: VK-style errors or 4xx out, never a 500, and the server keeps answering."""

from __future__ import annotations

import json
from urllib.parse import quote

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsm_bot.sandbox.methods import METHODS

JSON = {"content-type": "application/json"}  # the control API takes JSON bodies only (control_guard.py)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
PARAM_NAMES = [
    "peer_id",
    "peer_ids",
    "user_id",
    "user_ids",
    "message",
    "random_id",
    "keyboard",
    "attachment",
    "forward",
    "forward_messages",
    "group_id",
    "count",
    "offset",
    "fields",
    "filter",
    "code",
    "event_id",
    "event_data",
    "message_id",
    "conversation_message_id",
    "message_ids",
    "cmids",
    "delete_for_all",
    "type",
    "file",
    "photo",
    "server",
    "hash",
    "rev",
    "chat_id",
    "server_id",
    "url",
    "title",
    "enabled",
    "message_new",
    "v",
]
values = st.one_of(
    st.text(max_size=60),
    st.integers(-(2**64), 2**64).map(str),
    st.sampled_from(["", "0", "1", "-1", "2000000001", "100001", "{}", "[]", '{"buttons":[]}', "null", "1,2,3"]),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
        max_leaves=12,
    ).map(json.dumps),
)
method_names = st.one_of(st.sampled_from(sorted(METHODS)), st.text(min_size=1, max_size=30))


def _prepare(sandbox) -> None:
    """Once per test function: no rate limit, and a user, a silent user and a chat for the garbage to hit."""
    if not sandbox.users():
        sandbox.reset(rps_limit=None)
        anna = sandbox.add_user()["id"]  # 100001: the strategies above name this id
        sandbox.add_user(allow_messages=False)
        sandbox.create_chat("Беседа", [anna])  # 2000000001


def _assert_vk_answer(response: requests.Response) -> None:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) in ({"response"}, {"error"}, {"response", "execute_errors"}), body
    if "error" in body:
        assert isinstance(body["error"]["error_code"], int)
        assert body["error"]["error_code"] != 10, body  # 10 here would be a sandbox bug (no faults are set)


@FUZZ
@given(method=method_names, params=st.dictionaries(st.sampled_from(PARAM_NAMES), values, max_size=8))
def test_garbage_params_get_vk_errors(sandbox, sandbox_server, method, params):
    _prepare(sandbox)
    response = requests.post(
        f"{sandbox.api_url}{quote(method, safe='')}", data={**params, "access_token": sandbox.token}, timeout=10
    )
    _assert_vk_answer(response)
    assert sandbox_server.sandbox.internal_errors == 0


vkscript = st.lists(
    st.sampled_from(
        [
            "var",
            "a",
            "=",
            "1",
            ";",
            "return",
            "[",
            "]",
            "{",
            "}",
            "(",
            ")",
            "API.users.get",
            "API.utils.getServerTime",
            "while",
            "if",
            "else",
            ".",
            "length",
            "push",
            ",",
            '"s"',
            "'q'",
            "+",
            "-",
            "*",
            "/",
            "%",
            "<",
            "==",
            "&&",
            "!",
            "true",
            "null",
            "1.5e3",
            ":",
            "x",
            "\\",
            '"',
            "1e999",
        ]
    ),
    max_size=25,
).map(" ".join)


@FUZZ
@given(code=st.one_of(vkscript, st.text(max_size=80)))
def test_garbage_execute_code_gets_vk_errors(sandbox, sandbox_server, code):
    _prepare(sandbox)
    response = requests.post(
        f"{sandbox.api_url}execute", data={"code": code, "access_token": sandbox.token}, timeout=10
    )
    _assert_vk_answer(response)
    assert sandbox_server.sandbox.internal_errors == 0


control_paths = st.sampled_from(
    [
        "reset",
        "community",
        "users",
        "users/{u}",
        "users/{u}/send",
        "users/{u}/press",
        "users/{u}/messages",
        "users/{u}/snackbars",
        "faults",
        "stats",
        "log",
        "chats",
        "chats/{c}",
        "chats/{c}/send",
        "chats/{c}/press",
        "chats/{c}/messages",
        "users/{x}",
        "users/{x}/send",
        "chats/{x}/press",
    ]
)
json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "text",
                    "first_name",
                    "id",
                    "role",
                    "member",
                    "allow_messages",
                    "payload",
                    "label",
                    "row",
                    "col",
                    "message_id",
                    "from_id",
                    "member_ids",
                    "title",
                    "target",
                    "kind",
                    "count",
                    "rps_limit",
                    "attachments",
                    "fwd_messages",
                    "conversation_message_id",
                    "bot_is_admin",
                ]
            )
            | st.text(max_size=6),
            children,
            max_size=5,
        )
    ),
    max_leaves=15,
)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
    path=control_paths,
    body=st.one_of(json_bodies.map(lambda b: json.dumps(b).encode()), st.binary(max_size=40)),
    x=st.text(max_size=8).filter(lambda s: "/" not in s and "?" not in s and "#" not in s),
    since=st.none() | st.text(max_size=5),
)
def test_garbage_control_requests_get_4xx_json(sandbox, method, path, body, x, since):
    user = sandbox.users()[0]["id"] if sandbox.users() else sandbox.add_user()["id"]
    path = path.format(u=user, c=2_000_000_001, x=x)
    params = {"since": since} if since is not None else None
    response = requests.request(
        method, f"{sandbox.url}/sandbox/{path}", data=body, params=params, headers=JSON, timeout=10
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert isinstance(response.json()["error"], str)


@FUZZ
@given(params=st.dictionaries(st.sampled_from(["act", "key", "ts", "wait", "mode", "version"]), values, max_size=5))
def test_garbage_long_poll_params_get_long_poll_answers(sandbox, longpoll, params):
    params = {k: v for k, v in params.items() if k != "wait"}  # never hold the test for real
    response = requests.get(longpoll.server, params={**params, "wait": 0}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert "failed" in body or set(body) == {"ts", "updates"}


def test_the_server_still_answers_after_the_garbage(sandbox, api, sandbox_server):
    assert isinstance(api.utils.getServerTime(), int)
    assert sandbox.stats()["requests"] == 1
    assert sandbox_server.sandbox.internal_errors == 0
