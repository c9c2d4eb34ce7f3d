"""The small pieces of the set-up from VK, without a bot: group names, the chat invitation, settings seeding."""

from __future__ import annotations

import pytest

from fsm_bot.engine.registry import FlowRegistry
from fsm_bot.engine.routing import GlobalWords, Route, route
from fsm_bot.members.seeding import GroupLeaders, Seed, seed_from_settings
from fsm_bot.services.inputs import clean_group_name
from fsm_bot.storage import Database
from fsm_bot.storage.repositories import CommunityRepository
from fsm_bot.vk.events import parse_update

COMMUNITY = 77
WORDS = GlobalWords(cancel=frozenset({"отмена"}), back=frozenset({"назад"}), menu=frozenset({"меню"}))


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("ИВТ-101", "ИВТ-101"),
        ("  ПМ   2.1\u200b ", "ПМ 2.1"),  # spacing folded, a zero-width space dropped
        ("Группа №3 (вечер)", "Группа №3 (вечер)"),
        ("", None),
        ("---", None),  # no letter, no digit
        ("²", None),  # a digit to str.isalnum, not a name: it would catch a stray «²» typed anywhere
        ("ИВТ<script>", None),
        ("Я" * 65, None),  # longer than the column
    ],
)
def test_a_group_name_is_cleaned_or_refused(typed: str, name: str | None) -> None:
    assert clean_group_name(typed) == name


def invitation(member_id: object, peer: int = 2_000_000_003) -> dict:
    message = {"id": 0, "conversation_message_id": 1, "from_id": 5, "peer_id": peer, "text": "",
               "action": {"type": "chat_invite_user", "member_id": member_id}}  # fmt: skip
    return {"type": "message_new", "event_id": "e1", "group_id": COMMUNITY, "object": {"message": message}}


def test_only_the_community_invited_to_a_chat_starts_the_chat_binding() -> None:
    registry = FlowRegistry.from_names(["help", "group_chat"])
    bound = registry.get("group_chat")
    assert registry.when_invited is bound
    invited = parse_update(invitation(-COMMUNITY))
    assert invited.invites_community
    assert route(invited, None, None, WORDS, registry, True).flow is bound
    for other in (parse_update(invitation(12345)), parse_update(invitation("junk")),
                  parse_update(invitation(-COMMUNITY, peer=5))):  # fmt: skip
        assert not other.invites_community
        assert route(other, None, None, WORDS, registry, True).route is not Route.START


def test_settings_seed_the_database_once(database: Database) -> None:
    seed = Seed({"ИВТ-101": GroupLeaders(headman=100, chat_peer_id=2_000_000_001)}, auto_approve=True)
    assert database.transaction(lambda session: seed_from_settings(session, COMMUNITY, seed))

    def rename(session) -> None:  # type: ignore[no-untyped-def]
        group = CommunityRepository(session).find_group(COMMUNITY, "ИВТ-101")
        assert group is not None
        group.name = "ИВТ-111"
        CommunityRepository(session).set_auto_approve(COMMUNITY, False)

    database.transaction(rename)
    assert not database.transaction(lambda session: seed_from_settings(session, COMMUNITY, seed))

    def read(session) -> tuple[dict[str, int | None], bool | None]:  # type: ignore[no-untyped-def]
        communities = CommunityRepository(session)
        groups = {g.name: g.chat_peer_id for g in communities.study_groups(COMMUNITY)}
        return groups, communities.auto_approve(COMMUNITY)

    assert database.transaction(read) == ({"ИВТ-111": 2_000_000_001}, False)
