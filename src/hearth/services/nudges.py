"""Reactivation nudges: each community's daily plan, sending at each member's time, and
recording who came back.

Every morning (local time, after the nightly recompute) each community's drifting members
are decided once: planned, held out or skipped, one row per member and local day
(``nudge``). Planned nudges are sent at their time after a last check (the member may have
come back, opted out or blocked the bot since the morning); marking one sent and queueing
it in the outbox happen in one transaction, so a job that runs twice sends nothing twice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from hearth.domain.calendar import local_day
from hearth.domain.lifecycle import Stage
from hearth.domain.members import CommunityProfile
from hearth.domain.nudges import (
    PLAN_FROM,
    STREAK_WORTH_RESTARTING,
    Candidate,
    DayPlan,
    Decision,
    NudgeFacts,
    NudgeKind,
    NudgeMessage,
    NudgeRecord,
    NudgeSettings,
    NudgeStatus,
    SkipReason,
    builtin_templates,
    choose_kind,
    choose_template,
    custom_template,
    plan_day,
    send_check,
    send_deadline,
)
from hearth.services.ports import NudgeSender, UnitOfWork, UnitOfWorkFactory


class PlannedDay(NamedTuple):
    """What one community's plan for a local day decided."""

    community_id: int
    day: date
    planned: int
    held_out: int
    skipped: int


class PreviewLine(NamedTuple):
    """One member the plan decided about today, and why: their stage, the escalation step
    and kind (in ``decision``), and the facts a nudge would mention."""

    decision: Decision  # of today's stored plan: its status now (SENT once sent)
    name: str
    stage: Stage | None  # None for a member decided this morning who has left since
    high_value: bool
    facts: NudgeFacts


class NudgePreview(NamedTuple):
    """Today's plan of a community: as stored once it was made (``made``), else as it
    would be made now, computed without writing."""

    community_id: int
    day: date  # the community's local day
    settings: NudgeSettings
    sent_today: int  # nudges already planned or sent today (they count against the cap)
    plan: DayPlan  # every decision, and how many members were left out for each reason
    lines: tuple[PreviewLine, ...]  # the decisions, in the plan's order, with names and why
    made: bool = False  # today's plan was made: ``plan`` holds its stored decisions

    @property
    def planned(self) -> tuple[PreviewLine, ...]:
        return self._with(NudgeStatus.PLANNED, NudgeStatus.SENT)

    @property
    def held_out(self) -> tuple[PreviewLine, ...]:
        return self._with(NudgeStatus.HELD_OUT)

    @property
    def skipped(self) -> tuple[PreviewLine, ...]:
        return self._with(NudgeStatus.SKIPPED)

    def _with(self, *statuses: NudgeStatus) -> tuple[PreviewLine, ...]:
        return tuple(line for line in self.lines if line.decision.status in statuses)


async def plan_due(uow_factory: UnitOfWorkFactory, now: datetime) -> list[PlannedDay]:
    """Plan today's nudges of each active community whose local time is past ``PLAN_FROM``,
    whose stages were recomputed today and whose local day was not planned yet; one
    transaction per community.

    Run every few minutes: each community is planned once a local day, and a day missed
    while the bot was down is planned at the next run (late nudges are dropped at sending).
    Catching up, the plan waits for the day's recompute: yesterday's stages would nudge
    members who came back and miss those who drifted away.
    """
    async with uow_factory() as uow:
        communities = await uow.communities.active()
    done: list[PlannedDay] = []
    for community in communities:
        local = now.astimezone(ZoneInfo(community.timezone))
        if local.time() < PLAN_FROM:
            continue
        today = local.date()
        async with uow_factory() as uow:
            recomputed = await uow.engagement.last_computed_on(community.id)
            if recomputed is None or recomputed < today:
                continue  # not yet: a later run plans it
            if not await uow.nudges.claim_plan(community.id, today, now):
                continue
            settings = await uow.nudges.settings(community.id)
            _, _, plan = await _plan(uow, community, today, settings, now)
            await uow.nudges.record(community.id, today, plan.decisions, now)
            await uow.commit()
        done.append(_planned_day(community.id, today, plan))
    return done


async def _plan(
    uow: UnitOfWork,
    community: CommunityProfile,
    today: date,
    settings: NudgeSettings,
    now: datetime,
) -> tuple[list[Candidate], int, DayPlan]:
    """The community's candidates for a local day as of ``now``, the nudges planned or sent
    already that day (they count against the daily cap), and the plan."""
    candidates = await uow.nudges.candidates(community.id, community.timezone, today, now)
    sent_today = await uow.nudges.count_sent(community.id, today)
    plan = plan_day(
        community.id, candidates, today, community.timezone, settings, sent_today=sent_today
    )
    return candidates, sent_today, plan


def _planned_day(community_id: int, day: date, plan: DayPlan) -> PlannedDay:
    statuses = [decision.status for decision in plan.decisions]
    return PlannedDay(
        community_id,
        day,
        planned=statuses.count(NudgeStatus.PLANNED),
        held_out=statuses.count(NudgeStatus.HELD_OUT),
        skipped=statuses.count(NudgeStatus.SKIPPED),
    )


async def send_due(
    uow_factory: UnitOfWorkFactory, sender: NudgeSender, now: datetime, *, batch: int = 200
) -> int:
    """Send the planned nudges whose time has come (or drop them, with the reason); how
    many were queued.

    Each nudge is checked again at its time (``send_check``) and, when it may go, marked
    sent and queued in the outbox in one transaction: the mark is conditional (planned →
    sent), so a second run or a second process sends nothing twice.
    """
    queued = 0
    forgotten: dict[int, frozenset[int]] = {}  # per community, read once per run
    while True:
        async with uow_factory() as uow:
            due = await uow.nudges.due(now, batch)
        changed = 0
        for record in due:
            async with uow_factory() as uow:
                if record.community_id not in forgotten:
                    forgotten[record.community_id] = await uow.engagement.forgotten_members(
                        record.community_id
                    )
                outcome = await _send(uow, sender, record, forgotten[record.community_id], now)
                await uow.commit()
            if outcome is not None:
                changed += 1
                queued += outcome
        if len(due) < batch or not changed:
            return queued


async def _send(
    uow: UnitOfWork,
    sender: NudgeSender,
    record: NudgeRecord,
    forgotten: frozenset[int],
    now: datetime,
) -> int | None:
    """Send one due nudge or drop it: 1 when a message was queued, 0 when it was dropped
    (or queued already), None when another worker had dealt with it."""
    community = await uow.communities.get(record.community_id)
    member = await uow.members.get(record.member_id)
    if community is None or member is None or not community.active:
        return 0 if await uow.nudges.mark_skipped(record.id, SkipReason.PAUSED) else None
    settings = await uow.nudges.settings(community.id)
    membership = await uow.memberships.get(community.id, member.id)
    preference = await uow.nudges.preference(member.id)
    today = local_day(now, community.timezone)
    reason = send_check(
        record.due_at or now,
        now,
        timezone=community.timezone,
        quiet=preference.quiet,
        paused=settings.paused,
        in_group=membership is not None and membership.is_current,
        writable=member.writable and member.id not in forgotten,
        nudges_enabled=preference.enabled,
        active_today=await uow.nudges.active_on(community.id, member.id, today),
    )
    if record.status is NudgeStatus.HELD_OUT:
        # The holdout's contact passes the same checks at the same time, unsent, so that
        # both groups' return rates count the same kind of contact.
        if reason is not None:
            return 0 if await uow.nudges.mark_skipped(record.id, reason) else None
        return 0 if await uow.nudges.mark_held_out(record.id, now) else None
    message = None
    if reason is None:
        message = await message_for(uow, record, community, now)
    if message is None:
        dropped = await uow.nudges.mark_skipped(record.id, reason or SkipReason.LATE)
        return 0 if dropped else None
    event = message.facts.event if message.kind is NudgeKind.EVENT else None
    marked = await uow.nudges.mark_sent(
        record.id,
        kind=message.kind,
        template=message.template,
        event_id=None if event is None else event.event_id,
        now=now,
    )
    if not marked:
        return None
    deadline = send_deadline(
        record.due_at or now, now, timezone=community.timezone, quiet=preference.quiet
    )
    return int(await sender.nudge(uow, member, community, message, not_after=deadline))


async def expired(uow: UnitOfWork, nudge_id: int) -> bool:
    """A sent nudge whose message expired in the outbox before it could go (the outbox was
    backed up past its deadline): it ends skipped as late. False when it was not sent."""
    return await uow.nudges.mark_expired(nudge_id)


async def record_returns(uow_factory: UnitOfWorkFactory, now: datetime) -> int:
    """Mark the contacts whose member took part within the return window; how many."""
    async with uow_factory() as uow:
        marked = await uow.nudges.record_returns(now)
        await uow.commit()
    return marked


async def preview(uow: UnitOfWork, community: CommunityProfile, now: datetime) -> NudgePreview:
    """Today's plan for ``community``; writes nothing.

    Before today's plan is made: the plan as it would be made at ``now``. Once it was made:
    its stored decisions as they stand (planned, sent, held out, skipped), and the members
    it left out counted as of ``now`` — a fresh plan would count the members it decided
    about as contacted today.
    """
    today = local_day(now, community.timezone)
    settings = await uow.nudges.settings(community.id)
    found, sent_today, plan = await _plan(uow, community, today, settings, now)
    made = await uow.nudges.planned_on(community.id) == today
    if made:
        stored = await uow.nudges.decided_on(community.id, today)
        decided = {record.member_id for record in stored}
        rest = plan_day(
            community.id,
            [each for each in found if each.member_id not in decided],
            today,
            community.timezone,
            settings,
            sent_today=sent_today,
        )
        plan = DayPlan(tuple(_as_decision(record) for record in stored), rest.left_out)
    candidates = {each.member_id: each for each in found}
    names = await uow.members.first_names([each.member_id for each in plan.decisions])
    lines: list[PreviewLine] = []
    for decision in plan.decisions:
        candidate = candidates.get(decision.member_id)
        lines.append(
            PreviewLine(
                decision,
                names.get(decision.member_id, str(decision.member_id)),
                None if candidate is None else candidate.stage,
                candidate is not None and candidate.high_value,
                NudgeFacts() if candidate is None else candidate.facts,
            )
        )
    return NudgePreview(community.id, today, settings, sent_today, plan, tuple(lines), made)


def _as_decision(record: NudgeRecord) -> Decision:
    """A stored decision as the plan made it, with its status and kind as they are now."""
    return Decision(
        record.member_id,
        record.episode,
        record.status,
        record.step,
        record.kind,
        record.due_at,
        record.reason,
        record.offer_points,
    )


async def message_for(
    uow: UnitOfWork, record: NudgeRecord, community: CommunityProfile, now: datetime
) -> NudgeMessage | None:
    """The message a planned nudge would send now; None when it says nothing (a holdout
    or skipped decision).

    The facts are read again: a reason planned in the morning that is no longer true (the
    event was cancelled, the points were spent) gives way to the best one that still is.
    Operator templates of the kind replace the built-in ones; the member never gets the
    template they got last time of that kind when there is another.
    """
    if record.kind is None:
        return None
    found = await uow.nudges.facts(community.id, [record.member_id], community.timezone, now)
    facts = found.get(record.member_id, NudgeFacts())
    kind = record.kind
    if not _still_true(kind, facts):
        kind = choose_kind(record.step, facts, None)
    custom = {
        custom_template(template.id): template.text
        for template in await uow.nudges.templates(community.id)
        if template.kind is kind
    }
    seen = [
        earlier.template
        for earlier in reversed(await uow.nudges.history(community.id, record.member_id))
        if earlier.status is NudgeStatus.SENT and earlier.kind is kind
    ]
    template = choose_template(kind, list(custom) or builtin_templates(kind), seen)
    return NudgeMessage(
        nudge_id=record.id,
        kind=kind,
        template=template,
        custom_text=custom.get(template),
        days_away=max((local_day(now, community.timezone) - record.episode).days, 0),
        facts=facts,
        bonus=record.offer_points or 0,  # fixed when planned: a claim credits this much
    )


def _still_true(kind: NudgeKind, facts: NudgeFacts) -> bool:
    """Whether what a kind of nudge says about the member is (still) true."""
    if kind is NudgeKind.STREAK:
        return facts.best_streak >= STREAK_WORTH_RESTARTING
    if kind is NudgeKind.EVENT:
        return facts.event is not None
    if kind is NudgeKind.EXPIRING:
        return facts.expiring_points > 0 and facts.expiring_on is not None
    if kind is NudgeKind.QUIZ:
        return facts.quiz_topic is not None
    return True  # a light reminder and a comeback offer need no fact


__all__ = [
    "NudgePreview",
    "PlannedDay",
    "PreviewLine",
    "expired",
    "message_for",
    "plan_due",
    "preview",
    "record_returns",
    "send_due",
]
