"""The engagement aggregates in SQL equal what a hand count gives, on each backend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete
from sqlmodel import col, select

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.engagement import MemberFacts, MemberHabits, MemberStanding
from hearth.domain.events import EventDraft
from hearth.domain.lifecycle import LifecycleRules, MemberActivity, Stage, StageChange, StageState
from hearth.domain.members import ChatRole, Person
from hearth.domain.points import EntryKind, NewEntry
from hearth.domain.rfm import RfmFacts, RfmScore, Segment
from hearth.services import quizzes
from hearth.storage.engagement import MemberDayRollupRow, MemberDayRow
from hearth.storage.quizzes import QuizAnswerRow
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
OTHER = -1001000000002
TODAY = date(2026, 3, 2)
ZONE = "Asia/Shanghai"  # UTC+8: a local day starts at 16:00 UTC the day before
RULES = LifecycleRules()
STEADY, FADED, QUIET, LEFT, NEWCOMER = 1, 2, 3, 4, 5


def local_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def activity(
    member_id: int, day: date, kind: ActivityKind = ActivityKind.MESSAGE
) -> ActivityRecord:
    return ActivityRecord(
        community_id=GROUP,
        member_id=member_id,
        kind=kind,
        occurred_at=local_noon(day),
        local_day=day,
    )


async def club(uow_factory: UnitOfWorkFactory) -> None:
    """Five members with activity on known days, at the edges of every window."""
    joined = local_noon(days_ago(200))
    async with uow_factory() as uow:
        for community_id in (GROUP, OTHER):
            await uow.communities.add(
                community_id, "Owners", timezone=ZONE, locale="en", now=joined
            )
        for member_id in (STEADY, FADED, QUIET, LEFT, NEWCOMER):
            await uow.members.upsert(Person(member_id, f"M{member_id}"), joined)
            at = local_noon(days_ago(3)) if member_id == NEWCOMER else joined
            await uow.memberships.add(GROUP, member_id, role=ChatRole.MEMBER, now=at)
        await uow.memberships.add(OTHER, STEADY, role=ChatRole.MEMBER, now=joined)
        # 23:30 UTC the day before is 07:30 local: joined on the local day 3 days ago
        await uow.memberships.leave(GROUP, LEFT, datetime(2026, 2, 26, 23, 30, tzinfo=UTC))
        records = [
            # STEADY: today, 13 days ago (last day of the recent window), 14 days ago (first of
            # the baseline), 69 days ago (last of the baseline), 70 (outside), twice a day
            # once, and a join (not participation) yesterday
            *(activity(STEADY, days_ago(d)) for d in (0, 13, 14, 69, 70, 83, 84, 89, 90)),
            activity(STEADY, days_ago(0), ActivityKind.REACTION),
            activity(STEADY, days_ago(1), ActivityKind.JOIN),
            # FADED: last active 40 days ago, three days in the baseline
            *(activity(FADED, days_ago(d)) for d in (40, 41, 60)),
            # LEFT: active 5 days ago, then left
            activity(LEFT, days_ago(5), ActivityKind.CHECKIN),
            # NEWCOMER: two days since joining
            *(activity(NEWCOMER, days_ago(d)) for d in (0, 2)),
        ]
        other = ActivityRecord(OTHER, STEADY, ActivityKind.MESSAGE, local_noon(TODAY), TODAY)
        await uow.activity.add_many([*records, other])
        await uow.points.add_credits(
            [
                NewEntry(GROUP, STEADY, EntryKind.EARN, 10, "checkin", "k1", local_noon(TODAY)),
                # 16:30 UTC is 00:30 local on 3 December, 89 days ago: the window's first day
                NewEntry(
                    GROUP,
                    STEADY,
                    EntryKind.GRANT,
                    5,
                    "grant",
                    "k2",
                    datetime(2025, 12, 2, 16, 30, tzinfo=UTC),
                ),
                # 15:30 UTC is 23:30 local on 2 December, 90 days ago: outside
                NewEntry(
                    GROUP,
                    STEADY,
                    EntryKind.EARN,
                    100,
                    "old",
                    "k3",
                    datetime(2025, 12, 2, 15, 30, tzinfo=UTC),
                ),
                NewEntry(
                    GROUP, FADED, EntryKind.EARN, 7, "checkin", "k4", local_noon(days_ago(40))
                ),
                NewEntry(OTHER, STEADY, EntryKind.EARN, 50, "checkin", "k5", local_noon(TODAY)),
            ]
        )
        await uow.commit()


async def test_summaries_count_active_days_in_each_window_from_the_local_days(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        facts = {
            each.member_id: each
            for each in await uow.engagement.member_facts(GROUP, TODAY, ZONE, RULES)
        }
    joined = days_ago(200)
    assert set(facts) == {STEADY, FADED, QUIET, LEFT, NEWCOMER}
    # recent: days 0 and 13; baseline (14..69): 14 and 69; weeks: 0 (d0), 1 (d13),
    # 2 (d14), 9 (d69), 10 (d70), 11 (d83); d84 and older are before the 12 weeks
    assert facts[STEADY].activity == MemberActivity(
        joined_on=joined,
        left_on=None,
        last_active_on=TODAY,
        active_days_recent=2,
        active_days_baseline=2,
        active_weeks=6,
    )
    # FADED: weeks 5 (days 40 and 41) and 8 (day 60)
    assert facts[FADED].activity == MemberActivity(joined, None, days_ago(40), 0, 3, 2)
    assert facts[QUIET].activity == MemberActivity(joined, None, None, 0, 0, 0)
    assert facts[LEFT].activity == MemberActivity(joined, days_ago(3), days_ago(5), 1, 0, 1)
    assert facts[NEWCOMER].activity == MemberActivity(days_ago(3), None, TODAY, 2, 0, 1)


async def test_rfm_facts_cover_the_90_local_days_and_current_members_only(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        rfm = {
            each.member_id: each.rfm
            for each in await uow.engagement.member_facts(GROUP, TODAY, ZONE, RULES)
        }
    # STEADY: days 0..89 → 8 active days (90 is outside); points 10 + 5 (100 is outside)
    assert rfm[STEADY] == RfmFacts(STEADY, TODAY, 8, 15)
    assert rfm[FADED] == RfmFacts(FADED, days_ago(40), 3, 7)
    assert rfm[QUIET] == RfmFacts(QUIET, None, 0, 0)
    assert rfm[NEWCOMER] == RfmFacts(NEWCOMER, TODAY, 2, 0)
    assert rfm[LEFT] is None


async def test_standings_are_upserted_and_changes_recorded_once(uow_factory: UnitOfWorkFactory):
    await club(uow_factory)
    score = RfmScore(STEADY, 0, 5, 4, 3, Segment.CHAMPIONS, True)
    first = MemberStanding(STEADY, StageState(Stage.GROWING, TODAY), score, ("silver",))
    change = StageChange(None, Stage.GROWING, TODAY)
    async with uow_factory() as uow:
        await uow.engagement.save_standings(GROUP, TODAY, [first])
        await uow.engagement.add_changes(GROUP, [(STEADY, change)])
        await uow.commit()
    later = TODAY + timedelta(days=1)
    pending = MemberStanding(STEADY, StageState(Stage.GROWING, TODAY, later), None)
    async with uow_factory() as uow:
        await uow.engagement.save_standings(GROUP, later, [pending])
        await uow.engagement.add_changes(GROUP, [(STEADY, change)])
        await uow.commit()
    async with uow_factory() as uow:
        states = await uow.engagement.stage_states(GROUP)
        changes = await uow.engagement.changes(GROUP, STEADY)
        computed = await uow.engagement.last_computed_on(GROUP)
        elsewhere = await uow.engagement.last_computed_on(OTHER)
    assert states == {STEADY: StageState(Stage.GROWING, TODAY, later)}
    assert changes == [change]
    assert (computed, elsewhere) == (later, None)


async def _rolled_up(uow_factory: UnitOfWorkFactory) -> set[tuple[int, date]]:
    async with uow_factory() as uow:
        result = await uow.session.execute(
            select(col(MemberDayRow.member_id), col(MemberDayRow.day)).where(
                col(MemberDayRow.community_id) == GROUP
            )
        )
        return {(int(row[0]), date.fromordinal(row[1])) for row in result}


async def test_the_roll_up_holds_each_member_and_local_day_with_participation(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        await uow.engagement.member_facts(GROUP, TODAY, ZONE, RULES)
        await uow.commit()
    steady = {(STEADY, days_ago(d)) for d in (0, 13, 14, 69, 70, 83, 84, 89, 90)}
    assert await _rolled_up(uow_factory) == {
        *steady,  # the reaction today is the same day; the join yesterday is no participation
        *((FADED, days_ago(d)) for d in (40, 41, 60)),
        (LEFT, days_ago(5)),
        *((NEWCOMER, days_ago(d)) for d in (0, 2)),
    }


async def test_the_roll_up_catches_up_with_activity_written_between_recomputes(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    async with uow_factory() as uow:
        await uow.engagement.member_facts(GROUP, TODAY, ZONE, RULES)
        await uow.commit()
    tomorrow = TODAY + timedelta(days=1)
    async with uow_factory() as uow:
        await uow.activity.add_many(
            [
                activity(QUIET, tomorrow),  # a new day
                activity(QUIET, TODAY),  # a day already rolled up, for another member
                activity(FADED, days_ago(2)),  # written late, within the margin
                activity(STEADY, TODAY, ActivityKind.CHECKIN),  # a day already there
                activity(NEWCOMER, tomorrow, ActivityKind.LEAVE),  # not participation
            ]
        )
        await uow.commit()
    async with uow_factory() as uow:
        caught_up = await uow.engagement.member_facts(GROUP, tomorrow, ZONE, RULES)
        await uow.commit()
    async with uow_factory() as uow:  # the same facts from a roll-up built from scratch
        await uow.session.execute(delete(MemberDayRow))
        await uow.session.execute(delete(MemberDayRollupRow))
        rebuilt = await uow.engagement.member_facts(GROUP, tomorrow, ZONE, RULES)
    assert caught_up == rebuilt
    facts = {each.member_id: each for each in caught_up}
    assert facts[QUIET].activity.last_active_on == tomorrow
    assert facts[QUIET].activity.active_days_recent == 2
    assert facts[FADED].activity.last_active_on == days_ago(2)
    assert facts[FADED].rfm == RfmFacts(FADED, days_ago(2), 4, 7)
    assert (QUIET, tomorrow) in await _rolled_up(uow_factory)
    assert (NEWCOMER, tomorrow) not in await _rolled_up(uow_factory)


# --- tags: interests and habits ---------------------------------------------------------

BERLIN = -1001000000003
BERLIN_ZONE = "Europe/Berlin"  # CET (UTC+1) until 01:00 UTC on 29 March 2026, then CEST
KOLKATA = -1001000000004
KOLKATA_ZONE = "Asia/Kolkata"  # UTC+5:30: day parts turn on the half hour in UTC
SPRING = date(2026, 4, 10)  # a Friday
EARLY, LATE, FAN = 11, 12, 13


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


async def community_with(
    uow_factory: UnitOfWorkFactory, community_id: int, zone: str, joins: dict[int, datetime]
) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(
            community_id, "Owners", timezone=zone, locale="en", now=utc(2025, 1, 1)
        )
        for member_id, joined in joins.items():
            await uow.members.upsert(Person(member_id, f"M{member_id}"), joined)
            await uow.memberships.add(community_id, member_id, role=ChatRole.MEMBER, now=joined)
        await uow.commit()


async def took_part(
    uow_factory: UnitOfWorkFactory,
    community_id: int,
    zone: str,
    member_id: int,
    *instants: datetime,
    kind: ActivityKind = ActivityKind.MESSAGE,
) -> None:
    """Activity at these UTC instants, each on its local day in ``zone`` (as Hearth writes)."""
    local = ZoneInfo(zone)
    async with uow_factory() as uow:
        await uow.activity.add_many(
            [
                ActivityRecord(community_id, member_id, kind, at, at.astimezone(local).date())
                for at in instants
            ]
        )
        await uow.commit()


async def facts_of(
    uow_factory: UnitOfWorkFactory, community_id: int, zone: str, today: date
) -> dict[int, MemberFacts]:
    async with uow_factory() as uow:
        found = await uow.engagement.member_facts(community_id, today, zone, RULES)
        await uow.commit()
    return {each.member_id: each for each in found}


async def test_day_parts_and_local_days_follow_the_zone_across_daylight_saving(
    uow_factory: UnitOfWorkFactory,
):
    await community_with(
        uow_factory,
        BERLIN,
        BERLIN_ZONE,
        # 23:30 UTC is 00:30 the next local day: on 28 March in winter, on 1 April in summer
        {EARLY: utc(2026, 3, 28, 23, 30), LATE: utc(2026, 4, 1, 22, 30)},
    )
    await took_part(
        uow_factory,
        BERLIN,
        BERLIN_ZONE,
        EARLY,
        utc(2026, 3, 20, 4, 30),  # Fri 05:30 CET: night
        utc(2026, 3, 20, 16, 30),  # Fri 17:30 CET: afternoon
        utc(2026, 3, 29, 0, 30),  # Sun 01:30 CET: night, the morning the clocks go forward
        utc(2026, 3, 29, 4, 30),  # Sun 06:30 CEST, the same day: morning
        utc(2026, 4, 3, 4, 30),  # Fri 06:30 CEST: morning
        utc(2026, 4, 3, 16, 30),  # Fri 18:30 CEST: evening
        utc(2026, 4, 3, 22, 30),  # Sat 00:30 CEST: night, and the weekend
        utc(2025, 12, 1, 20, 0),  # outside the 90-day window: counts nowhere
    )
    await took_part(
        uow_factory,
        BERLIN,
        BERLIN_ZONE,
        LATE,
        utc(2026, 4, 2, 10, 0),  # Thu 12:00 CEST: afternoon
        utc(2026, 4, 2, 10, 5),
        utc(2026, 4, 2, 10, 10, 0),
    )
    await took_part(
        uow_factory, BERLIN, BERLIN_ZONE, LATE, utc(2026, 4, 2, 11), kind=ActivityKind.JOIN
    )  # not participation
    facts = await facts_of(uow_factory, BERLIN, BERLIN_ZONE, SPRING)
    assert facts[EARLY].habits == MemberHabits(day_parts=(3, 2, 1, 1), weekdays=4, weekend=3)
    assert facts[LATE].habits == MemberHabits(day_parts=(0, 0, 3, 0), weekdays=3, weekend=0)
    assert facts[EARLY].activity.joined_on == date(2026, 3, 29)
    assert facts[LATE].activity.joined_on == date(2026, 4, 2)


async def test_day_parts_turn_on_the_minute_in_a_half_hour_zone(uow_factory: UnitOfWorkFactory):
    await community_with(uow_factory, KOLKATA, KOLKATA_ZONE, {EARLY: utc(2026, 1, 1)})
    await took_part(
        uow_factory,
        KOLKATA,
        KOLKATA_ZONE,
        EARLY,
        utc(2026, 4, 9, 0, 29),  # 05:59 IST: night
        utc(2026, 4, 9, 0, 30),  # 06:00 IST: morning
        utc(2026, 4, 9, 12, 29),  # 17:59 IST: afternoon
        utc(2026, 4, 9, 18, 30),  # 00:00 IST on the 10th: night
    )
    facts = await facts_of(uow_factory, KOLKATA, KOLKATA_ZONE, SPRING)
    assert facts[EARLY].habits.day_parts == (2, 1, 1, 0)
    assert facts[EARLY].activity.last_active_on == SPRING


async def test_late_activity_within_the_margin_is_counted_once_in_its_day_part(
    uow_factory: UnitOfWorkFactory,
):
    await community_with(uow_factory, BERLIN, BERLIN_ZONE, {EARLY: utc(2026, 1, 1)})
    evening = utc(2026, 4, 8, 17)  # 19:00 CEST
    await took_part(uow_factory, BERLIN, BERLIN_ZONE, EARLY, evening)
    first = await facts_of(uow_factory, BERLIN, BERLIN_ZONE, SPRING)
    assert first[EARLY].habits.day_parts == (0, 0, 0, 1)
    # written a day late, for the same local day, in the morning and again in the evening
    await took_part(uow_factory, BERLIN, BERLIN_ZONE, EARLY, utc(2026, 4, 8, 6), evening)
    again = await facts_of(uow_factory, BERLIN, BERLIN_ZONE, SPRING + timedelta(days=1))
    assert again[EARLY].habits.day_parts == (0, 1, 0, 2)
    assert again[EARLY].rfm == RfmFacts(EARLY, date(2026, 4, 8), 1, 0)


async def record_answers(
    uow_factory: UnitOfWorkFactory, member_id: int, topic: str, right: int, wrong: int
) -> None:
    """Standing answers of a member on a topic, and one retracted answer that never counts."""
    async with uow_factory() as uow:
        answers = [True] * right + [False] * wrong
        for number, correct in enumerate([*answers, True]):
            uow.session.add(
                QuizAnswerRow(
                    poll_id=f"{member_id}-{topic}-{number}",
                    community_id=GROUP,
                    member_id=member_id,
                    question_id=number,
                    topic=topic,
                    option=None if number == len(answers) else 0,
                    correct=correct,
                    answered_at=local_noon(days_ago(number)),
                )
            )
        await uow.commit()


async def event_attended(
    uow_factory: UnitOfWorkFactory, tag: str | None, code: str, *attendees: int
) -> None:
    starts = local_noon(days_ago(10))
    draft = EventDraft(
        title="Meet-up",
        description="",
        place="Club house",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=None,
        registration_deadline=starts,
        points=0,
    )
    async with uow_factory() as uow:
        event = await uow.events.add(GROUP, draft, code=code, actor_id=None, now=starts)
        assert event is not None
        await uow.events.change(event.id, starts, tag=tag)
        for member_id in attendees:
            await uow.events.attend(event.id, member_id, starts)
        await uow.commit()


async def test_interests_are_topics_answered_well_and_types_of_events_attended(
    uow_factory: UnitOfWorkFactory,
):
    await club(uow_factory)
    await record_answers(uow_factory, STEADY, "maintenance", right=4, wrong=1)  # 80 %: well
    await record_answers(uow_factory, STEADY, "history", right=7, wrong=2)  # 78 %: not quite
    await record_answers(uow_factory, FADED, "history", right=4, wrong=0)  # too few answers
    await record_answers(uow_factory, FADED, "track-day", right=8, wrong=2)
    await event_attended(uow_factory, "track-day", "CODE01", STEADY, FADED)
    await event_attended(uow_factory, "detailing", "CODE02", STEADY)
    await event_attended(uow_factory, None, "CODE03", QUIET)  # no type: no interest
    async with uow_factory() as uow:
        interests = await uow.engagement.member_interests(GROUP)
        # the quiz service's own reading of "answers well" agrees
        mastered = {member: await quizzes.interests(uow, GROUP, member) for member in interests}
    assert interests == {
        STEADY: ("detailing", "maintenance", "track-day"),
        FADED: ("track-day",),  # once, though both a topic and an event type
    }
    assert mastered == {STEADY: {"maintenance"}, FADED: {"track-day"}}
    facts = await facts_of(uow_factory, GROUP, ZONE, TODAY)
    assert facts[STEADY].interests == interests[STEADY]
    assert facts[QUIET].interests == ()


async def test_participation_reads_the_roll_up_and_the_days_after_it_as_the_activity_says(
    uow_factory: UnitOfWorkFactory,
):
    """The insight and cohort figures read (member, day) pairs from the roll-up where its
    last refresh read the whole day, and from the activity after that: before any refresh,
    after one, and with activity written since (a later hour of the latest day, a new day)
    the pairs are exactly those of the activity."""
    from hearth.storage.engagement import participation_days

    await club(uow_factory)
    first, last = days_ago(100), TODAY + timedelta(days=1)

    async def pairs() -> set[tuple[int, int]]:
        async with uow_factory() as uow:
            days = await participation_days(uow.session, uow._dialect, GROUP, first, last)
            rows = await uow.session.execute(select(days.c.member_id, days.c.day))
            return {(int(member), int(day)) for member, day in rows}

    before = await pairs()
    async with uow_factory() as uow:
        await uow.engagement.refresh_member_days(GROUP)
        await uow.commit()
    assert await pairs() == before

    await took_part(uow_factory, GROUP, ZONE, QUIET, local_noon(TODAY), local_noon(days_ago(-1)))
    expected = before | {(QUIET, TODAY.toordinal()), (QUIET, days_ago(-1).toordinal())}
    assert await pairs() == expected
    assert (STEADY, days_ago(70).toordinal()) in expected  # the roll-up's days are there
    assert (STEADY, days_ago(1).toordinal()) not in expected  # a join is no participation
