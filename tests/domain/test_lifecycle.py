"""Lifecycle stages: the raw reading, hysteresis between stages, and activation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.domain.activity import ActivityKind
from hearth.domain.lifecycle import (
    ACTIVATION_KINDS,
    ENGAGEMENT_RANK,
    IMMEDIATE_STAGES,
    Activation,
    LifecycleRules,
    MemberActivity,
    Stage,
    StageChange,
    StageState,
    activated_within,
    activation,
    days_to_activation,
    idle_days,
    lifecycle_rules_from_settings,
    raw_stage,
    settle_stage,
)

TODAY = date(2026, 6, 1)
RULES = LifecycleRules()


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


def member(
    *,
    joined: int = 200,
    idle: int | None = 0,
    recent: int = 7,
    baseline: int = 28,
    weeks: int = 12,
    left: int | None = None,
) -> MemberActivity:
    """A membership read on TODAY; by default a steady member active every other day."""
    return MemberActivity(
        joined_on=days_ago(joined),
        left_on=None if left is None else days_ago(left),
        last_active_on=None if idle is None else days_ago(idle),
        active_days_recent=recent,
        active_days_baseline=baseline,
        active_weeks=weeks,
    )


def stage_of(activity: MemberActivity, rules: LifecycleRules = RULES) -> Stage:
    return raw_stage(activity, TODAY, rules)


# --- the raw reading ---------------------------------------------------------------------


def test_a_steady_long_standing_member_is_mature() -> None:
    assert stage_of(member()) is Stage.MATURE


def test_a_member_who_joined_today_is_new() -> None:
    assert stage_of(member(joined=0, recent=1, baseline=0, weeks=1)) is Stage.NEW


def test_a_member_who_joined_13_days_ago_is_new_and_14_days_ago_is_not() -> None:
    assert stage_of(member(joined=13, recent=3, baseline=0, weeks=2)) is Stage.NEW
    assert stage_of(member(joined=14, recent=3, baseline=0, weeks=2)) is Stage.GROWING


def test_a_quiet_newcomer_is_still_new() -> None:
    assert stage_of(member(joined=10, idle=None, recent=0, baseline=0, weeks=0)) is Stage.NEW


def test_29_days_without_activity_is_not_yet_dormant() -> None:
    assert stage_of(member(idle=29, recent=0, baseline=4, weeks=4)) is Stage.GROWING


def test_exactly_30_days_without_activity_is_dormant() -> None:
    assert stage_of(member(idle=30, recent=0, baseline=4, weeks=4)) is Stage.DORMANT


def test_89_days_without_activity_is_dormant_and_exactly_90_is_churned() -> None:
    assert stage_of(member(idle=89, recent=0, baseline=0, weeks=0)) is Stage.DORMANT
    assert stage_of(member(idle=90, recent=0, baseline=0, weeks=0)) is Stage.CHURNED


def test_a_member_who_never_took_part_goes_dormant_30_days_after_joining() -> None:
    never = member(joined=30, idle=None, recent=0, baseline=0, weeks=0)
    assert idle_days(never, TODAY) == 30
    assert stage_of(never) is Stage.DORMANT


def test_days_without_activity_count_from_a_later_rejoin() -> None:
    rejoined = member(joined=20, idle=120, recent=0, baseline=0, weeks=0)
    assert idle_days(rejoined, TODAY) == 20
    assert stage_of(rejoined) is Stage.GROWING


def test_leaving_the_group_is_churned_even_for_the_most_active_member() -> None:
    assert stage_of(member(left=0)) is Stage.CHURNED
    assert stage_of(member(joined=3, recent=3, baseline=0, weeks=1, left=1)) is Stage.CHURNED


def test_a_leave_dated_after_the_day_read_does_not_count_yet() -> None:
    assert stage_of(member(left=-1)) is Stage.MATURE


def test_activity_below_half_of_the_members_own_baseline_is_declining() -> None:
    # a daily member over the 8 weeks: 14 active days expected in the last 14
    assert stage_of(member(recent=6, baseline=56)) is Stage.DECLINING


def test_exactly_half_of_the_baseline_is_not_declining() -> None:
    assert stage_of(member(recent=7, baseline=56)) is Stage.MATURE


def test_a_baseline_too_small_is_never_declining() -> None:
    # 7 active days in 8 weeks average 1.75 per fortnight: below the minimum of 2
    assert stage_of(member(idle=20, recent=0, baseline=7, weeks=3)) is Stage.GROWING
    assert stage_of(member(idle=20, recent=0, baseline=8, weeks=3)) is Stage.DECLINING


def test_a_short_membership_is_compared_with_the_days_it_was_a_member() -> None:
    # joined 30 days ago: 17 of the baseline's days, all active, so about 14 expected
    assert stage_of(member(joined=30, recent=6, baseline=17, weeks=5)) is Stage.DECLINING
    assert stage_of(member(joined=30, recent=7, baseline=17, weeks=5)) is Stage.GROWING


def test_a_baseline_shorter_than_the_recent_window_counts_as_that_long() -> None:
    # 7 baseline days all active average 7 per fortnight, not 14: 6 is not below half
    assert stage_of(member(joined=20, recent=6, baseline=7, weeks=3)) is Stage.GROWING
    assert stage_of(member(joined=20, recent=3, baseline=7, weeks=3)) is Stage.DECLINING


def test_declining_comes_before_mature() -> None:
    assert stage_of(member(recent=2, baseline=40, weeks=10)) is Stage.DECLINING


def test_mature_needs_eight_active_weeks_and_sixty_days_of_membership() -> None:
    assert stage_of(member(joined=60, weeks=8)) is Stage.MATURE
    assert stage_of(member(joined=60, weeks=7)) is Stage.GROWING
    assert stage_of(member(joined=59, weeks=9)) is Stage.GROWING


def test_thresholds_are_settings() -> None:
    rules = LifecycleRules(new_days=7, dormant_days=10, churned_days=20, mature_active_weeks=4)
    assert stage_of(member(joined=8, recent=3, baseline=0, weeks=2), rules) is Stage.GROWING
    assert stage_of(member(idle=10, recent=0, baseline=0, weeks=2), rules) is Stage.DORMANT
    assert stage_of(member(idle=20, recent=0, baseline=0, weeks=2), rules) is Stage.CHURNED
    assert stage_of(member(weeks=4), rules) is Stage.MATURE


def test_settings_override_the_defaults() -> None:
    assert lifecycle_rules_from_settings({"new_days": 7}) == LifecycleRules(new_days=7)
    assert lifecycle_rules_from_settings(None) == RULES
    assert lifecycle_rules_from_settings({}) == RULES
    assert RULES.settings()["dormant_days"] == 30


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"new_dayz": 7, "other": 3}, "unknown lifecycle rules: new_dayz, other"),
        ({"demotion_days": True, "new_days": "7"}, "whole numbers: demotion_days, new_days"),
        ({"new_days": 7.5}, "whole numbers: new_days"),
        ({"new_days": -1}, "cannot be negative: new_days"),
        ({"dormant_days": 120}, "dormant_days must be below churned_days"),
        ({"mature_active_weeks": 13}, "mature_active_weeks cannot exceed mature_window_weeks"),
    ],
)
def test_bad_settings_are_refused_with_the_reason_rather_than_ignored(
    values: dict[str, object], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        lifecycle_rules_from_settings(values)


def test_contradictory_rules_are_refused() -> None:
    with pytest.raises(ValueError, match="dormant_days"):
        LifecycleRules(dormant_days=90, churned_days=90)
    with pytest.raises(ValueError, match="windows"):
        LifecycleRules(recent_days=0)


# --- hysteresis --------------------------------------------------------------------------


def settle(
    stored: StageState | None, raw: Stage, day: int
) -> tuple[StageState, StageChange | None]:
    """Settle on day ``day`` counted from TODAY."""
    update = settle_stage(stored, raw, TODAY + timedelta(days=day), RULES)
    return update.state, update.change


def on(day: int) -> date:
    return TODAY + timedelta(days=day)


MATURE_SINCE = StageState(Stage.MATURE, days_ago(100))


def test_a_first_reading_is_stored_at_once_and_recorded() -> None:
    state, change = settle(None, Stage.NEW, 0)
    assert state == StageState(Stage.NEW, TODAY)
    assert change == StageChange(None, Stage.NEW, TODAY)
    assert not change.is_promotion
    assert not change.is_demotion


def test_the_same_reading_again_changes_nothing() -> None:
    state, change = settle(MATURE_SINCE, Stage.MATURE, 0)
    assert state == MATURE_SINCE
    assert change is None


def test_recomputing_on_the_same_day_changes_nothing() -> None:
    first, change = settle(StageState(Stage.GROWING, days_ago(30)), Stage.MATURE, 0)
    assert change is not None
    again, second_change = settle(first, Stage.MATURE, 0)
    assert again == first
    assert second_change is None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (Stage.GROWING, Stage.MATURE),
        (Stage.DECLINING, Stage.GROWING),
        (Stage.DECLINING, Stage.MATURE),
        (Stage.DORMANT, Stage.DECLINING),
        (Stage.DORMANT, Stage.GROWING),
        (Stage.CHURNED, Stage.NEW),  # rejoined
        (Stage.CHURNED, Stage.GROWING),  # back after 90 quiet days
    ],
)
def test_a_promotion_takes_effect_at_once(old: Stage, new: Stage) -> None:
    state, change = settle(StageState(old, days_ago(40)), new, 0)
    assert state == StageState(new, TODAY)
    assert change == StageChange(old, new, TODAY)
    assert change.is_promotion


def test_graduating_from_new_to_growing_is_at_once_and_neither_promotion_nor_demotion() -> None:
    state, change = settle(StageState(Stage.NEW, days_ago(14)), Stage.GROWING, 0)
    assert state == StageState(Stage.GROWING, TODAY)
    assert change == StageChange(Stage.NEW, Stage.GROWING, TODAY)
    assert not change.is_promotion
    assert not change.is_demotion


def test_a_demotion_pending_for_6_days_has_not_happened_yet() -> None:
    state, change = settle(MATURE_SINCE, Stage.DECLINING, 0)
    assert state == StageState(Stage.MATURE, MATURE_SINCE.since, demotion_pending_since=TODAY)
    assert change is None
    for day in range(1, 7):
        state, change = settle(state, Stage.DECLINING, day)
        assert change is None
    assert state == StageState(Stage.MATURE, MATURE_SINCE.since, demotion_pending_since=TODAY)


def test_a_demotion_takes_effect_on_the_7th_day_after_it_was_first_read() -> None:
    state = StageState(Stage.MATURE, MATURE_SINCE.since, demotion_pending_since=TODAY)
    state, change = settle(state, Stage.DECLINING, 7)
    assert state == StageState(Stage.DECLINING, on(7))
    assert change == StageChange(Stage.MATURE, Stage.DECLINING, on(7))
    assert change.is_demotion


def test_a_demotion_lands_on_the_stage_read_the_day_it_takes_effect() -> None:
    state = StageState(Stage.MATURE, MATURE_SINCE.since, demotion_pending_since=TODAY)
    state, change = settle(state, Stage.GROWING, 7)
    assert change == StageChange(Stage.MATURE, Stage.GROWING, on(7))


def test_a_demotion_held_on_days_without_a_recompute_still_counts() -> None:
    state, _ = settle(MATURE_SINCE, Stage.GROWING, 0)
    state, change = settle(state, Stage.GROWING, 9)
    assert change == StageChange(Stage.MATURE, Stage.GROWING, on(9))


def test_recovering_while_a_demotion_is_pending_cancels_it() -> None:
    state = StageState(Stage.MATURE, MATURE_SINCE.since, demotion_pending_since=TODAY)
    state, change = settle(state, Stage.MATURE, 6)
    assert state == MATURE_SINCE
    assert change is None
    # the next dip starts the wait over
    state, change = settle(state, Stage.DECLINING, 7)
    assert state.demotion_pending_since == on(7)
    assert change is None


def test_a_member_demoted_after_7_days_is_promoted_back_at_once() -> None:
    state = StageState(Stage.GROWING, days_ago(50))
    for day in range(7):
        state, change = settle(state, Stage.DECLINING, day)
        assert change is None
    state, change = settle(state, Stage.DECLINING, 7)
    assert change == StageChange(Stage.GROWING, Stage.DECLINING, on(7))
    state, change = settle(state, Stage.GROWING, 8)
    assert change == StageChange(Stage.DECLINING, Stage.GROWING, on(8))
    assert state == StageState(Stage.GROWING, on(8))


def test_leaving_the_group_demotes_at_once() -> None:
    state, change = settle(MATURE_SINCE, Stage.CHURNED, 0)
    assert state == StageState(Stage.CHURNED, TODAY)
    assert change == StageChange(Stage.MATURE, Stage.CHURNED, TODAY)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (Stage.DECLINING, Stage.DORMANT),
        (Stage.GROWING, Stage.DORMANT),
        (Stage.DORMANT, Stage.CHURNED),
        (Stage.NEW, Stage.DORMANT),
    ],
)
def test_dormancy_and_churn_by_inactivity_demote_at_once(old: Stage, new: Stage) -> None:
    _, change = settle(StageState(old, days_ago(10)), new, 0)
    assert change == StageChange(old, new, TODAY)


def test_going_dormant_while_another_demotion_is_pending_is_at_once() -> None:
    state = StageState(Stage.MATURE, MATURE_SINCE.since, demotion_pending_since=days_ago(2))
    state, change = settle(state, Stage.DORMANT, 0)
    assert state == StageState(Stage.DORMANT, TODAY)
    assert change == StageChange(Stage.MATURE, Stage.DORMANT, TODAY)


def test_the_wait_before_a_demotion_is_a_setting() -> None:
    update = settle_stage(MATURE_SINCE, Stage.GROWING, TODAY, LifecycleRules(demotion_days=0))
    assert update.change == StageChange(Stage.MATURE, Stage.GROWING, TODAY)


@given(st.lists(st.sampled_from(Stage), min_size=1, max_size=60))
def test_daily_readings_never_leave_a_member_below_the_reading_and_demote_only_after_a_week(
    readings: list[Stage],
) -> None:
    state: StageState | None = None
    below_since: int | None = None  # first day of the current run of readings below stored
    for day, raw in enumerate(readings):
        before = state
        update = settle_stage(state, raw, on(day), RULES)
        state, change = update.state, update.change
        assert ENGAGEMENT_RANK[state.stage] >= ENGAGEMENT_RANK[raw]
        if change is not None:
            assert change.on == on(day) == state.since
            assert change.new is state.stage
            assert change.old is (before.stage if before else None)
        if change is not None and change.is_demotion and raw not in IMMEDIATE_STAGES:
            assert below_since is not None
            assert day - below_since >= RULES.demotion_days
        if change is None and before is not None and raw is not before.stage:
            below_since = day if below_since is None else below_since
        else:
            below_since = None
        assert state.demotion_pending_since == (None if below_since is None else on(below_since))


# --- activation --------------------------------------------------------------------------

JOINED = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def test_the_first_meaningful_actions_are_a_checkin_a_quiz_answer_or_an_rsvp() -> None:
    assert {ActivityKind.CHECKIN, ActivityKind.QUIZ_ANSWER, ActivityKind.RSVP} == ACTIVATION_KINDS


def test_days_to_activation_counts_whole_days_from_joining() -> None:
    assert days_to_activation(JOINED, JOINED + timedelta(hours=23, minutes=59)) == 0
    assert days_to_activation(JOINED, JOINED + timedelta(days=1)) == 1
    assert days_to_activation(JOINED, JOINED + timedelta(days=30, hours=5)) == 30
    assert days_to_activation(JOINED, None) is None


def test_an_action_before_the_join_was_recorded_is_day_zero() -> None:
    assert days_to_activation(JOINED, JOINED - timedelta(hours=3)) == 0


def test_activated_within_7_days_means_less_than_7_whole_days() -> None:
    assert activated_within(JOINED, JOINED + timedelta(days=7) - timedelta(seconds=1), RULES)
    assert not activated_within(JOINED, JOINED + timedelta(days=7), RULES)
    assert not activated_within(JOINED, None, RULES)


def test_activation_is_pending_until_the_window_closes_then_missed() -> None:
    assert activation(JOINED, None, JOINED + timedelta(days=6), RULES) is Activation.PENDING
    assert activation(JOINED, None, JOINED + timedelta(days=7), RULES) is Activation.MISSED


def test_a_first_action_in_time_is_activated_and_after_the_window_late() -> None:
    now = JOINED + timedelta(days=20)
    assert activation(JOINED, JOINED + timedelta(days=2), now, RULES) is Activation.ACTIVATED
    assert activation(JOINED, JOINED + timedelta(days=9), now, RULES) is Activation.LATE
