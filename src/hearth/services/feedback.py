"""The feedback box: members write to the team in private, operators read and answer.

A member's feedback goes to the inbox of one of their communities; its operators who can
be written to are told that something waits (a few minutes of feedback make one note). An
operator's answer reaches the member through the outbox and settles the item; closing
settles it without an answer. Both are audited. A member may send at most
``FEEDBACK_LIMITS`` (3 an hour, 10 a day): a flood stores nothing and tells nobody.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from hearth.domain import rate_limits
from hearth.domain.feedback import (
    FEEDBACK_LIMITS,
    INBOX_PAGE,
    FeedbackDraft,
    FeedbackItem,
    FeedbackLine,
    FeedbackSettled,
    FeedbackStatus,
    UnknownFeedback,
    answer_text,
)
from hearth.domain.members import CommunityProfile
from hearth.services.communities import operated_or_unknown
from hearth.services.ports import FeedbackNotices, UnitOfWork


async def may_send(uow: UnitOfWork, member_id: int, now: datetime) -> None:
    """Raise OverLimit when one more item from the member now would be too many."""
    longest = max(limit.window for limit in FEEDBACK_LIMITS)
    sent = await uow.feedback_box.sent_since(member_id, now - longest)
    rate_limits.check(sent, now, FEEDBACK_LIMITS)


@dataclass(frozen=True, slots=True)
class Submitted:
    """A stored item; ``replayed`` when its message had been stored before."""

    item: FeedbackItem
    replayed: bool


async def submit(
    uow: UnitOfWork,
    notices: FeedbackNotices,
    *,
    community: CommunityProfile,
    member_id: int,
    draft: FeedbackDraft,
    now: datetime,
) -> Submitted:
    """Put a member's feedback in the inbox of ``community`` (one of theirs) and tell its
    operators; a message stored before is not stored again. Raises OverLimit."""
    operator_ids = await notices.operators(community)  # may ask Telegram: before any write
    box = uow.feedback_box
    earlier = await box.by_message(member_id, draft.message_id)
    if earlier is not None:
        return Submitted(earlier, replayed=True)
    await may_send(uow, member_id, now)
    item = await box.add(community.id, member_id, draft, now)
    if item is None:  # the same message, stored by a concurrent delivery of it
        stored = await box.by_message(member_id, draft.message_id)
        assert stored is not None
        return Submitted(stored, replayed=True)
    waiting = await box.count_open(community.id)
    for operator_id in operator_ids:
        if operator_id == member_id:
            continue  # an operator's own feedback needs no note to themselves
        operator = await uow.members.get(operator_id)
        if operator is not None and operator.writable:
            await notices.feedback_waiting(uow, community, operator, waiting)
    return Submitted(item, replayed=False)


@dataclass(frozen=True, slots=True)
class Inbox:
    """One page of a community's open items, newest first."""

    community: CommunityProfile
    lines: list[FeedbackLine]
    total: int
    page: int
    page_size: int = INBOX_PAGE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


async def inbox(uow: UnitOfWork, community: CommunityProfile, page: int = 0) -> Inbox:
    """The open items of ``community``, page ``page`` (the last page when beyond it)."""
    box = uow.feedback_box
    total = await box.count_open(community.id)
    page = max(0, min(page, -(-total // INBOX_PAGE) - 1))
    lines = await box.open_items(community.id, page * INBOX_PAGE, INBOX_PAGE)
    return Inbox(community=community, lines=lines, total=total, page=page)


async def item_for(uow: UnitOfWork, item_id: int, operated: Collection[int]) -> FeedbackItem:
    """An item of a community the operator runs; raises UnknownFeedback otherwise."""
    return operated_or_unknown(
        await uow.feedback_box.get(item_id), operated, UnknownFeedback(item_id)
    )


async def reply(
    uow: UnitOfWork,
    notices: FeedbackNotices,
    item_id: int,
    text: str | None,
    *,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> FeedbackItem:
    """Answer an open item: the member is told, the item is answered, the answer audited.

    Raises UnknownFeedback, FeedbackSettled (answered or closed already), EmptyFeedback or
    FeedbackTooLong.
    """
    words = answer_text(text)
    item = await open_item(uow, item_id, operated)
    answered = await _settle(uow, item, FeedbackStatus.ANSWERED, words, actor_id, now)
    member = await uow.members.get(answered.member_id)
    community = await uow.communities.get(answered.community_id)
    if member is not None and community is not None:
        await notices.answered(uow, answered, member, community)
    await uow.audit.record(
        actor_id=actor_id,
        action="feedback.reply",
        community_id=answered.community_id,
        details={"item_id": answered.id, "member_id": answered.member_id},
        now=now,
    )
    return answered


async def close(
    uow: UnitOfWork,
    item_id: int,
    *,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> FeedbackItem:
    """Close an open item without an answer, audited. Raises UnknownFeedback or
    FeedbackSettled (answered or closed already)."""
    item = await open_item(uow, item_id, operated)
    closed = await _settle(uow, item, FeedbackStatus.CLOSED, None, actor_id, now)
    await uow.audit.record(
        actor_id=actor_id,
        action="feedback.close",
        community_id=closed.community_id,
        details={"item_id": closed.id, "member_id": closed.member_id},
        now=now,
    )
    return closed


async def open_item(uow: UnitOfWork, item_id: int, operated: Collection[int]) -> FeedbackItem:
    """An open item of a community the operator runs; raises UnknownFeedback or
    FeedbackSettled."""
    item = await item_for(uow, item_id, operated)
    if item.status is not FeedbackStatus.OPEN:
        raise FeedbackSettled(item.status)
    return item


async def _settle(
    uow: UnitOfWork,
    item: FeedbackItem,
    becomes: FeedbackStatus,
    words: str | None,
    actor_id: int,
    now: datetime,
) -> FeedbackItem:
    settled = await uow.feedback_box.settle(
        item.id, becomes=becomes, reply=words, actor_id=actor_id, now=now
    )
    if settled is None:  # another operator got there first
        current = await uow.feedback_box.get(item.id)
        raise FeedbackSettled(current.status if current else FeedbackStatus.CLOSED)
    return settled
