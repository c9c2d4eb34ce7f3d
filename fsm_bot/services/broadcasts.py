"""What the broadcast dialogs may ask for (`ctx.services.broadcasts`), and how a report reads.

Creating a broadcast writes the broadcast, one row per recipient and the sender's report message
in the confirming event's transaction: either the headman sees «Отправлено» and every student is
queued, or neither happened.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, object_session

from fsm_bot.delivery.broadcasts import KEYBOARDS, keyboard_for
from fsm_bot.delivery.replies import queue_reply
from fsm_bot.folding import fold
from fsm_bot.members.info import MemberInfo
from fsm_bot.services.polls import PREVIEW as POLL_PREVIEW
from fsm_bot.services.polls import PollDraft, kind_line, poll_results, render_results, result_buttons, vote_keyboard
from fsm_bot.storage.models import Audience, Broadcast, BroadcastStatus, Role
from fsm_bot.storage.repositories import (
    AckResult,
    BroadcastRepository,
    CommunityRepository,
    MemberRepository,
    OutboxRepository,
    PollRepository,
    Tally,
)
from fsm_bot.storage.types import utcnow
from fsm_bot.texts import Texts
from fsm_bot.vk.attachments import MAX_ATTACHMENTS, MAX_FORWARDS, read_attachments
from fsm_bot.vk.events import IncomingEvent
from fsm_bot.vk.keyboards import KeyboardButton, build_keyboard
from fsm_bot.vk.messages import MAX_TEXT_LENGTH, MessageContent, split_text
from fsm_bot.vk.payloads import COMMAND_KEY, VALUE_KEY

ACK_FLOW, UNREAD_FLOW, RESEND_FLOW = "ack", "unread", "resend"
__all__ = [
    "PREVIEW",
    "AckResult",
    "BroadcastService",
    "BroadcastView",
    "message_parts",
    "preview_of",
    "preview_parts",
    "render_report",
]
PREVIEW = "preview"  # the ack button of a preview carries this instead of a broadcast id
MAX_NAMES = 30  # names listed in a report line before "и ещё N"
PIN_PENDING, PIN_DONE, PIN_FAILED = "pending", "pinned", "failed"
ATTACHMENT_KIND = re.compile(r"([a-z_]+)-?\d")  # VK's attachment string: photo-1_2_key, doc3_4
POLL_NOTE = "poll_note"  # a poll's part: the line added under the author's text, left out of its titles
MEDIA_KINDS = ("photo", "video", "audio", "doc", "poll")  # named in a preview; anything else is «вложение»


@dataclass(frozen=True)
class Recipient:
    vk_id: int
    name: str
    can_receive: bool


@dataclass(frozen=True)
class BroadcastView:
    """A broadcast as a dialog reads it (history, the «Отправлено» answer): a snapshot, not the row
    the delivery and the report updater keep changing."""

    id: int
    sender_vk_id: int
    audience: str
    audience_label: str
    parts: tuple[Mapping[str, Any], ...]
    ask_ack: bool
    status: str
    created_at: datetime

    @classmethod
    def of(cls, broadcast: Broadcast) -> BroadcastView:
        return cls(
            id=broadcast.id,
            sender_vk_id=broadcast.sender_vk_id,
            audience=broadcast.audience,
            audience_label=broadcast.audience_label,
            parts=tuple(dict(part) for part in broadcast.parts),
            ask_ack=broadcast.ask_ack,
            status=broadcast.status,
            created_at=broadcast.created_at,
        )


def ack_keyboard(label: str, broadcast: int | str) -> str:
    """The inline «✅ Ознакомлен» callback button under the last part of every copy."""
    button = KeyboardButton(label, {COMMAND_KEY: ACK_FLOW, VALUE_KEY: str(broadcast)}, "positive", callback=True)
    return build_keyboard([[button]], inline=True)


class BroadcastService:
    def __init__(self, session: Session, community_id: int, sender: MemberInfo, group_chat: int | None = None) -> None:
        self.group_chat = group_chat  # the sender's group's chat (беседа), if settings name one
        self.session = session
        self.community_id = community_id
        self.sender = sender
        self.repository = BroadcastRepository(session, community_id)

    # --- recipients

    def _group_id(self, name: str | None) -> int | None:
        if name is None:
            return None
        group = CommunityRepository(self.session).find_group(self.community_id, name)
        return group.id if group is not None else None

    def recipients(self, audience: str, subgroup: int | None = None, chosen: Sequence[int] = ()) -> list[Recipient]:
        group_id = self._group_id(self.sender.study_group)
        members = MemberRepository(self.session, self.community_id).audience(
            audience, self.sender.vk_id, group_id, subgroup, chosen
        )
        return [Recipient(m.vk_id, m.full_name or f"id{m.vk_id}", m.can_receive) for m in members]

    def classmates(self, query: str = "") -> list[Recipient]:
        """The sender's group, for picking recipients one by one (optionally by surname prefix)."""
        people = self.recipients(Audience.GROUP)
        needle = fold(query.strip())
        return [p for p in people if not needle or fold(p.name).startswith(needle)]

    def subgroups(self) -> list[int]:
        return MemberRepository(self.session, self.community_id).subgroups(self._group_id(self.sender.study_group))

    # --- sending

    def create(
        self,
        audience: str,
        audience_label: str,
        parts: list[dict[str, Any]],
        ask_ack: bool,
        recipients: Sequence[Recipient],
        texts: Texts,
        nudge_after: timedelta,
        post_in_chat: bool = False,
        texts_for: Callable[[str | None], Texts] | None = None,
        poll: PollDraft | None = None,
    ) -> BroadcastView:
        """The broadcast, its recipient rows, the copy for the group's chat (to be pinned once it is
        out) and the sender's report, all in this transaction. A broadcast with nothing to send is
        refused here, whatever the dialog let through: the sender could never deliver it.

        `texts_for` gives a recipient's language's texts (by locale; None: the default): the «Ознакомлен»
        button is written once per language among the recipients, and each copy gets its reader's
        (delivery/broadcasts.py). Without it every copy speaks the sender's `texts`.

        A `poll` makes the last part carry its answer buttons instead of «Ознакомлен» (an answer says more
        than «read»), and a line saying how it is answered, in the sender's language."""
        if not any(_has_content(part) for part in parts):
            raise EmptyBroadcast("a broadcast needs a text, an attachment or a forward to send")
        if poll is not None:
            ask_ack = False
        now = utcnow()
        broadcast = self.repository.create(
            self.sender.vk_id,
            audience,
            audience_label,
            [dict(part) for part in parts],
            ask_ack,
            [(r.vk_id, r.name) for r in recipients],
            now + nudge_after if ask_ack else None,
        )
        if ask_ack:
            final = dict(broadcast.parts[-1])
            final["keyboard"] = ack_keyboard(texts("broadcast.ack_button"), broadcast.id)
            if texts_for is not None:
                readers = MemberRepository(self.session, self.community_id).locales(r.vk_id for r in recipients)
                keyboards = {
                    locale or "": ack_keyboard(texts_for(locale)("broadcast.ack_button"), broadcast.id)
                    for locale in set(readers.values())
                }
                if set(keyboards.values()) != {final["keyboard"]}:  # all read the sender's: one batch as ever
                    final[KEYBOARDS] = keyboards
            broadcast.parts = [*broadcast.parts[:-1], final]
        if poll is not None:
            created = PollRepository(self.session, self.community_id).create(
                broadcast.id,
                preview_of(texts, parts, length=200),
                poll.options,
                poll.multiple,
                poll.anonymous,
                poll.closes_at,
                poll.closes_label,
            )
            broadcast.parts = [*broadcast.parts[:-1], _with_poll(broadcast.parts[-1], created.id, poll, texts)]
        outbox = OutboxRepository(self.session, self.community_id)
        posted = None
        if post_in_chat and self.group_chat is not None:
            # In the chat without the «Ознакомлен» button: the chat's readers are not its recipients.
            for part in parts:
                content = MessageContent(part.get("text", ""), None, part.get("attachment"), part.get("forward"))
                [posted] = queue_reply(self.session, self.community_id, self.group_chat, content, outbox)
            broadcast.pin_state = PIN_PENDING
        text, keyboard = render_report(texts, broadcast, self.repository.tally(broadcast.id))
        [report] = queue_reply(
            self.session, self.community_id, self.sender.vk_id, MessageContent(text, keyboard), outbox
        )
        self.session.flush()  # queued rows get their ids at the flush; the broadcast points at two of them
        if posted is not None:
            broadcast.chat_outbox_id = posted.id
        broadcast.report_outbox_id = report.id
        broadcast.report_dirty = False
        return BroadcastView.of(broadcast)

    def acknowledge(self, broadcast_id: int) -> str:
        return self.repository.acknowledge(broadcast_id, self.sender.vk_id)

    def own(self, broadcast_id: int) -> BroadcastView | None:
        """The broadcast if this member may act on it: its sender, or a stream admin."""
        broadcast = self.repository.get(broadcast_id)
        if broadcast is None:
            return None
        if broadcast.sender_vk_id != self.sender.vk_id and self.sender.role is not Role.ADMIN:
            return None
        return BroadcastView.of(broadcast)

    def tally(self, broadcast_id: int) -> Tally:
        return self.repository.tally(broadcast_id)

    def resend_unreached(self, broadcast_id: int) -> int:
        return self.repository.resend_unreached(broadcast_id)

    def recent(self, limit: int = 8) -> list[tuple[BroadcastView, Tally]]:
        sender = None if self.sender.role is Role.ADMIN else self.sender.vk_id
        return [(BroadcastView.of(b), self.repository.tally(b.id)) for b in self.repository.recent(sender, limit)]


class EmptyBroadcast(ValueError):
    """A broadcast without any part that has something to send."""


def _own_text(part: Mapping[str, Any]) -> str:
    """The part's text as its author wrote it: without the poll's line the bot added (POLL_NOTE)."""
    text = str(part.get("text") or "")
    note = part.get(POLL_NOTE)
    if isinstance(note, str) and note and text.endswith(note):
        text = text[: -len(note)]
    return text.strip()


def _with_poll(part: Mapping[str, Any], poll_id: int | str, poll: PollDraft, texts: Texts) -> dict[str, Any]:
    """The last part with the poll's answer buttons and, below its text, how the poll is answered."""
    final = dict(part)
    line = kind_line(texts, poll.multiple, poll.anonymous, poll.closes_label)
    text = str(final.get("text") or "")
    if len(text) + len(line) + 2 <= MAX_TEXT_LENGTH:  # a full last part keeps its text whole; the buttons say enough
        final["text"] = f"{text}\n\n{line}" if text else line
        final[POLL_NOTE] = line
    final["keyboard"] = vote_keyboard(poll_id, poll.options)
    final.pop(KEYBOARDS, None)
    return final


def _has_content(part: dict[str, Any]) -> bool:
    text = part.get("text")
    return bool((isinstance(text, str) and text.strip()) or part.get("attachment") or part.get("forward"))


def _names(texts: Texts, names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (texts("broadcast.more_names", count=len(names) - MAX_NAMES) if len(names) > MAX_NAMES else "")


def preview_of(texts: Texts, parts: Sequence[Mapping[str, Any]], length: int = 60) -> str:
    """A broadcast named by its first text, or, with no text, by what it holds: «фото», «2 документа»."""
    first = next((_own_text(part) for part in parts if _own_text(part)), "")
    words = " ".join(first.split())
    if words:
        return words[:length] + ("…" if len(words) > length else "")
    if any(part.get("forward") for part in parts):
        return texts("broadcast.media.forward")
    kinds: dict[str, int] = {}
    for part in parts:
        for attachment in str(part.get("attachment") or "").split(","):
            if attachment:
                kind = ATTACHMENT_KIND.match(attachment)
                name = kind.group(1) if kind and kind.group(1) in MEDIA_KINDS else "other"
                kinds[name] = kinds.get(name, 0) + 1
    return ", ".join(
        texts(f"broadcast.media_one.{kind}") if count == 1 else texts(f"broadcast.media.{kind}", count=count)
        for kind, count in kinds.items()
    )


def report_title(texts: Texts, broadcast: Broadcast) -> str:
    preview = preview_of(texts, broadcast.parts)
    return texts("broadcast.report_title", id=broadcast.id, audience=broadcast.audience_label, preview=preview)


def render_report(texts: Texts, broadcast: Broadcast, tally: Tally) -> tuple[str, str | None]:
    """The sender's live report: planned, delivered, who cannot receive and why, who acknowledged."""
    lines = [report_title(texts, broadcast), texts("broadcast.report_planned", planned=tally.planned)]
    if broadcast.status == BroadcastStatus.FAILED.value:
        # Set aside by the sender (delivery/broadcasts.py): its recipients' reasons would all be the same.
        lines += [texts("broadcast.report_delivered", delivered=tally.delivered), texts("broadcast.report_set_aside")]
        return "\n".join(lines), None
    lines.append(texts("broadcast.report_delivered", delivered=tally.delivered))
    if tally.pending:
        lines.append(texts("broadcast.report_pending", pending=tally.pending))
    if tally.cannot_receive:
        lines.append(
            texts("broadcast.report_cannot", count=len(tally.cannot_receive), names=_names(texts, tally.cannot_receive))
        )
    if tally.failed:
        failed = [f"{name} ({reason})" if reason else name for name, reason in tally.failed]
        lines.append(texts("broadcast.report_failed", count=len(tally.failed), names=_names(texts, failed)))
    if broadcast.ask_ack:
        lines.append(texts("broadcast.report_acks", acked=tally.acknowledged, delivered=tally.delivered))
    session = object_session(broadcast)
    poll = poll_results(session, broadcast) if session is not None else None
    if poll is not None:
        lines += render_results(texts, poll)
    if broadcast.pin_state == PIN_DONE:
        lines.append(texts("broadcast.report_pinned"))
    elif broadcast.pin_state == PIN_FAILED:
        lines.append(texts("broadcast.report_pin_failed"))
    if tally.finished:
        lines.append(texts("broadcast.report_done"))
    buttons = []
    if broadcast.ask_ack and tally.delivered:
        buttons.append(
            KeyboardButton(texts("broadcast.unread_button"), {COMMAND_KEY: UNREAD_FLOW, VALUE_KEY: str(broadcast.id)})
        )
    if tally.finished and (tally.cannot_receive or tally.failed):
        buttons.append(
            KeyboardButton(texts("broadcast.resend_button"), {COMMAND_KEY: RESEND_FLOW, VALUE_KEY: str(broadcast.id)})
        )
    if poll is not None:
        buttons += result_buttons(texts, poll)
    keyboard = build_keyboard([[button] for button in buttons], inline=True) if buttons else None
    return "\n".join(lines), keyboard


def preview_parts(
    parts: Sequence[dict[str, Any]], ask_ack: bool, texts: Texts, poll: PollDraft | None = None
) -> list[dict[str, Any]]:
    """The parts exactly as students will see them (the preview's ack or answer buttons say it is a preview)."""
    shown = [dict(part) for part in parts]
    if poll is not None and shown:
        shown[-1] = _with_poll(shown[-1], POLL_PREVIEW, poll, texts)
    elif ask_ack and shown:
        shown[-1]["keyboard"] = ack_keyboard(texts("broadcast.ack_button"), PREVIEW)
    return shown


def nudge_keyboard(broadcast: Broadcast, locale: str | None = None) -> str | None:
    """The reminder's «Ознакомлен» button: the one this reader's copy had."""
    return keyboard_for(broadcast.parts[-1], locale) if broadcast.parts else None


def forward_of(peer_id: int, message_id: int, conversation_message_id: int) -> str:
    """Forward the sender's own message (with the forwards inside it) as VK's `forward` JSON."""
    spec: dict[str, Any] = {"peer_id": peer_id}
    if message_id:
        spec["message_ids"] = [message_id]
    else:
        spec["conversation_message_ids"] = [conversation_message_id]
    return json.dumps(spec)


def forwarded_from_here(event: IncomingEvent) -> list[int]:
    """The messages of this very conversation to forward instead of the headman's message, or [].

    A headman who forwards on a message of this conversation (their own earlier one, or the bot's copy of
    a broadcast) that itself only forwarded others would, forwarded whole, reach the students as a forward
    inside a forward inside an empty message. When the headman's message adds nothing of its own and
    forwards only messages written here (this peer, by the headman or the community), those are forwarded
    themselves, and so on down while a single one of them is again only a wrapper of such messages: what
    was forwarded arrives forwarded once. Messages of other conversations cannot be reached, so any of
    them leaves the headman's message as it is.
    """
    if event.in_chat or _own_content(event.text, event.attachments):
        return []
    level: Sequence[Any] = event.fwd_messages
    found: list[int] = []
    while level and all(_written_here(item, event) for item in level):
        found = [item["conversation_message_id"] for item in level]
        [only, *others] = level
        if others or _own_content(only.get("text"), only.get("attachments")):
            break
        level = only.get("fwd_messages") or ()
    return found


def _own_content(text: Any, attachments: Any) -> bool:
    return bool((isinstance(text, str) and text.strip()) or attachments)


def _written_here(item: Any, event: IncomingEvent) -> bool:
    """A forwarded message of the headman's conversation with the community (VK names it from either side)."""
    if not isinstance(item, dict):
        return False
    cmid, peer, author = item.get("conversation_message_id"), item.get("peer_id"), item.get("from_id")
    here = (event.peer_id, -event.group_id)
    return type(cmid) is int and cmid > 0 and peer in here and author in (event.user_id, -event.group_id)


Problem = tuple[str, dict[str, Any]]  # a text key under "broadcast." and its values


def message_parts(event: IncomingEvent, room: int) -> tuple[list[dict[str, Any]], Problem | None]:
    """The parts one composed message becomes, or why it cannot be broadcast.

    A text over VK's 4096 characters becomes several parts; attachments and forwards ride on the
    last one; links arrive as link attachments and travel as URLs in the text; a sticker alone
    cannot be sent on by a community, so it is refused rather than silently dropped.
    """
    media = read_attachments(event.attachments)
    text = event.text.strip()
    if media.links:
        text = "\n".join([text, *[link for link in media.links if link not in text]]).strip()
    if len(event.fwd_messages) > MAX_FORWARDS:
        return [], ("too_many_forwards", {"limit": MAX_FORWARDS})
    if len(media.strings) > MAX_ATTACHMENTS:
        return [], ("too_many_attachments", {"limit": MAX_ATTACHMENTS})
    if event.fwd_messages:
        # The forwarded messages live in other conversations the community cannot reach; only the
        # headman's own message (here, with the bot) can be forwarded, and it carries them all, with
        # the headman's text and attachments, intact. Sending those again beside it would double them.
        # A message that only forwards on what was written here before is not wrapped once more.
        here = forwarded_from_here(event)
        if here:
            return [
                {"text": "", "forward": json.dumps({"peer_id": event.peer_id, "conversation_message_ids": here})}
            ], None
        return [
            {"text": "", "forward": forward_of(event.peer_id, event.message_id, event.conversation_message_id)}
        ], None
    if not (text or media.strings):
        return [], ("unsupported" if media.unsupported else "empty", {})
    pieces = split_text(text, MAX_TEXT_LENGTH) if text else [""]
    if len(pieces) > room:
        return [], ("too_many_parts", {"limit": room})
    parts = []
    for index, piece in enumerate(pieces):
        part: dict[str, Any] = {"text": piece}
        if index == len(pieces) - 1 and media.strings:
            part["attachment"] = ",".join(media.strings)
        parts.append(part)
    return parts, None
