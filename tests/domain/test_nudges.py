"""Reactivation nudges: who, when, what, the caps, the holdout and the measured uplift."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.domain.errors import InvalidArgument
from hearth.domain.lifecycle import Stage
from hearth.domain.nudges import (
    BUILTIN_VARIANTS,
    DEFAULT_QUIET_HOURS,
    DEFAULT_SEND_TIME,
    EPISODE_LIMIT,
    LATE_GRACE,
    NUDGE_GAP_DAYS,
    QUIET_HOURS_CHOICES,
    TEMPLATE_FIELDS,
    TEMPLATE_LIMIT,
    Candidate,
    Contact,
    Decision,
    KindOutcome,
    NudgeFacts,
    NudgeKind,
    NudgeOutcomes,
    NudgeSettings,
    NudgeStatus,
    QuietHours,
    ReturnRate,
    SkipReason,
    UpcomingEvent,
    builtin_templates,
    check_template,
    choose_kind,
    choose_template,
    custom_template,
    episode_of,
    episode_step,
    habitual_hour,
    in_holdout,
    left_out_reason,
    plan_day,
    reasons_to_return,
    return_rate,
    send_check,
    send_time,
    uplift,
)

TODAY = date(2026, 6, 1)
GROUP = 7
SHANGHAI = "Asia/Shanghai"
NEW_YORK = "America/New_York"
AUCKLAND = "Pacific/Auckland"
NO_HOLDOUT = NudgeSettings(holdout_percent=0)
NO_QUIET = QuietHours(0, 0)
NO_FACTS = NudgeFacts()

EXPIRING = NudgeFacts(expiring_points=40, expiring_on=TODAY + timedelta(days=10))
EVENT = UpcomingEvent(3, "Board games night", datetime(2026, 6, 5, 11, 0, tzinfo=UTC), "games")
EVERY_REASON = NudgeFacts(
    best_streak=12,
    expiring_points=40,
    expiring_on=TODAY + timedelta(days=10),
    event=EVENT,
    event_matches_interest=True,
    quiz_topic="history",
)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def candidate(
    member_id: int = 1,
    *,
    stage: Stage = Stage.DORMANT,
    high_value: bool = False,
    value_score: int | None = None,
    idle: int | None = 40,
    in_group: bool = True,
    started_bot: bool = True,
    reachable: bool = True,
    nudges_enabled: bool = True,
    quiet: QuietHours = DEFAULT_QUIET_HOURS,
    habit: int | None = None,
    contacts: tuple[Contact, ...] = (),
    facts: NudgeFacts = NO_FACTS,
) -> Candidate:
    """A member read on TODAY; by default dormant for 40 days, reachable, never nudged."""
    return Candidate(
        member_id=member_id,
        stage=stage,
        high_value=high_value,
        value_score=value_score,
        joined_on=days_ago(300),
        last_active_on=None if idle is None else days_ago(idle),
        in_group=in_group,
        started_bot=started_bot,
        reachable=reachable,
        nudges_enabled=nudges_enabled,
        quiet_hours=quiet,
        habitual_hour=habit,
        contacts=contacts,
        facts=facts,
    )


def contact(ago: int, *, idle: int = 40, kind: NudgeKind | None = NudgeKind.LIGHT) -> Contact:
    """A contact ``ago`` days before TODAY in the episode of a member idle for ``idle`` days."""
    return Contact(days_ago(ago), days_ago(idle), kind, None)


def local(moment: datetime | None, timezone: str) -> datetime:
    assert moment is not None
    return moment.astimezone(ZoneInfo(timezone))


def plan(
    *candidates: Candidate,
    rules: NudgeSettings = NO_HOLDOUT,
    sent_today: int = 0,
    timezone: str = SHANGHAI,
    today: date = TODAY,
) -> dict[int, Decision]:
    day = plan_day(GROUP, candidates, today, timezone, rules, sent_today=sent_today)
    return {decision.member_id: decision for decision in day.decisions}


def held_out_members(percent: int, count: int = 400, community: int = GROUP) -> list[int]:
    return [
        member for member in range(1, count + 1) if in_holdout(community, member, TODAY, percent)
    ]


zones = st.sampled_from(
    [
        SHANGHAI,
        NEW_YORK,
        AUCKLAND,
        "UTC",
        "Europe/London",
        "Asia/Kolkata",
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "America/St_Johns",
        "America/Santiago",
        "Pacific/Chatham",
        "Pacific/Kiritimati",
        "America/Havana",
    ]
)
hours = st.integers(min_value=0, max_value=23)
quiet_hours = st.builds(QuietHours, hours, hours)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))


# --- quiet hours -------------------------------------------------------------------------


def test_default_quiet_hours_run_from_nine_in_the_evening_to_nine_in_the_morning() -> None:
    quiet = DEFAULT_QUIET_HOURS
    assert (quiet.start, quiet.end) == (21, 9)
    for inside in (time(21, 0), time(23, 59), time(0, 0), time(3, 30), time(8, 59)):
        assert quiet.contains(inside), inside
    for outside in (time(9, 0), time(10, 30), time(12, 0), time(20, 59)):
        assert not quiet.contains(outside), outside


def test_quiet_hours_within_one_day_do_not_wrap_around_midnight() -> None:
    siesta = QuietHours(13, 15)
    assert siesta.contains(time(13, 0))
    assert siesta.contains(time(14, 59))
    assert not siesta.contains(time(15, 0))
    assert not siesta.contains(time(0, 30))
    assert not siesta.contains(time(12, 59))


def test_equal_start_and_end_means_no_quiet_hours_at_all() -> None:
    assert not any(NO_QUIET.contains(time(hour, 30)) for hour in range(24))
    assert not any(QuietHours(22, 22).contains(time(hour)) for hour in range(24))


@pytest.mark.parametrize(("start", "end"), [(24, 9), (21, -1), (-3, 4), (0, 24)])
def test_quiet_hours_outside_the_clock_are_refused(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="whole hours"):
        QuietHours(start, end)


def test_quiet_hours_read_as_a_range_of_whole_hours() -> None:
    assert DEFAULT_QUIET_HOURS.label == "21:00–09:00"
    assert QuietHours(7, 8).label == "07:00–08:00"


def test_the_first_quiet_hours_choice_in_settings_is_the_default() -> None:
    assert QUIET_HOURS_CHOICES[0] == DEFAULT_QUIET_HOURS
    assert len(set(QUIET_HOURS_CHOICES)) == len(QUIET_HOURS_CHOICES)


# --- the habitual hour -------------------------------------------------------------------


def test_the_habitual_hour_is_the_hour_a_member_is_most_often_active() -> None:
    assert habitual_hour([19, 8, 19, 22, 19, 8]) == 19


def test_a_tie_between_habitual_hours_goes_to_the_earlier_hour() -> None:
    assert habitual_hour([22, 7, 22, 7]) == 7


def test_fewer_than_three_activities_give_no_habitual_hour() -> None:
    assert habitual_hour([]) is None
    assert habitual_hour([19, 19]) is None
    assert habitual_hour([19, 19, 19]) == 19


@given(st.lists(hours, min_size=3), st.randoms(use_true_random=False))
def test_the_habitual_hour_does_not_depend_on_the_order_read(
    activity: list[int], shuffler: random.Random
) -> None:
    shuffled = list(activity)
    shuffler.shuffle(shuffled)
    assert habitual_hour(shuffled) == habitual_hour(activity)
    assert habitual_hour(activity) in activity


# --- when to send ------------------------------------------------------------------------


def test_a_member_is_nudged_at_half_past_their_habitual_hour_in_the_communitys_time() -> None:
    due = send_time(TODAY, SHANGHAI, DEFAULT_QUIET_HOURS, 19)
    assert due == datetime(2026, 6, 1, 11, 30, tzinfo=UTC)
    assert local(due, SHANGHAI).time() == time(19, 30)


def test_a_habitual_hour_inside_quiet_hours_falls_back_to_the_community_default() -> None:
    for habit in (21, 23, 0, 3, 8):
        due = send_time(TODAY, SHANGHAI, DEFAULT_QUIET_HOURS, habit)
        assert due == datetime(2026, 6, 1, 2, 30, tzinfo=UTC), habit
        assert local(due, SHANGHAI).time() == DEFAULT_SEND_TIME == time(10, 30)


def test_a_member_without_a_habit_is_nudged_at_the_community_default() -> None:
    assert local(send_time(TODAY, SHANGHAI, DEFAULT_QUIET_HOURS, None), SHANGHAI) == datetime(
        2026, 6, 1, 10, 30, tzinfo=ZoneInfo(SHANGHAI)
    )


def test_the_community_can_choose_another_default_time() -> None:
    due = send_time(TODAY, SHANGHAI, DEFAULT_QUIET_HOURS, None, default=time(12, 30))
    assert local(due, SHANGHAI).time() == time(12, 30)


def test_quiet_hours_a_member_narrowed_let_their_late_habit_through() -> None:
    # 21:30 is quiet by default, but not for a member whose quiet hours start at 22:00.
    assert local(send_time(TODAY, SHANGHAI, DEFAULT_QUIET_HOURS, 21), SHANGHAI).hour == 10
    assert local(send_time(TODAY, SHANGHAI, QuietHours(22, 8), 21), SHANGHAI).hour == 21
    assert local(send_time(TODAY, SHANGHAI, QuietHours(23, 7), 7), SHANGHAI).hour == 7


def test_quiet_hours_a_member_widened_push_the_nudge_out_of_their_night() -> None:
    # Habit 20:30 is allowed by default but quiet for a member resting from 20:00.
    assert local(send_time(TODAY, SHANGHAI, DEFAULT_QUIET_HOURS, 20), SHANGHAI).hour == 20
    due = send_time(TODAY, SHANGHAI, QuietHours(20, 10), 20)
    assert local(due, SHANGHAI).time() == time(10, 30)


def test_when_the_default_is_quiet_too_the_nudge_goes_half_an_hour_after_quiet_hours() -> None:
    due = send_time(TODAY, SHANGHAI, QuietHours(20, 11), 23)
    assert local(due, SHANGHAI).time() == time(11, 30)


def test_the_default_time_follows_new_york_across_the_spring_dst_change() -> None:
    before = send_time(date(2026, 3, 7), NEW_YORK, DEFAULT_QUIET_HOURS, None)
    on_the_day = send_time(date(2026, 3, 8), NEW_YORK, DEFAULT_QUIET_HOURS, None)
    assert before == datetime(2026, 3, 7, 15, 30, tzinfo=UTC)  # EST, UTC−5
    assert on_the_day == datetime(2026, 3, 8, 14, 30, tzinfo=UTC)  # EDT, UTC−4
    assert local(before, NEW_YORK).time() == local(on_the_day, NEW_YORK).time() == time(10, 30)


def test_the_default_time_follows_new_york_across_the_autumn_dst_change() -> None:
    before = send_time(date(2026, 10, 31), NEW_YORK, DEFAULT_QUIET_HOURS, None)
    on_the_day = send_time(date(2026, 11, 1), NEW_YORK, DEFAULT_QUIET_HOURS, None)
    assert before == datetime(2026, 10, 31, 14, 30, tzinfo=UTC)
    assert on_the_day == datetime(2026, 11, 1, 15, 30, tzinfo=UTC)


def test_a_habitual_hour_skipped_by_the_spring_dst_change_gives_way_to_the_default() -> None:
    # 02:30 does not exist in New York on 8 March 2026: clocks go from 02:00 to 03:00.
    due = send_time(date(2026, 3, 8), NEW_YORK, NO_QUIET, 2)
    assert local(due, NEW_YORK).time() == time(10, 30)
    assert local(send_time(date(2026, 3, 9), NEW_YORK, NO_QUIET, 2), NEW_YORK).hour == 2


def test_a_habitual_hour_repeated_by_the_autumn_dst_change_is_used_once() -> None:
    due = send_time(date(2026, 11, 1), NEW_YORK, NO_QUIET, 1)
    assert due == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # the first 01:30, still EDT
    assert local(due, NEW_YORK).time() == time(1, 30)


def test_an_auckland_morning_is_the_previous_evening_in_utc() -> None:
    winter = send_time(TODAY, AUCKLAND, DEFAULT_QUIET_HOURS, None)  # NZST, UTC+12
    summer = send_time(date(2026, 1, 15), AUCKLAND, DEFAULT_QUIET_HOURS, None)  # NZDT, UTC+13
    assert winter == datetime(2026, 5, 31, 22, 30, tzinfo=UTC)
    assert summer == datetime(2026, 1, 14, 21, 30, tzinfo=UTC)
    assert local(winter, AUCKLAND).date() == TODAY


def test_an_auckland_evening_habit_is_sent_on_the_same_utc_day() -> None:
    due = send_time(TODAY, AUCKLAND, DEFAULT_QUIET_HOURS, 19)
    assert due == datetime(2026, 6, 1, 7, 30, tzinfo=UTC)


def test_the_same_habit_is_a_different_utc_moment_in_each_community() -> None:
    moments = {
        zone: send_time(TODAY, zone, DEFAULT_QUIET_HOURS, 19)
        for zone in [SHANGHAI, NEW_YORK, AUCKLAND]
    }
    assert moments == {
        SHANGHAI: datetime(2026, 6, 1, 11, 30, tzinfo=UTC),
        NEW_YORK: datetime(2026, 6, 1, 23, 30, tzinfo=UTC),
        AUCKLAND: datetime(2026, 6, 1, 7, 30, tzinfo=UTC),
    }


def test_a_day_with_no_time_outside_quiet_hours_has_no_send_time() -> None:
    # Quiet from 09:00 to 02:00; on the spring change 02:30 does not exist either.
    assert send_time(date(2026, 3, 8), NEW_YORK, QuietHours(9, 2), None) is None
    assert send_time(date(2026, 3, 9), NEW_YORK, QuietHours(9, 2), None) is not None


@settings(max_examples=300)
@given(days, zones, quiet_hours, st.none() | hours)
def test_a_nudge_is_never_due_inside_quiet_hours_in_the_communitys_time(
    day: date, zone: str, quiet: QuietHours, habit: int | None
) -> None:
    due = send_time(day, zone, quiet, habit)
    if due is None:
        return
    wall = local(due, zone)
    assert not quiet.contains(wall.time())
    assert wall.date() == day
    assert wall.minute == 30
    assert due.tzinfo is UTC


@settings(max_examples=300)
@given(days, zones, quiet_hours, hours)
def test_a_habit_outside_quiet_hours_is_always_the_send_hour(
    day: date, zone: str, quiet: QuietHours, habit: int
) -> None:
    wall = datetime.combine(day, time(habit, 30), tzinfo=ZoneInfo(zone))
    exists = wall.astimezone(UTC).astimezone(ZoneInfo(zone)).hour == habit
    if quiet.contains(wall.time()) or not exists:
        return
    assert local(send_time(day, zone, quiet, habit), zone).hour == habit


@settings(max_examples=300)
@given(days, zones, st.sampled_from(QUIET_HOURS_CHOICES), st.none() | hours)
def test_every_quiet_hours_choice_leaves_a_time_to_send_on_every_day(
    day: date, zone: str, quiet: QuietHours, habit: int | None
) -> None:
    assert send_time(day, zone, quiet, habit) is not None


# --- dormancy episodes -------------------------------------------------------------------


def test_an_episode_is_keyed_by_the_last_active_day() -> None:
    assert episode_of(days_ago(300), days_ago(40)) == days_ago(40)


def test_a_member_who_never_took_part_has_an_episode_from_their_join() -> None:
    assert episode_of(days_ago(60), None) == days_ago(60)
    assert episode_of(days_ago(60), days_ago(90)) == days_ago(60)  # activity before rejoining


def test_the_next_step_counts_only_the_contacts_of_the_same_episode() -> None:
    contacts = [contact(50, idle=90), contact(30), contact(20, kind=None)]
    assert episode_step(contacts, days_ago(40)) == 3
    assert episode_step(contacts, days_ago(90)) == 2
    assert episode_step([], days_ago(40)) == 1


# --- who may be nudged -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (candidate(stage=Stage.NEW), SkipReason.NOT_DRIFTING),
        (candidate(stage=Stage.GROWING), SkipReason.NOT_DRIFTING),
        (candidate(stage=Stage.MATURE), SkipReason.NOT_DRIFTING),
        (candidate(in_group=False), SkipReason.LEFT),
        (candidate(stage=Stage.CHURNED, in_group=False), SkipReason.LEFT),
        (candidate(started_bot=False), SkipReason.NOT_STARTED),
        (candidate(reachable=False), SkipReason.UNREACHABLE),
        (candidate(nudges_enabled=False), SkipReason.OPTED_OUT),
        (candidate(idle=0), SkipReason.ACTIVE_TODAY),
        (candidate(), None),
        (candidate(stage=Stage.DECLINING, idle=3), None),
        (candidate(stage=Stage.CHURNED, idle=100), None),
        (candidate(idle=None), None),
    ],
)
def test_who_may_be_nudged_today(member: Candidate, reason: SkipReason | None) -> None:
    assert left_out_reason(member, TODAY, SHANGHAI) is reason


def test_a_member_who_opted_out_is_never_planned_whatever_else_is_true() -> None:
    member = candidate(nudges_enabled=False, high_value=True, facts=EVERY_REASON, habit=11)
    day = plan_day(GROUP, [member], TODAY, SHANGHAI, NO_HOLDOUT)
    assert day.decisions == ()
    assert day.left_out == {SkipReason.OPTED_OUT: 1}


def test_unreachable_not_started_left_and_active_members_are_counted_not_planned() -> None:
    members = [
        candidate(1, reachable=False),
        candidate(2, started_bot=False),
        candidate(3, in_group=False),
        candidate(4, idle=0),
        candidate(5, stage=Stage.MATURE),
        candidate(6),
    ]
    day = plan_day(GROUP, members, TODAY, SHANGHAI, NO_HOLDOUT)
    assert [decision.member_id for decision in day.decisions] == [6]
    assert day.left_out == {
        SkipReason.UNREACHABLE: 1,
        SkipReason.NOT_STARTED: 1,
        SkipReason.LEFT: 1,
        SkipReason.ACTIVE_TODAY: 1,
        SkipReason.NOT_DRIFTING: 1,
    }


def test_a_member_is_nudged_at_most_once_in_seven_days() -> None:
    assert (
        left_out_reason(candidate(contacts=(contact(0),)), TODAY, SHANGHAI) is SkipReason.TOO_SOON
    )
    assert (
        left_out_reason(candidate(contacts=(contact(6),)), TODAY, SHANGHAI) is SkipReason.TOO_SOON
    )
    assert left_out_reason(candidate(contacts=(contact(NUDGE_GAP_DAYS),)), TODAY, SHANGHAI) is None


def test_a_holdout_contact_counts_for_the_seven_day_gap_too() -> None:
    held = candidate(contacts=(contact(3, kind=None),))
    assert left_out_reason(held, TODAY, SHANGHAI) is SkipReason.TOO_SOON


def test_the_seven_day_gap_holds_across_episodes() -> None:
    # Nudged five days ago, came back the day after, drifted again: still too soon.
    member = candidate(idle=4, contacts=(contact(5),))
    assert left_out_reason(member, TODAY, SHANGHAI) is SkipReason.TOO_SOON


def test_the_gap_is_measured_from_the_latest_contact_whatever_the_order_given() -> None:
    member = candidate(contacts=(contact(2), contact(30)))
    assert left_out_reason(member, TODAY, SHANGHAI) is SkipReason.TOO_SOON


def test_after_three_nudges_in_an_episode_hearth_stops() -> None:
    three = (contact(21), contact(14), contact(7, kind=NudgeKind.COMEBACK))
    assert EPISODE_LIMIT == 3
    assert left_out_reason(candidate(contacts=three), TODAY, SHANGHAI) is SkipReason.EPISODE_DONE
    assert left_out_reason(candidate(contacts=three[:2]), TODAY, SHANGHAI) is None


def test_a_member_who_returns_starts_a_new_episode_with_three_fresh_nudges() -> None:
    three = (contact(60, idle=70), contact(50, idle=70), contact(40, idle=70))
    back_and_gone_again = candidate(idle=30, contacts=three)
    assert left_out_reason(back_and_gone_again, TODAY, SHANGHAI) is None
    decision = plan(back_and_gone_again)[1]
    assert (decision.episode, decision.step, decision.kind) == (days_ago(30), 1, NudgeKind.LIGHT)


# --- escalation ---------------------------------------------------------------------------


def test_the_first_nudge_of_an_episode_is_a_light_reminder() -> None:
    assert choose_kind(1, EVERY_REASON, None) is NudgeKind.LIGHT


def test_the_second_nudge_gives_the_best_true_reason_to_return() -> None:
    assert choose_kind(2, EVERY_REASON, NudgeKind.LIGHT) is NudgeKind.EXPIRING
    assert choose_kind(2, NudgeFacts(best_streak=5), NudgeKind.LIGHT) is NudgeKind.STREAK


def test_the_second_nudge_without_any_reason_stays_light() -> None:
    assert choose_kind(2, NudgeFacts(best_streak=2), NudgeKind.LIGHT) is NudgeKind.LIGHT


def test_the_same_reason_is_not_given_twice_when_there_is_another() -> None:
    assert choose_kind(2, EVERY_REASON, NudgeKind.EXPIRING) is NudgeKind.EVENT
    assert choose_kind(2, EXPIRING, NudgeKind.EXPIRING) is NudgeKind.EXPIRING


def test_the_third_nudge_is_a_comeback_offer() -> None:
    assert choose_kind(3, NudgeFacts(), NudgeKind.LIGHT) is NudgeKind.COMEBACK
    assert choose_kind(3, EVERY_REASON, NudgeKind.EXPIRING) is NudgeKind.COMEBACK


def test_reasons_to_return_go_from_the_most_personal_to_the_least() -> None:
    assert reasons_to_return(EVERY_REASON) == [
        NudgeKind.EXPIRING,
        NudgeKind.EVENT,
        NudgeKind.QUIZ,
        NudgeKind.STREAK,
    ]
    unmatched = EVERY_REASON._replace(event_matches_interest=False)
    assert reasons_to_return(unmatched) == [
        NudgeKind.EXPIRING,
        NudgeKind.QUIZ,
        NudgeKind.STREAK,
        NudgeKind.EVENT,
    ]


def test_only_true_facts_are_reasons_to_return() -> None:
    assert reasons_to_return(NudgeFacts()) == []
    assert reasons_to_return(NudgeFacts(expiring_points=40)) == []  # no expiry day known
    assert reasons_to_return(NudgeFacts(expiring_on=TODAY)) == []  # nothing expires
    assert reasons_to_return(NudgeFacts(best_streak=2)) == []  # too short to restart
    assert reasons_to_return(NudgeFacts(best_streak=3)) == [NudgeKind.STREAK]


def follow(member: Candidate, days: int, rules: NudgeSettings = NO_HOLDOUT) -> list[Decision]:
    """Plan every day for ``days`` days from TODAY for a member who never comes back."""
    decisions: list[Decision] = []
    contacts = list(member.contacts)
    for offset in range(days):
        today = TODAY + timedelta(days=offset)
        found = plan(member._replace(contacts=tuple(contacts)), rules=rules, today=today)
        if member.member_id in found:
            decision = found[member.member_id]
            decisions.append(decision)
            if decision.status is not NudgeStatus.SKIPPED:
                contacts.append(Contact(today, decision.episode, decision.kind, None))
    return decisions


def test_an_episode_escalates_weekly_from_light_to_a_reason_to_a_comeback_then_stops() -> None:
    decisions = follow(candidate(facts=EVERY_REASON), 60)
    assert [(decision.due_at, decision.step, decision.kind) for decision in decisions] == [
        (datetime(2026, 6, 1, 2, 30, tzinfo=UTC), 1, NudgeKind.LIGHT),
        (datetime(2026, 6, 8, 2, 30, tzinfo=UTC), 2, NudgeKind.EXPIRING),
        (datetime(2026, 6, 15, 2, 30, tzinfo=UTC), 3, NudgeKind.COMEBACK),
    ]


def test_a_new_episode_gives_another_reason_than_the_last_one_when_there_is_one() -> None:
    earlier = (
        contact(70, idle=80),
        contact(63, idle=80, kind=NudgeKind.EXPIRING),
        contact(56, idle=80, kind=NudgeKind.COMEBACK),
        contact(14, idle=20),
    )
    decision = plan(candidate(idle=20, contacts=earlier, facts=EVERY_REASON))[1]
    assert (decision.step, decision.kind) == (2, NudgeKind.EVENT)


def test_the_holdout_escalates_through_recorded_contacts_and_is_never_sent_anything() -> None:
    held = next(member for member in range(1, 1000) if in_holdout(GROUP, member, days_ago(40), 10))
    decisions = follow(candidate(held), 60, NudgeSettings(holdout_percent=10))
    assert [(decision.status, decision.step, decision.kind) for decision in decisions] == [
        (NudgeStatus.HELD_OUT, 1, None),
        (NudgeStatus.HELD_OUT, 2, None),
        (NudgeStatus.HELD_OUT, 3, None),
    ]


@settings(max_examples=150)
@given(
    st.lists(st.booleans(), min_size=90, max_size=90),
    st.integers(min_value=0, max_value=50),
    st.sampled_from(Stage),
    st.integers(min_value=1, max_value=10_000),
)
def test_no_member_is_nudged_twice_in_seven_days_or_more_than_three_times_an_episode(
    active_days: list[bool], percent: int, stage: Stage, member_id: int
) -> None:
    rules = NudgeSettings(holdout_percent=percent)
    last_active: date | None = days_ago(20)
    contacts: list[Contact] = []
    for offset, active in enumerate(active_days):
        today = TODAY + timedelta(days=offset)
        if active:
            last_active = today
        member = candidate(member_id, stage=stage, contacts=tuple(contacts))
        member = member._replace(last_active_on=last_active)
        for decision in plan(member, rules=rules, today=today).values():
            assert decision.status is not NudgeStatus.SKIPPED
            assert decision.episode == last_active
            assert stage in (Stage.DECLINING, Stage.DORMANT, Stage.CHURNED)
            contacts.append(Contact(today, decision.episode, decision.kind, None))
    for earlier, later in itertools.pairwise(contacts):
        assert (later.day - earlier.day).days >= NUDGE_GAP_DAYS
    per_episode: dict[date, set[bool]] = {}
    for one in contacts:
        per_episode.setdefault(one.episode, set()).add(one.kind is None)
    for episode, held_out in per_episode.items():
        assert sum(1 for one in contacts if one.episode == episode) <= EPISODE_LIMIT
        assert len(held_out) == 1  # an episode is either all holdout or all nudged


# --- the caps ----------------------------------------------------------------------------


def test_the_daily_cap_goes_to_high_value_members_first() -> None:
    members = [
        candidate(1, value_score=90),
        candidate(2, high_value=True, value_score=10),
        candidate(3),
        candidate(4, high_value=True, value_score=50),
    ]
    day = plan_day(GROUP, members, TODAY, SHANGHAI, NudgeSettings(daily_cap=2, holdout_percent=0))
    assert [(d.member_id, d.status, d.reason) for d in day.decisions] == [
        (4, NudgeStatus.PLANNED, None),
        (2, NudgeStatus.PLANNED, None),
        (1, NudgeStatus.SKIPPED, SkipReason.DAILY_CAP),
        (3, NudgeStatus.SKIPPED, SkipReason.DAILY_CAP),
    ]


def test_among_equals_the_higher_value_score_and_then_the_deeper_stage_go_first() -> None:
    members = [
        candidate(1, stage=Stage.CHURNED),
        candidate(2, stage=Stage.DORMANT),
        candidate(3, stage=Stage.DECLINING, idle=5),
        candidate(4, value_score=3),
    ]
    day = plan_day(GROUP, members, TODAY, SHANGHAI, NudgeSettings(daily_cap=3, holdout_percent=0))
    assert [d.member_id for d in day.decisions if d.status is NudgeStatus.PLANNED] == [4, 3, 2]


def test_nudges_sent_earlier_today_count_against_the_daily_cap() -> None:
    members = [candidate(member) for member in range(1, 6)]
    found = plan(*members, rules=NudgeSettings(daily_cap=3, holdout_percent=0), sent_today=2)
    assert [d.member_id for d in found.values() if d.status is NudgeStatus.PLANNED] == [1]
    found = plan(*members, rules=NudgeSettings(daily_cap=3, holdout_percent=0), sent_today=9)
    assert {d.reason for d in found.values()} == {SkipReason.DAILY_CAP}


def test_a_daily_cap_of_zero_sends_nothing() -> None:
    found = plan(candidate(1), candidate(2), rules=NudgeSettings(daily_cap=0, holdout_percent=0))
    assert {(d.status, d.reason) for d in found.values()} == {
        (NudgeStatus.SKIPPED, SkipReason.DAILY_CAP)
    }


def test_a_capped_member_keeps_their_step_and_is_planned_another_day() -> None:
    capped = plan(candidate(1), rules=NudgeSettings(daily_cap=0, holdout_percent=0))[1]
    assert (capped.step, capped.kind, capped.due_at) == (
        1,
        None,
        datetime(2026, 6, 1, 2, 30, tzinfo=UTC),
    )
    # A skip is no contact: the next day the member is planned at the same step.
    tomorrow = plan(candidate(1), today=TODAY + timedelta(days=1))[1]
    assert (tomorrow.status, tomorrow.step) == (NudgeStatus.PLANNED, 1)


def test_paused_nudges_plan_nothing_and_record_why() -> None:
    members = [candidate(member) for member in range(1, 41)]
    found = plan(*members, rules=NudgeSettings(paused=True, holdout_percent=50))
    assert {(d.status, d.reason, d.kind) for d in found.values()} == {
        (NudgeStatus.SKIPPED, SkipReason.PAUSED, None)
    }


def test_the_holdout_is_drawn_only_from_members_within_the_daily_cap() -> None:
    # Otherwise the holdout would include the low-value members the cap leaves out, and
    # the uplift would compare unlike groups.
    members = [candidate(member, value_score=1000 - member) for member in range(1, 201)]
    rules = NudgeSettings(daily_cap=20, holdout_percent=50)
    decisions = plan_day(GROUP, members, TODAY, SHANGHAI, rules).decisions
    statuses = [decision.status for decision in decisions]
    assert statuses.count(NudgeStatus.PLANNED) == 20
    last_planned = max(i for i, status in enumerate(statuses) if status is NudgeStatus.PLANNED)
    beyond = decisions[last_planned + 1 :]
    assert {(d.status, d.reason) for d in beyond} == {(NudgeStatus.SKIPPED, SkipReason.DAILY_CAP)}
    assert any(in_holdout(GROUP, d.member_id, d.episode, 50) for d in beyond)
    assert NudgeStatus.HELD_OUT in statuses[:last_planned]


def test_a_member_with_no_time_outside_quiet_hours_is_counted_not_planned() -> None:
    member = candidate(quiet=QuietHours(9, 2))._replace(last_active_on=date(2026, 2, 1))
    day = plan_day(GROUP, [member], date(2026, 3, 8), NEW_YORK, NO_HOLDOUT)
    assert day.decisions == ()
    assert day.left_out == {SkipReason.NO_TIME: 1}


def test_a_planned_nudge_is_due_at_the_members_habitual_hour() -> None:
    decision = plan(candidate(habit=18), timezone=NEW_YORK)[1]
    assert decision.status is NudgeStatus.PLANNED
    assert local(decision.due_at, NEW_YORK).replace(tzinfo=None) == datetime(2026, 6, 1, 18, 30)


@pytest.mark.parametrize(
    "rules",
    [
        {"daily_cap": -1},
        {"holdout_percent": -1},
        {"holdout_percent": 51},
        {"comeback_points": -5},
    ],
)
def test_impossible_nudge_settings_are_refused(rules: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"cap|share|bonus"):
        NudgeSettings(**rules)  # type: ignore[arg-type]


# --- the holdout -------------------------------------------------------------------------


def test_holdout_assignment_gives_the_same_answer_on_every_call() -> None:
    first = held_out_members(10)
    assert first == held_out_members(10) == held_out_members(10)
    assert first  # about 40 of 400


def test_holdout_assignment_does_not_change_between_releases_or_processes() -> None:
    # Pinned: changing how episodes are assigned would move members mid-episode.
    episode = date(2026, 5, 1)
    assert [m for m in range(1, 101) if in_holdout(1, m, episode, 10)] == [17, 21, 62, 76]
    assert [m for m in range(1, 101) if in_holdout(2, m, episode, 10)] == [
        13,
        14,
        16,
        28,
        30,
        38,
        52,
        57,
        78,
    ]


def test_a_new_episode_may_land_on_the_other_side_of_the_holdout() -> None:
    later = TODAY + timedelta(days=30)
    moved = [
        member
        for member in range(1, 400)
        if in_holdout(GROUP, member, TODAY, 10) != in_holdout(GROUP, member, later, 10)
    ]
    assert moved


def test_no_holdout_at_zero_percent() -> None:
    assert held_out_members(0) == []


def test_a_larger_holdout_contains_the_smaller_one() -> None:
    assert set(held_out_members(5)) <= set(held_out_members(10)) <= set(held_out_members(50))


def test_a_held_out_member_gets_a_recorded_contact_with_nothing_to_say() -> None:
    held = held_out_members(10)[0]
    decision = plan(candidate(held, habit=19), rules=NudgeSettings(holdout_percent=10))[held]
    assert (decision.status, decision.step, decision.kind, decision.reason) == (
        NudgeStatus.HELD_OUT,
        1,
        None,
        None,
    )
    # Recorded with the time it would have been sent, to compare like with like.
    assert decision.due_at == datetime(2026, 6, 1, 11, 30, tzinfo=UTC)


def test_the_same_episode_is_held_out_in_every_plan_of_the_day() -> None:
    members = [candidate(member) for member in range(1, 201)]
    rules = NudgeSettings(holdout_percent=10, daily_cap=1000)
    first = plan_day(GROUP, members, TODAY, SHANGHAI, rules)
    again = plan_day(GROUP, list(reversed(members)), TODAY, SHANGHAI, rules)
    assert first == again
    held = {d.member_id for d in first.decisions if d.status is NudgeStatus.HELD_OUT}
    assert held == {
        member for member in range(1, 201) if in_holdout(GROUP, member, days_ago(40), 10)
    }


def test_a_held_out_member_does_not_use_up_the_daily_cap() -> None:
    held = held_out_members(10)[0]
    members = [candidate(held, high_value=True), candidate(held + 1000)]
    rules = NudgeSettings(holdout_percent=10, daily_cap=1)
    assert not in_holdout(GROUP, held + 1000, days_ago(40), 10)
    found = plan(*members, rules=rules)
    assert found[held].status is NudgeStatus.HELD_OUT
    assert found[held + 1000].status is NudgeStatus.PLANNED


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=1, max_value=10**9),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
)
def test_the_holdout_share_over_many_members_is_near_the_percent(
    percent: int, community: int, episode: date
) -> None:
    members = 10_000
    held = sum(1 for member in range(members) if in_holdout(community, member, episode, percent))
    assert abs(held / members - percent / 100) < 0.025


# --- templates ---------------------------------------------------------------------------


def test_each_kind_has_three_built_in_templates() -> None:
    assert BUILTIN_VARIANTS == 3
    assert builtin_templates(NudgeKind.STREAK) == ["streak:0", "streak:1", "streak:2"]
    assert custom_template(17) == "custom:17"


def test_the_first_template_not_seen_yet_is_chosen() -> None:
    available = builtin_templates(NudgeKind.LIGHT)
    assert choose_template(NudgeKind.LIGHT, available, []) == "light:0"
    assert choose_template(NudgeKind.LIGHT, available, ["light:0", None]) == "light:1"
    assert choose_template(NudgeKind.LIGHT, available, ["light:1", "light:0"]) == "light:2"


def test_when_all_were_seen_the_one_seen_longest_ago_is_chosen() -> None:
    available = builtin_templates(NudgeKind.LIGHT)
    seen = ["light:2", "light:0", "light:1"]
    assert choose_template(NudgeKind.LIGHT, available, seen) == "light:2"
    seen = ["light:2", "light:0", "light:1", "light:2"]
    assert choose_template(NudgeKind.LIGHT, available, seen) == "light:0"


def test_a_single_template_is_repeated_since_there_is_no_other() -> None:
    assert choose_template(NudgeKind.QUIZ, ["custom:4"], ["custom:4"]) == "custom:4"
    assert choose_template(NudgeKind.QUIZ, ["custom:4", "custom:4"], ["custom:4"]) == "custom:4"


def test_there_is_no_choice_without_templates() -> None:
    with pytest.raises(ValueError, match="no template"):
        choose_template(NudgeKind.EVENT, [], [])


template_ids = st.sampled_from(["a", "b", "c", "d", "e"])


@given(
    st.lists(template_ids, min_size=1, max_size=5, unique=True),
    st.lists(st.none() | template_ids, max_size=12),
)
def test_a_template_is_never_the_one_seen_last_when_there_is_another(
    available: list[str], seen: list[str | None]
) -> None:
    chosen = choose_template(NudgeKind.STREAK, available, seen)
    assert chosen in available
    history = [template for template in seen if template is not None]
    if history and len(available) > 1:
        assert chosen != history[-1]


@pytest.mark.parametrize("kind", list(NudgeKind))
def test_every_kind_accepts_its_own_placeholders(kind: NudgeKind) -> None:
    fields = TEMPLATE_FIELDS[kind]
    assert {"name", "community"} <= fields
    text = " ".join("{" + field + "}" for field in sorted(fields))
    assert check_template(kind, f"  {text}  ") == text


def test_a_template_is_stored_stripped_with_literal_double_braces_allowed() -> None:
    text = "Hi {name}! {{not a placeholder}} {community} misses you."
    assert check_template(NudgeKind.LIGHT, f"\n{text}\n") == text


@pytest.mark.parametrize(
    ("kind", "text", "problem"),
    [
        (NudgeKind.LIGHT, "Hi {name}, {points} points wait", "unknown:points"),
        (NudgeKind.STREAK, "{topic} {bonus} {name}", "unknown:bonus,topic"),
        (NudgeKind.LIGHT, "Hi {name.__class__}", "unknown:name.__class__"),
        (NudgeKind.LIGHT, "Hi {name[0]}", "unknown:name[0]"),
        (NudgeKind.LIGHT, "Hi {0}", "unknown:0"),
        (NudgeKind.LIGHT, "Hi {name", "braces"),
        (NudgeKind.LIGHT, "Hi name}", "braces"),
        (NudgeKind.LIGHT, "Hi {}", "braces"),
        (NudgeKind.EXPIRING, "{points:>99999999} points", "braces"),
        (NudgeKind.LIGHT, "Hi {name!r}", "braces"),
        (NudgeKind.LIGHT, "Hi {name:{days}}", "braces"),
        (NudgeKind.LIGHT, "   ", "empty"),
        (NudgeKind.LIGHT, "x" * (TEMPLATE_LIMIT + 1), "too_long"),
    ],
)
def test_a_template_that_cannot_be_used_is_refused_with_the_reason(
    kind: NudgeKind, text: str, problem: str
) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_template(kind, text)
    assert refused.value.usage == problem


def test_a_template_as_long_as_the_limit_is_accepted() -> None:
    text = "{name}" + "x" * (TEMPLATE_LIMIT - 6)
    assert check_template(NudgeKind.LIGHT, text) == text


template_pieces = st.sampled_from(
    ["Hi ", "{name}", "{points}", "{days}", "{", "}", "{{", "}}", ":", "!r", "{name:>9}", "{}"]
)


@given(st.sampled_from(NudgeKind), st.lists(template_pieces, min_size=1, max_size=8))
def test_an_accepted_template_fills_in_with_its_facts_and_nothing_else(
    kind: NudgeKind, pieces: list[str]
) -> None:
    text = "".join(pieces)
    try:
        checked = check_template(kind, text)
    except InvalidArgument:
        return
    facts = dict.fromkeys(TEMPLATE_FIELDS[kind], "•")
    filled = checked.format_map(facts)  # never a KeyError, a ValueError or padding
    assert len(filled) <= len(checked)


# --- the check at send time --------------------------------------------------------------

DUE = datetime(2026, 6, 1, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai


def check(
    now: datetime,
    *,
    due: datetime = DUE,
    timezone: str = SHANGHAI,
    paused: bool = False,
    in_group: bool = True,
    writable: bool = True,
    nudges_enabled: bool = True,
    active_today: bool = False,
) -> SkipReason | None:
    """The check of a nudge due at ``due`` for a member who by default may still get it."""
    return send_check(
        due,
        now,
        timezone=timezone,
        quiet=DEFAULT_QUIET_HOURS,
        paused=paused,
        in_group=in_group,
        writable=writable,
        nudges_enabled=nudges_enabled,
        active_today=active_today,
    )


def test_a_planned_nudge_goes_at_its_time() -> None:
    assert check(DUE) is None
    assert check(DUE + LATE_GRACE) is None


def test_a_nudge_more_than_two_hours_late_is_dropped() -> None:
    assert check(DUE + LATE_GRACE + timedelta(minutes=1)) is SkipReason.LATE


def test_a_nudge_that_would_arrive_in_quiet_hours_is_dropped_even_if_not_late() -> None:
    evening = datetime(2026, 6, 1, 12, 30, tzinfo=UTC)  # 20:30 in Shanghai
    at_nine = evening + timedelta(minutes=31)  # 21:01, quiet
    assert check(evening + timedelta(minutes=20), due=evening) is None
    assert check(at_nine, due=evening) is SkipReason.LATE


def test_quiet_hours_at_send_time_are_read_in_the_communitys_zone() -> None:
    moment = datetime(2026, 6, 1, 13, 10, tzinfo=UTC)  # 21:10 Shanghai, 09:10 New York
    assert check(moment, due=moment, timezone=SHANGHAI) is SkipReason.LATE
    assert check(moment, due=moment, timezone=NEW_YORK) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"paused": True}, SkipReason.PAUSED),
        ({"in_group": False}, SkipReason.LEFT),
        ({"writable": False}, SkipReason.UNREACHABLE),
        ({"nudges_enabled": False}, SkipReason.OPTED_OUT),
        ({"active_today": True}, SkipReason.ACTIVE_TODAY),
    ],
)
def test_what_changed_since_the_morning_stops_a_planned_nudge(
    change: dict[str, bool], reason: SkipReason
) -> None:
    assert check(DUE + timedelta(minutes=5), **change) is reason  # type: ignore[arg-type]


def test_a_pause_is_the_reason_given_before_anything_else() -> None:
    assert check(DUE, paused=True, nudges_enabled=False, active_today=True) is SkipReason.PAUSED


# --- outcomes ----------------------------------------------------------------------------


def test_a_return_rate_without_contacts_is_unknown() -> None:
    assert ReturnRate(0, 0).rate is None
    assert ReturnRate(8, 2).rate == 0.25


def test_the_uplift_and_its_interval_on_hand_computed_numbers() -> None:
    # 30/100 vs 20/100: 0.10 ± 1.96·√(0.3·0.7/100 + 0.2·0.8/100) = 0.10 ± 0.119222
    found = uplift(ReturnRate(100, 30), ReturnRate(100, 20))
    assert found is not None
    assert found.difference == pytest.approx(0.10)
    assert found.low == pytest.approx(-0.019222, abs=1e-6)
    assert found.high == pytest.approx(0.219222, abs=1e-6)
    assert not found.significant


def test_a_clear_uplift_is_significant() -> None:
    # 60/200 vs 10/100: 0.20 ± 1.96·√(0.3·0.7/200 + 0.1·0.9/100) = 0.20 ± 0.086551
    found = uplift(ReturnRate(200, 60), ReturnRate(100, 10))
    assert found is not None
    assert (found.low, found.high) == (
        pytest.approx(0.113449, abs=1e-6),
        pytest.approx(0.286551, abs=1e-6),
    )
    assert found.significant


def test_nudges_that_make_returns_rarer_are_significant_too() -> None:
    found = uplift(ReturnRate(100, 10), ReturnRate(200, 60))
    assert found is not None
    assert found.difference == pytest.approx(-0.20)
    assert found.high < 0
    assert found.significant


def test_all_or_nothing_rates_give_an_interval_of_no_width() -> None:
    found = uplift(ReturnRate(50, 50), ReturnRate(50, 0))
    assert found == (1.0, 1.0, 1.0)


def test_there_is_no_uplift_without_both_groups() -> None:
    assert uplift(ReturnRate(100, 30), ReturnRate(0, 0)) is None
    assert uplift(ReturnRate(0, 0), ReturnRate(100, 30)) is None


def test_a_wider_confidence_gives_a_wider_interval() -> None:
    narrow = uplift(ReturnRate(100, 30), ReturnRate(100, 20))
    wide = uplift(ReturnRate(100, 30), ReturnRate(100, 20), z=2.576)
    assert narrow is not None
    assert wide is not None
    assert wide.low < narrow.low < narrow.high < wide.high
    assert math.isclose(wide.high - wide.difference, 2.576 * math.sqrt(0.0037))


def test_the_return_rate_counts_only_contacts_whose_window_has_closed() -> None:
    outcome = KindOutcome(
        NudgeKind.LIGHT, contacts=10, matured=6, returned=3, clicked=4, opted_out=1
    )
    assert return_rate(outcome) == ReturnRate(matured=6, returned=3, waiting=4)
    assert return_rate(outcome).rate == 0.5


def test_all_sent_nudges_add_up_over_the_kinds() -> None:
    outcomes = NudgeOutcomes(
        by_kind=(
            KindOutcome(NudgeKind.LIGHT, 10, 8, 2, 3, 1),
            KindOutcome(NudgeKind.COMEBACK, 4, 4, 3, 4, 0),
        ),
        holdout=KindOutcome(None, 2, 2, 0, 0, 0),
        skipped={SkipReason.DAILY_CAP: 5},
        planned=1,
    )
    assert outcomes.sent == KindOutcome(None, 14, 12, 5, 7, 1)
