"""Two sandboxes on two ports playing two communities: each answers and emits with its own group id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import vk_api

from fsm_bot.sandbox import Sandbox, SandboxClient, SandboxServer
from fsm_bot.sandbox.fixtures import start_sandbox_server, vk_api_for

FIRST, SECOND = 227000001, 227000002


@pytest.fixture(scope="module")
def two_sandboxes() -> Iterator[dict[int, SandboxServer]]:
    servers = {group_id: start_sandbox_server(group_id=group_id) for group_id in (FIRST, SECOND)}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.mark.parametrize(("group_id", "other"), [(FIRST, SECOND), (SECOND, FIRST)])
def test_each_sandbox_is_its_own_community(two_sandboxes, receiver, group_id, other):
    client = SandboxClient(two_sandboxes[group_id].url)
    client.reset()
    assert client.community()["group_id"] == group_id
    api = vk_api_for(client, client.token).get_api()
    assert [g["id"] for g in api.groups.getById(group_id=group_id)["groups"]] == [group_id]
    with pytest.raises(vk_api.ApiError) as refused:  # a community token acts for its own community only
        api.groups.getLongPollServer(group_id=other)
    assert refused.value.code == 125
    server = api.groups.getLongPollServer(group_id=group_id)["server"]
    assert server.endswith(f"/whp/{group_id}")

    code = api.groups.getCallbackConfirmationCode(group_id=group_id)["code"]
    receiver.answer = lambda body: (200, code if body["type"] == "confirmation" else "ok")
    client.set_callback(receiver.url)
    student = client.add_user()["id"]
    client.send(student, "привет")
    confirmation, update = (r.body for r in receiver.wait_for(lambda r: len(r) == 2))
    assert confirmation == {"type": "confirmation", "group_id": group_id}
    assert update["type"] == "message_new" and update["group_id"] == group_id
    client.set_callback(None)


def test_a_group_id_must_be_a_positive_integer():
    for bad in (0, -227000001, True, "227000002"):
        with pytest.raises(ValueError, match="group_id"):
            Sandbox(group_id=bad)  # type: ignore[arg-type]
