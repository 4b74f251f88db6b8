"""Reactivation nudges through the scheduler's plan and send jobs: who gets one, when, how
often, and what is recorded for the members who get nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import update
from sqlmodel import col

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.events import EventDraft
from hearth.domain.lifecycle import Stage
from hearth.domain.members import ChatRole, CommunityProfile, MemberProfile, Person
from hearth.domain.nudges import (
    Decision,
    NudgeKind,
    NudgeMessage,
    NudgePreference,
    NudgeSettings,
    NudgeStatus,
    NudgeTemplate,
    QuietHours,
    ReturnRate,
    SkipReason,
    in_holdout,
)
from hearth.domain.streaks import CheckinOutcome
from hearth.handlers.callbacks import NudgeAction, NudgeTap
from hearth.scheduler import jobs
from hearth.services import nudges
from hearth.services.ports import UnitOfWork
from hearth.simulate.clock import VirtualClock
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.conftest import BotHarness

GROUP = -1001000000001
ZONE = "Asia/Shanghai"  # UTC+8, no daylight saving
DAY = date(2026, 3, 2)  # the first day the plan runs
AWAY = DAY - timedelta(days=40)  # the members' last active day
JOINED = datetime(2025, 10, 1, tzinfo=UTC)
NO_HOLDOUT = NudgeSettings(holdout_percent=0)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in the community's zone, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def took_part(
    member_id: int, at: datetime, kind: ActivityKind = ActivityKind.MESSAGE
) -> ActivityRecord:
    return ActivityRecord(GROUP, member_id, kind, at, (at + timedelta(hours=8)).date())


@dataclass
class Sent:
    member_id: int
    at: datetime
    message: NudgeMessage


@dataclass
class RecordingSender:
    """Stands in for the outbox: records each nudge queued, and when (once per nudge)."""

    now: datetime = JOINED
    sent: list[Sent] = field(default_factory=list)

    async def nudge(
        self,
        uow: UnitOfWork,
        member: MemberProfile,
        community: CommunityProfile,
        message: NudgeMessage,
        *,
        not_after: datetime | None = None,
    ) -> bool:
        if any(each.message.nudge_id == message.nudge_id for each in self.sent):
            return False
        self.sent.append(Sent(member.id, self.now, message))
        return True

    def to(self, member_id: int) -> list[Sent]:
        return [each for each in self.sent if each.member_id == member_id]


async def community(uow_factory: UnitOfWorkFactory, settings: NudgeSettings = NO_HOLDOUT) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone=ZONE, locale="en", now=JOINED)
        await uow.nudges.save_settings(GROUP, settings, JOINED)
        await uow.commit()


async def drifting(
    uow_factory: UnitOfWorkFactory,
    member_id: int,
    *,
    habit: int | None = 20,
    stage: Stage = Stage.DORMANT,
    high_value: bool = False,
    **member: object,
) -> None:
    """A member who started the bot, last took part on ``AWAY`` (three times at ``habit``
    o'clock local, when given) and whose stage is ``stage``."""
    async with uow_factory() as uow:
        await uow.members.upsert(Person(member_id, f"Member {member_id}"), JOINED)
        await uow.members.update(member_id, **{"started_bot": True, **member})
        await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=JOINED)
        uow.session.add(
            MembershipStageRow(
                community_id=GROUP,
                member_id=member_id,
                stage=stage.value,
                since=AWAY,
                computed_on=DAY,
                value_score=5 if high_value else 2,
                high_value=high_value,
            )
        )
        hour = 12 if habit is None else habit
        days = (0,) if habit is None else (0, 1, 2)
        await uow.activity.add_many(
            [took_part(member_id, local(AWAY - timedelta(days=d), hour, 10)) for d in days]
        )
        await uow.commit()


async def recomputed(uow_factory: UnitOfWorkFactory, day: date) -> None:
    """The night's recompute of ``day``, as far as the plan can tell: the stages the test
    set, recomputed that day."""
    async with uow_factory() as uow:
        await uow.session.execute(
            update(MembershipStageRow)
            .where(col(MembershipStageRow.computed_on) < day)
            .values(computed_on=day)
        )
        await uow.commit()


async def run(uow_factory: UnitOfWorkFactory, sender: RecordingSender, at: datetime) -> None:
    """The plan job then the send job, as the scheduler runs them at ``at`` (after that
    day's recompute)."""
    sender.now = at
    await recomputed(uow_factory, (at + timedelta(hours=8)).date())
    await jobs.plan_nudges(uow_factory, VirtualClock(at))
    await jobs.send_nudges(uow_factory, sender, VirtualClock(at))


async def run_day(
    uow_factory: UnitOfWorkFactory,
    sender: RecordingSender,
    day: date,
    hours: tuple[int, ...] = tuple(range(24)),
) -> None:
    """The jobs at five past each half hour of a local day (the send job runs every 5
    minutes; between its runs nothing falls due)."""
    for hour in hours:
        for minute in (5, 35):
            await run(uow_factory, sender, local(day, hour, minute))


async def decisions(uow_factory: UnitOfWorkFactory, member_id: int) -> list[tuple[object, ...]]:
    """A member's recorded decisions, oldest first: (day, status, step, kind, reason)."""
    async with uow_factory() as uow:
        history = await uow.nudges.history(GROUP, member_id)
    return [
        (each.planned_on, each.status, each.step, each.kind, each.reason)
        for each in reversed(history)
    ]


async def test_a_dormant_member_gets_exactly_one_nudge_at_their_habitual_hour(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY)

    [sent] = sender.sent
    assert sent.member_id == 1
    assert sent.at == local(DAY, 20, 35)  # the first run after 20:30, their usual hour
    assert (sent.message.kind, sent.message.template) == (NudgeKind.LIGHT, "light:0")
    assert sent.message.days_away == 40
    assert await decisions(uow_factory, 1) == [(DAY, NudgeStatus.SENT, 1, NudgeKind.LIGHT, None)]


async def test_replaying_the_plan_and_the_send_changes_nothing(uow_factory: UnitOfWorkFactory):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    sender = RecordingSender()

    for _ in range(2):
        await run(uow_factory, sender, local(DAY, 4, 5))
        await run(uow_factory, sender, local(DAY, 20, 31))
    await run_day(uow_factory, sender, DAY)

    assert len(sender.sent) == 1
    assert len(await decisions(uow_factory, 1)) == 1


async def test_a_member_usually_active_at_night_is_nudged_after_their_quiet_hours(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=23)  # inside the default quiet hours 21:00–09:00
    await drifting(uow_factory, 2, habit=None)  # no habit: the community default 10:30
    await drifting(uow_factory, 3, habit=19)
    async with uow_factory() as uow:  # … but they chose quiet hours from 18:00 to 11:00
        await uow.nudges.set_preference(3, NudgePreference(True, QuietHours(18, 11)), JOINED)
        await uow.commit()
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY)

    assert [each.at for each in sender.to(1)] == [local(DAY, 10, 35)]
    assert [each.at for each in sender.to(2)] == [local(DAY, 10, 35)]
    assert [each.at for each in sender.to(3)] == [local(DAY, 11, 35)]


async def test_a_nudge_that_could_not_go_out_in_time_is_dropped_rather_than_sent_at_night(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY, hours=(4,))
    await run(uow_factory, sender, local(DAY, 21, 5))  # the bot was down from 20:00

    assert sender.sent == []
    assert await decisions(uow_factory, 1) == [
        (DAY, NudgeStatus.SKIPPED, 1, NudgeKind.LIGHT, SkipReason.LATE)
    ]


async def test_no_nudge_goes_to_members_who_opted_out_or_cannot_be_written_to(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1)
    await drifting(uow_factory, 2, started_bot=False)
    await drifting(uow_factory, 3, reachable=False)  # blocked the bot
    await drifting(uow_factory, 4, forgotten_at=JOINED)  # had their data erased
    await drifting(uow_factory, 5)
    await drifting(uow_factory, 6)
    async with uow_factory() as uow:
        await uow.nudges.set_preference(5, NudgePreference(enabled=False), JOINED)
        await uow.commit()
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY, hours=(4,))
    async with uow_factory() as uow:  # member 6 turns nudges off during the day
        await uow.nudges.set_preference(6, NudgePreference(enabled=False), JOINED)
        await uow.commit()
    await run_day(uow_factory, sender, DAY, hours=tuple(range(5, 24)))

    assert [each.member_id for each in sender.sent] == [1]
    for member_id in (2, 3, 4, 5):
        assert await decisions(uow_factory, member_id) == []
    assert await decisions(uow_factory, 6) == [
        (DAY, NudgeStatus.SKIPPED, 1, NudgeKind.LIGHT, SkipReason.OPTED_OUT)
    ]


async def test_a_member_who_took_part_today_is_not_nudged_that_evening(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY, hours=(4, 5))
    async with uow_factory() as uow:
        await uow.activity.add_many([took_part(1, local(DAY, 12))])
        await uow.commit()
    await run_day(uow_factory, sender, DAY, hours=tuple(range(6, 24)))

    assert sender.sent == []
    [(_, status, _, _, reason)] = await decisions(uow_factory, 1)
    assert (status, reason) == (NudgeStatus.SKIPPED, SkipReason.ACTIVE_TODAY)


async def test_nudges_come_a_week_apart_escalate_and_stop_after_three_in_an_episode(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    async with uow_factory() as uow:  # they once had a 6-day check-in streak
        streak = CheckinOutcome(AWAY, 6, 6, 0, 0, False, None, False, 0)
        await uow.checkins.add(GROUP, 1, streak, local(AWAY, 20))
        await uow.commit()
    sender = RecordingSender()

    for offset in range(30):
        await run_day(uow_factory, sender, DAY + timedelta(days=offset), hours=(4, 20))

    sent = sender.to(1)
    assert [each.at for each in sent] == [
        local(DAY + timedelta(days=days), 20, 35) for days in (0, 7, 14)
    ]
    # a light reminder, a reason to return (their streak), then the comeback offer
    assert [each.message.kind for each in sent] == [
        NudgeKind.LIGHT,
        NudgeKind.STREAK,
        NudgeKind.COMEBACK,
    ]
    assert sent[1].message.facts.best_streak == 6
    assert sent[2].message.bonus == NudgeSettings().comeback_points
    assert [step for _, _, step, _, _ in await decisions(uow_factory, 1)] == [1, 2, 3]


async def test_a_member_who_returns_ends_the_episode_and_a_later_one_starts_afresh(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY, hours=(4, 20))
    back = local(DAY + timedelta(days=2), 20, 50)
    async with uow_factory() as uow:
        await uow.activity.add_many([took_part(1, back)])
        await uow.commit()
    for offset in range(1, 12):
        await run_day(uow_factory, sender, DAY + timedelta(days=offset), hours=(4, 20))

    async with uow_factory() as uow:
        first, second = reversed(await uow.nudges.history(GROUP, 1))
    assert first.returned_at == back
    assert second.returned_at is None
    # a week after the first nudge, and a new episode (from the day they came back)
    assert second.planned_on == DAY + timedelta(days=7)
    assert (second.episode, second.step, second.kind) == (back.date(), 1, NudgeKind.LIGHT)
    assert [each.message.days_away for each in sender.to(1)] == [40, 5]


async def test_the_holdout_gets_recorded_contacts_and_no_message(uow_factory: UnitOfWorkFactory):
    await community(uow_factory, NudgeSettings(holdout_percent=50))
    members = range(1, 13)
    for member_id in members:
        await drifting(uow_factory, member_id, habit=20)
    held = {member_id for member_id in members if in_holdout(GROUP, member_id, AWAY, percent=50)}
    assert held
    assert held != set(members)
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY)

    assert {each.member_id for each in sender.sent} == set(members) - held
    for member_id in held:
        assert await decisions(uow_factory, member_id) == [
            (DAY, NudgeStatus.HELD_OUT, 1, None, None)
        ]


async def test_the_daily_cap_goes_to_high_value_members_first(uow_factory: UnitOfWorkFactory):
    await community(uow_factory, NudgeSettings(holdout_percent=0, daily_cap=1))
    await drifting(uow_factory, 1, habit=20)
    await drifting(uow_factory, 2, habit=20, high_value=True)
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY)

    assert [each.member_id for each in sender.sent] == [2]
    assert await decisions(uow_factory, 1) == [
        (DAY, NudgeStatus.SKIPPED, 1, None, SkipReason.DAILY_CAP)
    ]


async def test_paused_nudges_are_recorded_as_such_and_not_sent(uow_factory: UnitOfWorkFactory):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY, hours=(4,))
    async with uow_factory() as uow:
        await uow.nudges.save_settings(GROUP, NudgeSettings(paused=True, holdout_percent=0), JOINED)
        await uow.commit()
    await run_day(uow_factory, sender, DAY, hours=(20,))

    assert sender.sent == []
    [(_, status, _, _, reason)] = await decisions(uow_factory, 1)
    assert (status, reason) == (NudgeStatus.SKIPPED, SkipReason.PAUSED)


async def test_an_operators_template_replaces_the_built_in_ones(uow_factory: UnitOfWorkFactory):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    async with uow_factory() as uow:
        template_id = await uow.nudges.add_template(
            GROUP, NudgeTemplate(0, NudgeKind.LIGHT, "We miss you, {name}!"), 7, JOINED
        )
        await uow.commit()
    sender = RecordingSender()

    await run_day(uow_factory, sender, DAY, hours=(4, 20))

    [sent] = sender.sent
    assert sent.message.template == f"custom:{template_id}"
    assert sent.message.custom_text == "We miss you, {name}!"


async def test_returns_are_recorded_for_the_nudged_and_the_holdout(uow_factory: UnitOfWorkFactory):
    await community(uow_factory, NudgeSettings(holdout_percent=50))
    members = range(1, 13)
    for member_id in members:
        await drifting(uow_factory, member_id, habit=20)
    sender = RecordingSender()
    await run_day(uow_factory, sender, DAY, hours=(4, 20))
    async with uow_factory() as uow:  # everyone takes part two days later
        await uow.activity.add_many(
            [took_part(member_id, local(DAY + timedelta(days=2), 9)) for member_id in members]
        )
        await uow.commit()

    await run_day(uow_factory, sender, DAY + timedelta(days=2), hours=(9, 10))

    async with uow_factory() as uow:
        early = await uow.nudges.outcomes(GROUP, DAY, local(DAY + timedelta(days=2), 10))
        outcomes = await uow.nudges.outcomes(GROUP, DAY, local(DAY + timedelta(days=8), 10))
    held_out = len(members) - len(sender.sent)
    # two days on, their 7 days are not over: recorded, but nobody counts yet
    assert early.members.nudged == ReturnRate(0, 0, waiting=len(sender.sent))
    assert early.members.holdout == ReturnRate(0, 0, waiting=held_out)
    assert outcomes.sent.returned + outcomes.holdout.returned == len(members)
    assert outcomes.sent.returned == len(sender.sent)
    assert outcomes.holdout.returned == outcomes.holdout.contacts == held_out > 0
    assert outcomes.members.nudged == ReturnRate(len(sender.sent), len(sender.sent))
    assert outcomes.members.holdout == ReturnRate(held_out, held_out)


async def test_the_preview_shows_todays_plan_and_why_without_writing(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20, high_value=True)
    await drifting(uow_factory, 2, started_bot=False)
    async with uow_factory() as uow:
        found = await uow.communities.get(GROUP)
        assert found is not None
        shown = await nudges.preview(uow, found, local(DAY, 9))
    [line] = shown.planned
    assert (line.name, line.stage, line.high_value) == ("Member 1", Stage.DORMANT, True)
    assert (line.decision.step, line.decision.kind) == (1, NudgeKind.LIGHT)
    assert line.decision.due_at == local(DAY, 20, 30)
    assert shown.plan.left_out == {SkipReason.NOT_STARTED: 1}
    assert await decisions(uow_factory, 1) == []


async def test_a_reason_no_longer_true_at_sending_gives_way_to_one_that_is(
    uow_factory: UnitOfWorkFactory,
):
    await community(uow_factory)
    await drifting(uow_factory, 1, habit=20)
    starts = local(DAY + timedelta(days=5), 19)
    draft = EventDraft(
        "Track day", "", "Circuit", starts, starts + timedelta(hours=3), None, starts, 0
    )
    async with uow_factory() as uow:
        event = await uow.events.add(GROUP, draft, code="TRACK", actor_id=None, now=JOINED)
        assert event is not None
        planned = Decision(1, AWAY, NudgeStatus.PLANNED, 2, NudgeKind.EVENT, local(DAY, 20, 30))
        await uow.nudges.record(GROUP, DAY, [planned], JOINED)
        await uow.commit()
    async with uow_factory() as uow:
        group = await uow.communities.get(GROUP)
        [record] = await uow.nudges.history(GROUP, 1)
        assert group is not None
        before = await nudges.message_for(uow, record, group, local(DAY, 20, 31))
        await uow.events.cancel(event.id, JOINED)
        after = await nudges.message_for(uow, record, group, local(DAY, 20, 31))
    assert before is not None
    assert after is not None
    assert before.kind is NudgeKind.EVENT
    assert before.facts.event is not None
    assert before.facts.event.event_id == event.id
    assert (after.kind, after.facts.event) == (NudgeKind.LIGHT, None)


async def test_the_nudge_reaches_the_member_in_private_once_with_its_buttons(bot: BotHarness):
    hearth = bot.hearth
    await community(hearth.uow_factory)
    await drifting(hearth.uow_factory, 1, habit=20)

    for at in (local(DAY, 4, 5), local(DAY, 20, 35), local(DAY, 20, 40)):
        hearth.clock.set(at)  # type: ignore[attr-defined]
        await jobs.plan_nudges(hearth.uow_factory, hearth.clock)
        await jobs.send_nudges(hearth.uow_factory, hearth.nudges, hearth.clock)
    await hearth.delivery.drain()

    [message] = bot.session.messages_to(1)
    async with hearth.uow_factory() as uow:
        [record] = await uow.nudges.history(GROUP, 1)
    assert message.button_data() == [
        NudgeTap(nudge_id=record.id, action=NudgeAction.CHECKIN).pack(),
        NudgeTap(nudge_id=record.id, action=NudgeAction.STOP).pack(),
    ]
    assert bot.session.messages_to(GROUP) == []  # never in public
