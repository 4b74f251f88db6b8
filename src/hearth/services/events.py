"""Events: operators publish, edit and cancel them; members answer, check in on site and
give feedback; the scheduler reminds and asks.

Everything a decision makes the bot say on its own (the card's live counts, "you moved up",
"cancelled", reminders, feedback questions) is queued through ``EventNotices`` in the
decision's own transaction, under a natural key, so it goes out once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hearth.domain.activity import ActivityKind
from hearth.domain.events import (
    CHECKIN_CLOSES_AFTER,
    REGISTERED,
    AlreadyAttended,
    Answer,
    CheckinClosed,
    Event,
    EventDraft,
    EventProblem,
    EventUnavailable,
    RsvpCounts,
    RsvpStatus,
    UnknownCode,
    UnknownEvent,
    average,
    checkin_window,
    new_code,
    nps,
    parse_edit,
    registration_problem,
    reminder_due,
    seats_to_fill,
    transition,
)
from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind
from hearth.services import points
from hearth.services.communities import operated_or_unknown
from hearth.services.members import record_activity
from hearth.services.ports import EventNotices, UnitOfWork, UnitOfWorkFactory

CODE_ATTEMPTS = 8  # a fresh code collides with an existing one about once in 10⁸
FEEDBACK_LOOKBACK = timedelta(days=7)  # older events are not asked about any more
WAITLIST_SCAN = 10_000

# -- operators


async def publish(
    uow: UnitOfWork,
    *,
    community: CommunityProfile,
    draft: EventDraft,
    actor_id: int,
    now: datetime,
    choose: Callable[[str], str] = secrets.choice,
) -> Event:
    """Store an operator's event with a fresh attendance code, audited."""
    for _ in range(CODE_ATTEMPTS):
        event = await uow.events.add(
            community.id, draft, code=new_code(choose), actor_id=actor_id, now=now
        )
        if event is not None:
            break
    else:  # pragma: no cover - astronomically unlikely with a real random source
        raise RuntimeError("no free attendance code")
    await uow.audit.record(
        actor_id=actor_id,
        action="event.create",
        community_id=community.id,
        details={
            "event_id": event.id,
            "title": event.title,
            "starts_at": event.starts_at.isoformat(),
            "capacity": event.capacity,
            "points": event.points,
        },
        now=now,
    )
    return event


async def card_posted(uow: UnitOfWork, event_id: int, message_id: int) -> None:
    """Remember the group message that carries the event's RSVP buttons."""
    await uow.events.set_card(event_id, message_id)


async def withdraw_unposted(uow: UnitOfWork, event: Event, *, actor_id: int, now: datetime) -> None:
    """The card could not be posted in the group: the event goes, nobody was told of it."""
    if await uow.events.cancel(event.id, now):
        await uow.audit.record(
            actor_id=actor_id,
            action="event.withdraw",
            community_id=event.community_id,
            details={"event_id": event.id, "reason": "card not posted"},
            now=now,
        )


async def operated_event(uow: UnitOfWork, event_id: int, operated: Collection[int]) -> Event:
    """An event of one of the ``operated`` communities; raises UnknownEvent otherwise."""
    return operated_or_unknown(await uow.events.get(event_id), operated, UnknownEvent(event_id))


async def edit(
    uow: UnitOfWork,
    notices: EventNotices,
    *,
    event_id: int,
    field_name: str,
    value: str,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> Event:
    """Change one field of a scheduled event (parsed in the community's time zone), audited.

    The card is refreshed; a larger capacity moves waitlisted members up (and tells them).
    Raises UnknownEvent, EventUnavailable(CANCELLED) or InvalidEventInput.
    """
    event = await operated_event(uow, event_id, operated)
    if event.cancelled:
        raise EventUnavailable(EventProblem.CANCELLED, event)
    community = await _community(uow, event)
    changes = parse_edit(field_name, value, event, community.timezone, now)
    changed = await uow.events.change(event.id, now, **changes)
    if changed is None:
        raise EventUnavailable(EventProblem.CANCELLED, event)
    await _promote(uow, notices, changed, community, now)
    await notices.card_changed(uow, changed, community, await uow.events.counts(changed.id))
    await uow.audit.record(
        actor_id=actor_id,
        action="event.edit",
        community_id=community.id,
        details={
            "event_id": changed.id,
            "field": field_name.lower(),
            **{name: _plain(value) for name, value in changes.items()},
        },
        now=now,
    )
    return changed


@dataclass(frozen=True, slots=True)
class Cancellation:
    event: Event
    already: bool  # it was cancelled before: nobody was told again
    notified: int


async def cancel(
    uow: UnitOfWork,
    notices: EventNotices,
    *,
    event_id: int,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> Cancellation:
    """Cancel an event: everyone registered is told in private, the card says so; audited."""
    event = await operated_event(uow, event_id, operated)
    if not await uow.events.cancel(event.id, now):
        return Cancellation(event=event, already=True, notified=0)
    cancelled = await uow.events.get(event.id)
    assert cancelled is not None  # changed in this very transaction
    community = await _community(uow, cancelled)
    notified = 0
    for member_id in await uow.events.members_with(cancelled.id, REGISTERED):
        member = await uow.members.get(member_id)
        if member is None or not member.writable:
            continue
        key = f"event-cancelled:{cancelled.id}:{member_id}"
        notified += await notices.cancelled(uow, key, member, community, cancelled)
    await notices.card_changed(uow, cancelled, community, await uow.events.counts(cancelled.id))
    await uow.audit.record(
        actor_id=actor_id,
        action="event.cancel",
        community_id=community.id,
        details={"event_id": cancelled.id, "title": cancelled.title, "notified": notified},
        now=now,
    )
    return Cancellation(event=cancelled, already=False, notified=notified)


@dataclass(frozen=True, slots=True)
class Report:
    """/event_report: registrations, attendance and what attendees thought."""

    event: Event
    counts: RsvpCounts
    attended: int
    answers: int  # attendees who gave any feedback
    average_rating: float | None
    ratings: int
    nps: int | None
    recommendations: int
    comments: list[str] = field(default_factory=list)


async def report(uow: UnitOfWork, *, event_id: int, operated: Collection[int]) -> Report:
    return await _report(uow, await operated_event(uow, event_id, operated))


async def community_reports(
    uow: UnitOfWork, *, community_id: int, now: datetime, limit: int = 20
) -> list[Report]:
    """The reports of a community's events: up to ``limit`` that have not ended, soonest
    first, then up to ``limit`` that have, latest first (cancelled ones included)."""
    return [
        await _report(uow, event)
        for event in await uow.events.of_community(community_id, now, limit)
    ]


async def _report(uow: UnitOfWork, event: Event) -> Report:
    feedback = await uow.events.feedback(event.id)
    ratings = [rating for rating, _, _ in feedback if rating is not None]
    scores = [score for _, score, _ in feedback if score is not None]
    return Report(
        event=event,
        counts=await uow.events.counts(event.id),
        attended=len(await uow.events.attendees(event.id)),
        answers=len(feedback),
        average_rating=average(ratings),
        ratings=len(ratings),
        nps=nps(scores),
        recommendations=len(scores),
        comments=[comment for _, _, comment in feedback if comment],
    )


# -- members


@dataclass(frozen=True, slots=True)
class RsvpResult:
    """A member's answer: where they stand now and the card's counts."""

    event: Event
    status: RsvpStatus
    changed: bool
    counts: RsvpCounts
    waitlist_position: int | None  # 1 = next to move up
    promoted: list[int]


async def answer(
    uow: UnitOfWork,
    notices: EventNotices,
    *,
    event_id: int,
    member_id: int,
    answer: Answer,
    now: datetime,
    update_id: int | None = None,
) -> RsvpResult:
    """Record a member's Going / Maybe / Can't go.

    When the event is full, Going joins the waitlist; when a going member steps back, the
    first waitlisted member moves up and is told. Raises EventUnavailable.
    """
    event = await uow.events.get(event_id, lock=True)  # one RSVP of this event at a time
    if event is None:
        raise EventUnavailable(EventProblem.UNKNOWN)
    community = await _community(uow, event)
    await _ensure_member(uow, event, member_id)
    problem = registration_problem(event, answer, now)
    if problem is not None:
        raise EventUnavailable(problem, event)
    previous = await uow.events.rsvp(event.id, member_id)
    counts = await uow.events.counts(event.id)
    step = transition(previous, answer, going=counts.going, capacity=event.capacity)
    promoted: list[int] = []
    if step.changed:
        await uow.events.set_rsvp(event.id, member_id, step.status, now)
        await record_activity(uow, community, member_id, ActivityKind.RSVP, now, update_id)
        if step.frees_seat:
            promoted = await _promote(uow, notices, event, community, now)
        counts = await uow.events.counts(event.id)
        await notices.card_changed(uow, event, community, counts)
    position = None
    if step.status is RsvpStatus.WAITLISTED:
        waiting = await uow.events.first_waitlisted(event.id, WAITLIST_SCAN)
        position = waiting.index(member_id) + 1 if member_id in waiting else None
    return RsvpResult(
        event=event,
        status=step.status,
        changed=step.changed,
        counts=counts,
        waitlist_position=position,
        promoted=promoted,
    )


@dataclass(frozen=True, slots=True)
class Listing:
    """An upcoming event as one member sees it."""

    event: Event
    community: CommunityProfile
    counts: RsvpCounts
    mine: RsvpStatus | None


async def upcoming(
    uow: UnitOfWork,
    *,
    communities: Sequence[CommunityProfile],
    member_id: int,
    now: datetime,
    limit: int = 10,
) -> list[Listing]:
    """The communities' events that have not ended, soonest first, with the member's answer."""
    by_id = {community.id: community for community in communities}
    listings: list[Listing] = []
    for event in await uow.events.upcoming(by_id.keys(), now, limit):
        listings.append(
            Listing(
                event=event,
                community=by_id[event.community_id],
                counts=await uow.events.counts(event.id),
                mine=await uow.events.rsvp(event.id, member_id),
            )
        )
    return listings


@dataclass(frozen=True, slots=True)
class Attendance:
    """A recorded on-site check-in and the points it earned."""

    event: Event
    community: CommunityProfile
    points: int
    balance: int


async def attend(
    uow: UnitOfWork,
    *,
    code: str,
    member_id: int,
    now: datetime,
    update_id: int | None = None,
) -> Attendance:
    """Check a member in with an event's code and credit its points (once, by ledger key).

    Raises UnknownCode, CheckinClosed (right code, wrong time: another event's code, or
    too early or late), EventUnavailable (cancelled, not a member) or AlreadyAttended.
    """
    event = await uow.events.by_code(code)
    if event is None:
        raise UnknownCode(code)
    if event.cancelled:
        raise EventUnavailable(EventProblem.CANCELLED, event)
    community = await _community(uow, event)
    opens, closes = checkin_window(event)
    if not opens <= now < closes:
        raise CheckinClosed(event, too_early=now < opens, timezone=community.timezone)
    await _ensure_member(uow, event, member_id)
    if not await uow.events.attend(event.id, member_id, now):
        raise AlreadyAttended(event)
    if event.points > 0:
        await points.credit(
            uow,
            community_id=community.id,
            member_id=member_id,
            amount=event.points,
            kind=EntryKind.EARN,
            reason="event",
            key=f"event:{event.id}:{member_id}",
            now=now,
            timezone=community.timezone,
            rules=points.rules_of(community),
        )
    await record_activity(uow, community, member_id, ActivityKind.ATTENDANCE, now, update_id)
    return Attendance(
        event=event,
        community=community,
        points=event.points,
        balance=await uow.points.balance(community.id, member_id),
    )


async def give_feedback(
    uow: UnitOfWork,
    *,
    event_id: int,
    member_id: int,
    now: datetime,
    rating: int | None = None,
    recommend: int | None = None,
    comment: str | None = None,
    update_id: int | None = None,
) -> Event:
    """Store one answer of an attendee's feedback (answering again replaces it).

    Raises EventUnavailable(NOT_ATTENDED) for anyone who did not check in.
    """
    event = await uow.events.get(event_id)
    if event is None:
        raise EventUnavailable(EventProblem.UNKNOWN)
    if not await uow.events.attended(event.id, member_id):
        raise EventUnavailable(EventProblem.NOT_ATTENDED, event)
    if rating is not None and not 1 <= rating <= 5:
        raise ValueError("a rating is 1-5")
    if recommend is not None and not 0 <= recommend <= 10:
        raise ValueError("a recommendation is 0-10")
    answers = {
        name: value
        for name, value in (("rating", rating), ("recommend", recommend), ("comment", comment))
        if value is not None
    }
    await uow.events.save_feedback(event.id, member_id, now, **answers)
    community = await _community(uow, event)
    await record_activity(uow, community, member_id, ActivityKind.FEEDBACK, now, update_id)
    return event


# -- the scheduler

REMINDERS_AHEAD = timedelta(days=7)  # operators see the reminders of events this close
REMINDERS_SCAN = 100  # upcoming events looked at for them


@dataclass(frozen=True, slots=True)
class ComingReminder:
    """A reminder ``send_reminders`` will send ``hours`` before ``event`` starts, at ``at``
    (UTC), to ``members`` going members (as many as it would reach now)."""

    event: Event
    hours: int
    at: datetime
    members: int


async def coming_reminders(
    uow: UnitOfWork,
    community_id: int,
    now: datetime,
    hours: Sequence[int],
    *,
    within: timedelta = REMINDERS_AHEAD,
) -> list[ComingReminder]:
    """The reminders still to come of the community's events starting within ``within``,
    soonest first."""
    coming = []
    for event in await uow.events.upcoming([community_id], now, REMINDERS_SCAN):
        if not now < event.starts_at <= now + within:
            continue
        for offset in sorted(set(hours), reverse=True):
            at = event.starts_at - timedelta(hours=offset)
            if at > now:
                members = len(await uow.events.to_remind(event.id, offset))
                coming.append(ComingReminder(event, offset, at, members))
    return sorted(coming, key=lambda reminder: (reminder.at, reminder.event.id))


async def send_reminders(
    uow_factory: UnitOfWorkFactory, notices: EventNotices, now: datetime, hours: Sequence[int]
) -> int:
    """Remind going members who started the bot, ``hours`` before each event (never twice).

    Returns how many reminders were queued.
    """
    if not hours:
        return 0
    async with uow_factory() as uow:
        events = await uow.events.starting_between(now, now + timedelta(hours=max(hours)))
    queued = 0
    for event in events:
        due = reminder_due(event.starts_at, now, hours)
        if due is None:
            continue
        async with uow_factory() as uow:
            community = await uow.communities.get(event.community_id)
            if community is None:
                continue
            for member_id in await uow.events.to_remind(event.id, due):
                member = await uow.members.get(member_id)
                if member is None or not member.writable:
                    continue
                await uow.events.mark_reminded(event.id, member_id, due)
                key = f"event-reminder:{event.id}:{member_id}:{due}"
                queued += await notices.reminder(uow, key, member, community, event, due)
            await uow.commit()
    return queued


async def request_feedback(
    uow_factory: UnitOfWorkFactory, notices: EventNotices, now: datetime
) -> int:
    """Once an event's check-in has closed, ask each attendee for feedback (once).

    Returns how many questions were queued.
    """
    closed_before = now - CHECKIN_CLOSES_AFTER
    async with uow_factory() as uow:
        events = await uow.events.awaiting_feedback(
            closed_before - FEEDBACK_LOOKBACK, closed_before
        )
    queued = 0
    for event in events:
        async with uow_factory() as uow:
            community = await uow.communities.get(event.community_id)
            if community is None or not await uow.events.mark_feedback_requested(event.id, now):
                continue
            for member_id in await uow.events.attendees(event.id):
                member = await uow.members.get(member_id)
                if member is None or not member.writable:
                    continue
                key = f"event-feedback:{event.id}:{member_id}"
                queued += await notices.feedback_request(uow, key, member, community, event)
            await uow.commit()
    return queued


# -- shared steps


async def _promote(
    uow: UnitOfWork,
    notices: EventNotices,
    event: Event,
    community: CommunityProfile,
    now: datetime,
) -> list[int]:
    """Move waitlisted members into free seats, first come first; tell those we can."""
    counts = await uow.events.counts(event.id)
    promoted = await uow.events.first_waitlisted(event.id, seats_to_fill(counts, event.capacity))
    for member_id in promoted:
        await uow.events.set_rsvp(event.id, member_id, RsvpStatus.GOING, now)
        member = await uow.members.get(member_id)
        if member is not None and member.writable:
            key = f"event-moved-up:{event.id}:{member_id}:{int(now.timestamp())}"
            await notices.moved_up(uow, key, member, community, event)
    return promoted


async def _community(uow: UnitOfWork, event: Event) -> CommunityProfile:
    community = await uow.communities.get(event.community_id)
    assert community is not None  # the event would have gone with it (ON DELETE CASCADE)
    return community


async def _ensure_member(uow: UnitOfWork, event: Event, member_id: int) -> None:
    membership = await uow.memberships.get(event.community_id, member_id)
    if membership is None or not membership.is_current:
        raise EventUnavailable(EventProblem.NOT_A_MEMBER, event)


def _plain(value: object) -> object:
    """An audit detail as JSON can hold it."""
    return value.isoformat() if isinstance(value, datetime) else value
