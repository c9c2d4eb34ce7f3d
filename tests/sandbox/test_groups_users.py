"""groups.*, users.get and utils.getServerTime with VK's shapes and limits."""

from __future__ import annotations

import time

import pytest
import vk_api

GROUP_ID = 227000001


def test_get_by_id_has_the_5_199_shape(sandbox, api):
    answer = api.groups.getById(fields="members_count")
    assert set(answer) == {"groups", "profiles"}
    [group] = answer["groups"]
    assert group["id"] == GROUP_ID
    assert group["name"] == sandbox.community()["name"]
    assert group["members_count"] == 0
    assert api.groups.getById(group_id=GROUP_ID)["groups"][0]["screen_name"] == f"club{GROUP_ID}"
    with pytest.raises(vk_api.ApiError) as error:
        api.groups.getById(group_ids="1")
    assert error.value.code == 100


def test_get_members_pages_with_offset_and_count(sandbox, api):
    ids = [sandbox.add_user(f"Студент{i}", "Тестов")["id"] for i in range(7)]
    sandbox.add_user("Бывший", "Студент", member=False)
    first = api.groups.getMembers(group_id=GROUP_ID, count=3)
    rest = api.groups.getMembers(group_id=GROUP_ID, offset=3, count=1000)
    assert first == {"count": 7, "items": ids[:3]}
    assert rest["items"] == ids[3:]
    with_fields = api.groups.getMembers(group_id=GROUP_ID, fields="sex,screen_name", count=1)
    assert with_fields["items"][0]["first_name"] == "Студент0"
    assert with_fields["items"][0]["screen_name"] == f"id{ids[0]}"
    with pytest.raises(vk_api.ApiError) as error:
        api.groups.getMembers(group_id=GROUP_ID, count=1001)
    assert error.value.code == 100
    with pytest.raises(vk_api.ApiError) as error:
        api.groups.getMembers(group_id=1)
    assert error.value.code == 125


def test_get_members_filter_managers(sandbox, api):
    creator = sandbox.add_user("Ольга", "Викторова", role="creator")
    sandbox.add_user("Иван", "Петров")
    editor = sandbox.add_user("Анна", "Смирнова", role="editor")
    answer = api.groups.getMembers(group_id=GROUP_ID, filter="managers")
    assert answer == {
        "count": 2,
        "items": [{"id": creator["id"], "role": "creator"}, {"id": editor["id"], "role": "editor"}],
    }


def test_users_get(sandbox, api):
    anna = sandbox.add_user("Анна", "Смирнова")
    ivan = sandbox.add_user("Иван", "Петров")
    answer = api.users.get(user_ids=[ivan["id"], anna["id"], 5], fields="sex,photo_100")
    assert [(u["id"], u["first_name"], u["last_name"]) for u in answer] == [
        (ivan["id"], "Иван", "Петров"),
        (anna["id"], "Анна", "Смирнова"),
    ]
    assert "photo_100" in answer[0] and "city" not in answer[0]
    with pytest.raises(vk_api.ApiError) as error:
        api.users.get(user_ids=",".join(str(i) for i in range(1, 1002)))
    assert error.value.code == 100
    with pytest.raises(vk_api.ApiError) as error:
        api.users.get(user_ids="nobody!")
    assert error.value.code == 113


def test_server_time_is_now(api):
    assert abs(api.utils.getServerTime() - time.time()) < 5


def test_long_poll_server_answer_is_all_strings(sandbox, api):
    answer = api.groups.getLongPollServer(group_id=GROUP_ID)
    assert set(answer) == {"key", "server", "ts"}
    assert all(isinstance(v, str) for v in answer.values())
    assert answer["server"] == f"{sandbox.url}/whp/{GROUP_ID}"
    with pytest.raises(vk_api.ApiError) as error:
        api.groups.getLongPollServer()
    assert error.value.code == 100


def test_long_poll_settings_round_trip(api):
    settings = api.groups.getLongPollSettings(group_id=GROUP_ID)
    assert settings["is_enabled"] is True
    assert settings["api_version"] == "5.199"
    enabled = {name for name, on in settings["events"].items() if on}
    assert {"message_new", "message_event", "message_allow", "message_deny", "group_join", "group_leave"} <= enabled
    assert "message_reply" not in enabled
    api.groups.setLongPollSettings(group_id=GROUP_ID, message_reply=1, group_join=0, api_version="5.131")
    settings = api.groups.getLongPollSettings(group_id=GROUP_ID)
    assert settings["events"]["message_reply"] == 1 and settings["events"]["group_join"] == 0
    assert settings["api_version"] == "5.131"


def test_resolve_screen_name_finds_id_links_short_addresses_and_answers_an_empty_list_for_nobody(sandbox, api):
    olga = sandbox.add_user("Ольга", "Белова", screen_name="olga_b")
    ivan = sandbox.add_user("Иван", "Петров")["id"]
    assert olga["screen_name"] == "olga_b"
    assert api.utils.resolveScreenName(screen_name="olga_b") == {"type": "user", "object_id": olga["id"]}
    assert api.utils.resolveScreenName(screen_name="Olga_B") == {"type": "user", "object_id": olga["id"]}
    assert api.utils.resolveScreenName(screen_name=f"id{ivan}") == {"type": "user", "object_id": ivan}
    assert api.utils.resolveScreenName(screen_name=f"club{GROUP_ID}") == {"type": "group", "object_id": GROUP_ID}
    assert api.utils.resolveScreenName(screen_name="nobody_here") == []
    assert api.users.get(user_ids=olga["id"], fields="screen_name")[0]["screen_name"] == "olga_b"
    # The control API sets, refuses a taken or an id-like one, and takes it away.
    assert sandbox.update_user(ivan, screen_name="ivan_p")["screen_name"] == "ivan_p"
    for bad in ("olga_b", "id123", "ab"):
        with pytest.raises(Exception, match="screen_name"):
            sandbox.update_user(ivan, screen_name=bad)
    assert "screen_name" not in sandbox.update_user(ivan, screen_name=None)
    assert api.utils.resolveScreenName(screen_name="ivan_p") == []
    # Inside execute, 25 at a time, as the bot asks.
    calls = ", ".join(f'API.utils.resolveScreenName({{"screen_name": "{name}"}})' for name in ("olga_b", "zzz_none"))
    code = f"return [{calls}];"
    assert api.execute(code=code) == [{"type": "user", "object_id": olga["id"]}, []]
