"""The period-over-period insight on the real database: local days in the community's time
zone, members counted back, activation windows, forgiving streaks, churn counted once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.calendar import local_day
from hearth.domain.events import EventDraft
from hearth.domain.lifecycle import LifecycleRules, Stage, StageChange
from hearth.domain.members import ChatRole, CommunityProfile, JoinVia, Person
from hearth.domain.points import EntryKind, NewEntry
from hearth.domain.streaks import CheckinOutcome
from hearth.services.ports import UnitOfWork
from hearth.services.reports import Compared, Insight, insight, median
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
ZONE = "Asia/Shanghai"  # UTC+8: a local day begins at 16:00 UTC the day before
CLUB = CommunityProfile(
    id=GROUP,
    title="Owners",
    timezone=ZONE,
    locale="en",
    active=True,
    bot_is_admin=True,
    welcome_enabled=True,
)
LAST = date(2026, 3, 15)  # the reports below end on this local day: 9–15 March against 2–8
NOW = datetime(2026, 3, 15, 4, tzinfo=UTC)  # noon on 15 March in Shanghai
ANN, BEN, CAT, DAN, EVA = 1, 2, 3, 4, 5


def local(day: int, hour: int = 12, minute: int = 0) -> datetime:
    """``hour``:``minute`` on ``day`` March 2026 in Shanghai, as a UTC instant."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def march(day: int) -> date:
    return date(2026, 3, day)


async def club(uow: UnitOfWork, *seen: int, since: datetime | None = None) -> None:
    """The community, served since ``since``, with ``seen`` members already there."""
    since = since or local(1)
    await uow.communities.add(GROUP, "Owners", timezone=ZONE, locale="en", now=since)
    for member_id in seen:
        await member(uow, member_id, since, via=JoinVia.SEEN)


async def member(
    uow: UnitOfWork, member_id: int, at: datetime, via: JoinVia = JoinVia.JOIN
) -> None:
    """``member_id`` joins at ``at`` (a join is recorded unless they were only seen)."""
    await uow.members.upsert(Person(member_id, f"M{member_id}"), at)
    await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=at, via=via)
    if via is JoinVia.JOIN:
        await act(uow, member_id, ActivityKind.JOIN, at)


async def leave(uow: UnitOfWork, member_id: int, at: datetime) -> None:
    await uow.memberships.leave(GROUP, member_id, at)
    await act(uow, member_id, ActivityKind.LEAVE, at)


async def act(uow: UnitOfWork, member_id: int, kind: ActivityKind, at: datetime) -> None:
    await uow.activity.add_many([ActivityRecord(GROUP, member_id, kind, at, local_day(at, ZONE))])


async def checkin(
    uow: UnitOfWork, member_id: int, day: int, *, streak: int, freezes: int = 0
) -> None:
    """A stored check-in on ``day`` March that made ``streak`` and left ``freezes`` held."""
    outcome = CheckinOutcome(
        day=march(day),
        streak=streak,
        best=streak,
        freezes=freezes,
        freezes_used=0,
        freeze_earned=False,
        milestone=None,
        first_ever=streak == 1,
        broken_streak=0,
    )
    await uow.checkins.add(GROUP, member_id, outcome, local(day))
    await act(uow, member_id, ActivityKind.CHECKIN, local(day))


async def ledger(
    uow: UnitOfWork, member_id: int, kind: EntryKind, amount: int, at: datetime
) -> None:
    await uow.points.add_entry(
        NewEntry(GROUP, member_id, kind, amount, "test", f"{member_id}:{kind}:{at}", at)
    )


async def report(
    uow_factory: UnitOfWorkFactory, *, last: date = LAST, days: int = 7, now: datetime = NOW
) -> Insight:
    async with uow_factory() as uow:
        return await insight(uow, CLUB, last=last, days=days, now=now)


async def test_points_and_attendance_fall_on_the_local_day_of_their_instant(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await club(uow, ANN, BEN)
        # 00:30 on the 9th in Shanghai is still the 8th in UTC: this week, not the last
        await ledger(uow, ANN, EntryKind.EARN, 10, local(9, 0, 30))
        await ledger(uow, ANN, EntryKind.GRANT, 5, local(8, 23, 30))  # the week before
        await ledger(uow, ANN, EntryKind.SPEND, -7, local(15, 23, 59))
        await ledger(uow, ANN, EntryKind.DEDUCT, -3, local(10))  # neither issued nor redeemed
        await ledger(uow, ANN, EntryKind.EARN, 100, local(16, 0, 1))  # after the period
        draft = EventDraft("Drive", "", "Lake", local(9, 0, 10), local(9, 3), None, local(9), 0)
        event = await uow.events.add(GROUP, draft, code="DRIVE1", actor_id=None, now=local(1))
        assert event is not None
        await uow.events.attend(event.id, ANN, local(9, 0, 10))
        await uow.events.attend(event.id, BEN, local(8, 23, 50))
        await uow.commit()

    figures = await report(uow_factory)

    assert (figures.current.points_issued, figures.current.points_redeemed) == (10, 7)
    assert figures.previous is not None
    assert (figures.previous.points_issued, figures.previous.points_redeemed) == (5, 0)
    assert (figures.current.attendances, figures.current.event_participation) == (1, 0.5)
    assert (figures.previous.attendances, figures.previous.event_participation) == (1, 0.5)
    assert figures.points_issued.change == 100.0  # 10 against 5
    assert figures.points_redeemed.change is None  # from nothing: no percentage to tell


async def test_a_report_that_ends_before_today_counts_its_members_as_they_were_then(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await club(uow, ANN, BEN, CAT)
        await member(uow, DAN, local(10))
        await leave(uow, ANN, local(12))
        await member(uow, EVA, local(15, 9))  # today, after the report's last day
        await leave(uow, BEN, local(15, 10))
        await uow.commit()

    figures = await report(uow_factory, last=march(14))  # 8–14 March against 1–7

    assert (figures.current.members_at_start, figures.current.members) == (3, 3)  # -Ann +Dan
    assert (figures.current.joined, figures.current.left) == (1, 1)
    assert figures.current.churn_rate == pytest.approx(1 / 3)
    assert figures.previous is not None
    assert (figures.previous.members_at_start, figures.previous.members) == (3, 3)
    assert figures.members.change == 0.0


async def test_activation_counts_newcomers_whose_window_closed_and_leaves_out_pending_ones(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await club(uow, ANN)
        await act(uow, ANN, ActivityKind.CHECKIN, local(3))  # seen, never a newcomer
        await member(uow, BEN, local(2, 10))
        await act(uow, BEN, ActivityKind.MESSAGE, local(3))  # chatter is not a first win …
        await act(uow, BEN, ActivityKind.QUIZ_ANSWER, local(8, 9))  # … a quiz answer is
        await member(uow, CAT, local(2, 10))
        await act(uow, CAT, ActivityKind.RSVP, local(9, 11))  # 7 days and 1 hour: late
        await member(uow, DAN, local(3))  # nothing: missed
        await member(uow, EVA, local(10))  # nothing yet, her week is still open
        await uow.commit()

    figures = await report(uow_factory)

    assert figures.previous is not None
    assert (figures.previous.activated, figures.previous.activation_judged) == (1, 3)
    assert (figures.current.activated, figures.current.activation_judged) == (0, 0)
    assert figures.current.activation_rate is None
    assert figures.activation_rate == Compared(None, 1 / 3, is_rate=True)
    assert figures.activation_rate.change is None


async def test_activation_windows_follow_the_community_rules(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await club(uow)
        await member(uow, BEN, local(9))
        await act(uow, BEN, ActivityKind.CHECKIN, local(11))
        await uow.commit()

    async with uow_factory() as uow:
        strict = await insight(
            uow, CLUB, last=LAST, days=7, now=NOW, rules=LifecycleRules(activation_days=1)
        )

    assert (strict.current.activated, strict.current.activation_judged) == (0, 1)  # late
    assert (await report(uow_factory)).current.activation_rate == 1.0


async def test_streaks_alive_at_the_period_end_count_their_freezes_and_only_members(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await club(uow, ANN, BEN, CAT, DAN, EVA)
        await checkin(uow, ANN, 14, streak=4)  # yesterday: alive
        await checkin(uow, BEN, 12, streak=9, freezes=2)  # two days missed, two freezes
        await checkin(uow, CAT, 12, streak=5, freezes=1)  # two missed, one freeze: broken
        await checkin(uow, DAN, 8, streak=5)
        await checkin(uow, DAN, 15, streak=6)  # today, but he left
        await leave(uow, DAN, local(15, 13))
        await checkin(uow, EVA, 6, streak=1)
        await checkin(uow, EVA, 7, streak=2)
        await checkin(uow, EVA, 8, streak=3)
        await uow.commit()

    figures = await report(uow_factory, now=local(15, 14))

    assert figures.current.median_streak == 6.5  # Ann 4, Ben 9; Dan left, Cat's broke
    assert figures.previous is not None
    assert figures.previous.median_streak == 4.0  # Eva 3, Dan 5: he left only later
    assert figures.current.checkins == 4  # Dan's counts: he checked in before leaving
    assert figures.previous.checkins == 4
    assert figures.median_streak.change == pytest.approx(62.5)


async def test_a_leave_and_the_churned_stage_that_follows_it_count_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await club(uow, ANN, BEN, CAT, DAN)
        await leave(uow, ANN, local(8, 22))  # the last evening of the week before
        await uow.engagement.add_changes(
            GROUP,
            [
                (ANN, StageChange(Stage.GROWING, Stage.CHURNED, march(9))),  # her leave
                (BEN, StageChange(Stage.DORMANT, Stage.CHURNED, march(10))),  # idle, still in
                (CAT, StageChange(Stage.DORMANT, Stage.CHURNED, march(11))),
            ],
        )
        await leave(uow, CAT, local(13))  # churned first, then left: one member this week
        await uow.commit()

    figures = await report(uow_factory)

    assert (figures.current.churned, figures.current.members_at_start) == (2, 3)
    assert figures.previous is not None
    assert (figures.previous.churned, figures.previous.members_at_start) == (1, 4)
    assert figures.churn_rate.change == pytest.approx((2 / 3 - 1 / 4) * 100)


async def test_active_members_per_day_week_and_month(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await club(uow, ANN, BEN, CAT, since=local(1) - timedelta(days=60))
        await act(uow, ANN, ActivityKind.MESSAGE, local(15))
        await act(uow, ANN, ActivityKind.REACTION, local(15, 13))  # the same day
        await act(uow, ANN, ActivityKind.MESSAGE, local(9, 0, 5))
        await act(uow, BEN, ActivityKind.MESSAGE, local(3))
        await act(uow, CAT, ActivityKind.MESSAGE, local(1) - timedelta(days=20))  # 9 February
        await act(uow, CAT, ActivityKind.JOIN, local(12))  # not participation
        await uow.commit()

    figures = await report(uow_factory)

    current, previous = figures.current, figures.previous
    assert previous is not None
    assert (current.member_days, current.weekly_active, current.monthly_active) == (2, 1, 2)
    # Ben on the 3rd; Ben and Cat in the 30 days to the 8th
    assert (previous.member_days, previous.weekly_active, previous.monthly_active) == (1, 1, 2)
    assert current.stickiness == pytest.approx(2 / 7 / 2)
    assert figures.daily_active.change == 100.0


async def test_a_period_before_hearth_came_is_not_compared(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await club(uow, ANN, since=local(3))  # the week before began on the 2nd
        await uow.commit()

    figures = await report(uow_factory)

    assert figures.previous is None
    assert figures.members == Compared(1, None)
    assert figures.members.change is None


async def test_an_empty_community_has_zeros_and_no_rates(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await club(uow)
        await uow.commit()

    figures = await report(uow_factory, days=90)

    current = figures.current
    assert (current.first, current.last, current.days) == (march(15) - timedelta(89), LAST, 90)
    assert (current.members, current.daily_active, current.points_issued) == (0, 0.0, 0)
    rates = (current.stickiness, current.activation_rate, current.checkin_rate)
    assert rates == (None, None, None)
    assert (current.churn_rate, current.event_participation, current.median_streak) == (
        None,
        None,
        None,
    )


async def test_a_period_shorter_than_a_day_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await report(uow_factory, days=0)


def test_changes_are_percent_for_amounts_and_points_for_rates() -> None:
    assert Compared(12, 10).change == pytest.approx(20.0)
    assert Compared(0, 0).change == 0.0
    assert Compared(3, 0).change is None  # no base to take a percentage of
    assert Compared(0.25, 0.5, is_rate=True).change == pytest.approx(-25.0)
    assert Compared(0.25, None, is_rate=True).change is None


def test_median_of_counted_values() -> None:
    assert median({}) is None
    assert median({5: 1}) == 5.0
    assert median({1: 2, 9: 1}) == 1.0
    assert median({2: 1, 3: 1}) == 2.5
    assert median({1: 1, 4: 2, 10: 1}) == 4.0
