"""The events services with a recording fake for the notices: capacity, promotion, credits
paid once, cancellation, reminders and feedback requests, audit."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hearth.domain.events import (
    AlreadyAttended,
    Answer,
    Event,
    EventDraft,
    EventProblem,
    EventUnavailable,
    RsvpCounts,
    RsvpStatus,
    UnknownEvent,
)
from hearth.domain.members import ChatRole, CommunityProfile, MemberProfile, Person
from hearth.services import events
from hearth.storage.unit_of_work import UnitOfWorkFactory

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = NOW + timedelta(days=3)
COMMUNITY = -100200
OPERATOR = 7


class RecordingNotices:
    """Records what the events services asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, int]] = []  # (what, key, member)
        self.cards: list[RsvpCounts] = []

    async def card_changed(
        self, uow: Any, event: Event, community: CommunityProfile, counts: RsvpCounts
    ) -> None:
        self.cards.append(counts)

    async def _note(self, what: str, key: str, member: MemberProfile) -> bool:
        if any(key == seen for _, seen, _ in self.sent):
            return False
        self.sent.append((what, key, member.id))
        return True

    async def moved_up(self, uow: Any, key: str, member: MemberProfile, *_: Any) -> bool:
        return await self._note("moved_up", key, member)

    async def cancelled(self, uow: Any, key: str, member: MemberProfile, *_: Any) -> bool:
        return await self._note("cancelled", key, member)

    async def reminder(self, uow: Any, key: str, member: MemberProfile, *_: Any) -> bool:
        return await self._note("reminder", key, member)

    async def feedback_request(self, uow: Any, key: str, member: MemberProfile, *_: Any) -> bool:
        return await self._note("feedback", key, member)


@pytest.fixture
async def world(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    async with uow_factory() as uow:
        await uow.communities.add(COMMUNITY, "Club", timezone="UTC", locale="en", now=NOW)
        for member_id in (1, 2, 3, 4):
            await uow.members.upsert(Person(member_id, f"M{member_id}"), NOW)
            await uow.memberships.add(COMMUNITY, member_id, role=ChatRole.MEMBER, now=NOW)
            # Members 1-3 started the bot; 4 never did.
            await uow.members.update(member_id, started_bot=member_id != 4)
        await uow.members.upsert(Person(9, "Stranger"), NOW)
        await uow.commit()
    return uow_factory


async def publish(world: UnitOfWorkFactory, capacity: int | None = 2) -> Event:
    codes = itertools.cycle("K7M3QX")
    async with world() as uow:
        community = await uow.communities.get(COMMUNITY)
        assert community is not None
        event = await events.publish(
            uow,
            community=community,
            draft=EventDraft(
                title="Drive",
                description="",
                place="Lake",
                starts_at=START,
                ends_at=START + timedelta(hours=2),
                capacity=capacity,
                registration_deadline=START,
                points=25,
            ),
            actor_id=OPERATOR,
            now=NOW,
            choose=lambda alphabet: next(codes),
        )
        await events.card_posted(uow, event.id, 500)
        await uow.commit()
    return event


async def rsvp(
    world: UnitOfWorkFactory, notices: RecordingNotices, member_id: int, answer: Answer
) -> events.RsvpResult:
    async with world() as uow:
        result = await events.answer(
            uow, notices, event_id=1, member_id=member_id, answer=answer, now=NOW
        )
        await uow.commit()
        return result


async def test_the_waitlist_moves_up_first_come_first_and_only_reachable_members_are_told(
    world: UnitOfWorkFactory,
) -> None:
    await publish(world)
    notices = RecordingNotices()
    for member_id in (1, 2, 4, 3):
        await rsvp(world, notices, member_id, Answer.GOING)
    third = await rsvp(world, notices, 3, Answer.GOING)
    assert third.status is RsvpStatus.WAITLISTED
    assert third.waitlist_position == 2
    stepped_back = await rsvp(world, notices, 1, Answer.NOT_GOING)
    assert stepped_back.promoted == [4]  # first come, first served
    assert stepped_back.counts == RsvpCounts(going=2, waitlisted=1, not_going=1)
    assert notices.sent == []  # member 4 never started the bot: nobody to tell
    await rsvp(world, notices, 2, Answer.MAYBE)
    assert [(what, member) for what, _, member in notices.sent] == [("moved_up", 3)]
    assert len(notices.cards) == 6  # one refresh per change, coalesced by the adapter
    with pytest.raises(EventUnavailable) as refused:
        await rsvp(world, notices, 9, Answer.GOING)
    assert refused.value.problem is EventProblem.NOT_A_MEMBER


async def test_attendance_credits_once_and_feedback_needs_attendance(
    world: UnitOfWorkFactory,
) -> None:
    event = await publish(world)
    at_the_event = START + timedelta(minutes=10)
    async with world() as uow:
        attended = await events.attend(uow, code=event.code, member_id=1, now=at_the_event)
        await uow.commit()
    assert attended.points == 25
    assert attended.balance == 25
    async with world() as uow:
        with pytest.raises(AlreadyAttended):
            await events.attend(uow, code=event.code, member_id=1, now=at_the_event)
        assert await uow.points.balance(COMMUNITY, 1) == 25
        with pytest.raises(EventUnavailable):
            await events.give_feedback(uow, event_id=1, member_id=2, now=at_the_event, rating=4)
        await events.give_feedback(uow, event_id=1, member_id=1, now=at_the_event, rating=4)
        await events.give_feedback(uow, event_id=1, member_id=1, now=at_the_event, recommend=9)
        await uow.commit()
    async with world() as uow:
        report = await events.report(uow, event_id=1, operated={COMMUNITY})
        assert (report.attended, report.average_rating, report.nps) == (1, 4.0, 100)
        with pytest.raises(UnknownEvent):
            await events.report(uow, event_id=1, operated={-1})


async def test_reminders_and_feedback_requests_are_decided_once(world: UnitOfWorkFactory) -> None:
    await publish(world, capacity=None)
    notices = RecordingNotices()
    for member_id in (1, 4):
        await rsvp(world, notices, member_id, Answer.GOING)
    day_before = START - timedelta(hours=20)
    assert await events.send_reminders(world, notices, day_before, (24, 1)) == 1
    assert await events.send_reminders(world, notices, day_before, (24, 1)) == 0
    async with world() as uow:
        await events.attend(uow, code="K7M3QX", member_id=1, now=START)
        await events.attend(uow, code="K7M3QX", member_id=4, now=START)
        await uow.commit()
    closed = START + timedelta(hours=5)
    assert await events.request_feedback(world, notices, closed) == 1  # 4 cannot be written to
    assert await events.request_feedback(world, notices, closed) == 0


async def test_cancelling_tells_the_registered_once_and_is_audited(
    world: UnitOfWorkFactory,
) -> None:
    await publish(world, capacity=1)
    notices = RecordingNotices()
    for member_id, answer in ((1, Answer.GOING), (2, Answer.GOING), (3, Answer.MAYBE)):
        await rsvp(world, notices, member_id, answer)
    for _ in range(2):
        async with world() as uow:
            result = await events.cancel(
                uow, notices, event_id=1, actor_id=OPERATOR, operated={COMMUNITY}, now=NOW
            )
            await uow.commit()
    assert result.already
    assert sorted(member for what, _, member in notices.sent if what == "cancelled") == [1, 2]
    with pytest.raises(EventUnavailable):
        await rsvp(world, notices, 3, Answer.GOING)
