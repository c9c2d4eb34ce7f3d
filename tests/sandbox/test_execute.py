"""execute: the code vk_api's VkRequestsPool and VkFunction generate, with execute_errors for failed calls."""

from __future__ import annotations

import pytest
import vk_api
from vk_api.execute import VkFunction
from vk_api.requests_pool import VkRequestsPool, vk_request_one_param_pool


def test_a_same_method_pool_with_a_901_user(sandbox, sandbox_vk):
    ids = [sandbox.add_user(f"Студент{i}", "Тестов")["id"] for i in range(4)]
    silent = sandbox.add_user("Молчун", "Тестов", allow_messages=False)["id"]
    with VkRequestsPool(sandbox_vk) as pool:
        results = {
            peer: pool.method("messages.send", {"peer_id": peer, "message": "Привет", "random_id": peer})
            for peer in [*ids[:2], silent, *ids[2:]]
        }
    assert all(results[peer].ok and results[peer].result > 0 for peer in ids)
    assert not results[silent].ok
    assert results[silent].error == {
        "method": "messages.send",
        "error_code": 901,
        "error_msg": "Can't send messages for users without permission",
    }
    stats = sandbox.stats()
    assert stats["calls"]["execute"] == 1
    assert stats["calls"]["messages.send"] == 5
    assert stats["requests"] == 1  # one execute with five calls is one request (VK_PROTOCOL.md)
    assert stats["delivered"] == 4


def test_a_mixed_method_pool(sandbox, sandbox_vk):
    anna = sandbox.add_user("Анна", "Смирнова")["id"]
    silent = sandbox.add_user(allow_messages=False)["id"]
    pool = VkRequestsPool(sandbox_vk)
    user = pool.method("users.get", {"user_ids": anna})
    sent = pool.method("messages.send", {"peer_id": anna, "message": "Хорошо", "random_id": 1})
    failed = pool.method("messages.send", {"peer_id": silent, "message": "Хорошо", "random_id": 2})
    time_result = pool.method("utils.getServerTime")
    pool.execute()
    assert user.result[0]["first_name"] == "Анна"
    assert sent.result > 0
    assert failed.error["error_code"] == 901
    assert isinstance(time_result.result, int)


def test_one_param_pool(sandbox, sandbox_vk):
    ids = [sandbox.add_user()["id"] for _ in range(3)]
    silent = sandbox.add_user(allow_messages=False)["id"]
    results, errors = vk_request_one_param_pool(
        sandbox_vk,
        "messages.send",
        key="peer_id",
        values=[*ids, silent],
        default_values={"message": "Напоминание", "random_id": 0},
    )
    assert sorted(results) == ids
    assert errors[silent]["error_code"] == 901
    assert all(len(sandbox.messages(i)) == 1 for i in ids)


def test_25_calls_pass_and_26_are_refused(sandbox, sandbox_vk):
    code = "return [" + ",".join(["API.utils.getServerTime()"] * 25) + "];"
    assert len(sandbox_vk.method("execute", {"code": code})) == 25
    code = "return [" + ",".join(["API.utils.getServerTime()"] * 26) + "];"
    with pytest.raises(vk_api.ApiError) as error:
        sandbox_vk.method("execute", {"code": code})
    assert error.value.code == 13


def test_hand_written_vkscript(sandbox_vk):
    function = VkFunction(
        args=("n",),
        code="""
        var i = 0, out = [], total = 0;
        while (i < %(n)s) { total = total + i; out.push({"i": i, "even": i %% 2 == 0}); i = i + 1; }
        if (total > 5) { return {"total": total, "items": out, "len": out.length, "last": out[out.length - 1].i}; }
        else { return "small"; }
        """,
    )
    answer = function(sandbox_vk, 5)
    assert answer["total"] == 10 and answer["len"] == 5 and answer["last"] == 4
    assert answer["items"][2] == {"i": 2, "even": True}
    assert function(sandbox_vk, 2) == "small"


@pytest.mark.parametrize(
    "code",
    ["return [API.utils.getServerTime(];", "import os;", "return {;", "var = 1;", "while (true) {", "@", ""],
)
def test_code_that_does_not_compile_is_error_12(sandbox_vk, code):
    with pytest.raises(vk_api.ApiError) as error:
        sandbox_vk.method("execute", {"code": code})
    assert error.value.code == (100 if code == "" else 12)


@pytest.mark.parametrize(
    "code", ["return nothing;", "return 1 / 0;", "return API.utils.getServerTime(1, 2);", "while (true) {}"]
)
def test_runtime_failures_are_error_13(sandbox_vk, code):
    with pytest.raises(vk_api.ApiError) as error:
        sandbox_vk.method("execute", {"code": code})
    assert error.value.code == 13


def test_an_unknown_inner_method_is_a_failed_call(sandbox_vk):
    answer = sandbox_vk.method("execute", {"code": "return [API.nope.nothing({}), 7];"}, raw=True)
    assert answer["response"] == [False, 7]
    assert answer["execute_errors"][0]["error_code"] == 3


def test_a_fault_for_a_method_fails_it_inside_execute(sandbox, sandbox_vk):
    student = sandbox.add_user()["id"]
    sandbox.inject_fault("messages.send", 10)
    code = (
        f'return [API.messages.send({{"peer_id":{student},"message":"a","random_id":1}}),'
        f'API.messages.send({{"peer_id":{student},"message":"b","random_id":2}})];'
    )
    answer = sandbox_vk.method("execute", {"code": code}, raw=True)
    assert answer["response"][0] is False and answer["response"][1] > 0
    assert answer["execute_errors"] == [
        {"method": "messages.send", "error_code": 10, "error_msg": "Internal server error"}
    ]
    assert [m["text"] for m in sandbox.messages(student)] == ["b"]
