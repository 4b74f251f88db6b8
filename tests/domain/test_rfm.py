"""RFM scores and segments, the high-value flag, and tags."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.domain.rfm import (
    DAY_PARTS,
    SEGMENT_RANK,
    DayPart,
    RfmFacts,
    RfmScore,
    Segment,
    WeekPart,
    day_part_of,
    high_value_members,
    preferred_day_part,
    preferred_week_part,
    quintile_scores,
    recency_days,
    score_community,
    segment_entered_on,
    segment_for,
    tag_slug,
    tags_for,
)

TODAY = date(2026, 6, 1)


def facts(member_id: int, idle: int | None, frequency: int, value: int) -> RfmFacts:
    last = None if idle is None else TODAY - timedelta(days=idle)
    return RfmFacts(member_id, last, frequency, value)


def scores_of(*members: RfmFacts) -> dict[int, RfmScore]:
    return {score.member_id: score for score in score_community(members, TODAY)}


def rfm(score: RfmScore) -> tuple[int, int, int]:
    return score.recency, score.frequency, score.value


# --- quintiles ---------------------------------------------------------------------------


def test_five_different_members_score_one_to_five() -> None:
    assert quintile_scores([30, 10, 50, 20, 40]) == [3, 1, 5, 2, 4]


def test_ten_different_members_score_two_per_quintile() -> None:
    assert quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_tied_members_share_a_score() -> None:
    scores = quintile_scores([1, 2, 2, 2, 2, 2, 3, 4, 5, 6])
    assert len(set(scores[1:6])) == 1
    assert scores == [1, 2, 2, 2, 2, 2, 4, 4, 5, 5]


def test_a_community_where_everyone_did_the_same_scores_the_middle() -> None:
    assert quintile_scores([4] * 7) == [3] * 7


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ([9], [3]),
        ([1, 9], [2, 4]),
        ([1, 5, 9], [1, 3, 5]),
        ([1, 3, 5, 9], [1, 2, 4, 5]),
        ([1, 1, 9, 9], [2, 2, 4, 4]),
    ],
)
def test_communities_of_one_to_four_members_spread_as_evenly_as_they_can(
    keys: list[int], expected: list[int]
) -> None:
    assert quintile_scores(keys) == expected


def test_no_members_no_scores() -> None:
    assert quintile_scores([]) == []
    assert score_community([], TODAY) == []


@given(st.lists(st.integers(min_value=-1000, max_value=1000), min_size=1, max_size=60))
def test_scores_are_always_one_to_five_and_never_fall_as_the_key_rises(keys: list[int]) -> None:
    scores = quintile_scores(keys)
    assert all(1 <= score <= 5 for score in scores)
    for (key_a, score_a), (key_b, score_b) in itertools.product(
        zip(keys, scores, strict=True), repeat=2
    ):
        if key_a > key_b:
            assert score_a >= score_b
        if key_a == key_b:
            assert score_a == score_b


# --- scoring a community -----------------------------------------------------------------


def test_recency_scores_high_when_the_last_activity_was_recent() -> None:
    scores = scores_of(*(facts(n, idle=n * 10, frequency=5, value=5) for n in range(5)))
    assert [scores[n].recency for n in range(5)] == [5, 4, 3, 2, 1]
    assert [scores[n].recency_days for n in range(5)] == [0, 10, 20, 30, 40]


def test_recency_counts_only_activity_within_the_90_day_window() -> None:
    assert recency_days(TODAY - timedelta(days=89), TODAY) == 89
    assert recency_days(TODAY - timedelta(days=90), TODAY) is None
    assert recency_days(None, TODAY) is None
    assert recency_days(TODAY, TODAY) == 0


def test_a_member_with_no_activity_scores_ones_and_is_lost() -> None:
    scores = scores_of(
        facts(1, idle=None, frequency=0, value=0),
        facts(2, idle=120, frequency=0, value=0),
        facts(3, idle=2, frequency=10, value=30),
    )
    for member_id in (1, 2):
        assert rfm(scores[member_id]) == (1, 1, 1)
        assert scores[member_id].segment is Segment.LOST
        assert scores[member_id].recency_days is None
        assert not scores[member_id].high_value


def test_members_with_no_activity_are_not_lifted_to_the_middle_by_ties() -> None:
    # eight tied at nothing would share a middle score without the floor
    idle = [facts(n, idle=None, frequency=0, value=0) for n in range(8)]
    scores = scores_of(*idle, facts(8, idle=1, frequency=20, value=50), facts(9, 0, 40, 90))
    assert {rfm(scores[n]) for n in range(8)} == {(1, 1, 1)}
    assert rfm(scores[8]) == (5, 5, 5)
    assert scores[9].segment is Segment.CHAMPIONS


def test_a_sole_active_member_is_middling_on_every_count() -> None:
    scores = scores_of(facts(1, idle=0, frequency=60, value=500))
    assert rfm(scores[1]) == (3, 3, 3)
    assert scores[1].segment is Segment.NEEDS_ATTENTION
    assert scores[1].high_value


def test_a_sole_member_who_did_nothing_is_lost() -> None:
    scores = scores_of(facts(1, idle=None, frequency=0, value=0))
    assert scores[1].segment is Segment.LOST
    assert not scores[1].high_value


def test_two_members_split_into_the_better_and_the_worse() -> None:
    scores = scores_of(facts(1, 1, 30, 100), facts(2, 40, 3, 5))
    assert rfm(scores[1]) == (4, 4, 4)
    assert rfm(scores[2]) == (2, 2, 2)
    assert scores[1].segment is Segment.LOYAL
    assert scores[2].segment is Segment.HIBERNATING


def test_a_zero_value_scores_one_while_others_rank_by_value() -> None:
    scores = scores_of(
        facts(1, 0, 10, 0), facts(2, 0, 10, 10), facts(3, 0, 10, 20), facts(4, 0, 10, 30)
    )
    assert [scores[n].value for n in (1, 2, 3, 4)] == [1, 2, 4, 5]


def test_when_every_value_is_zero_all_score_one_and_nobody_is_high_value() -> None:
    scores = scores_of(*(facts(n, idle=n, frequency=10 - n, value=0) for n in range(6)))
    assert {score.value for score in scores.values()} == {1}
    assert not any(score.high_value for score in scores.values())


def test_scores_come_back_in_the_order_given() -> None:
    members = [facts(7, 0, 1, 1), facts(3, 5, 2, 2), facts(5, 9, 3, 3)]
    assert [score.member_id for score in score_community(members, TODAY)] == [7, 3, 5]


def test_a_date_with_no_active_days_counts_as_no_activity() -> None:
    scores = scores_of(facts(1, idle=3, frequency=0, value=0), facts(2, 3, 4, 4))
    assert rfm(scores[1]) == (1, 1, 1)


# --- segments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recency", "frequency", "value", "segment"),
    [
        (5, 5, 5, Segment.CHAMPIONS),
        (5, 4, 3, Segment.CHAMPIONS),  # FM 3.5 rounds up to 4
        (5, 3, 3, Segment.PROMISING),
        (5, 1, 2, Segment.PROMISING),
        (5, 1, 1, Segment.NEW),
        (4, 5, 5, Segment.LOYAL),
        (4, 3, 2, Segment.PROMISING),
        (4, 1, 1, Segment.PROMISING),
        (3, 4, 4, Segment.LOYAL),
        (3, 3, 3, Segment.NEEDS_ATTENTION),
        (3, 1, 1, Segment.NEEDS_ATTENTION),
        (2, 5, 5, Segment.CANT_LOSE),
        (1, 5, 4, Segment.CANT_LOSE),
        (2, 4, 3, Segment.AT_RISK),
        (1, 3, 2, Segment.AT_RISK),
        (2, 2, 2, Segment.HIBERNATING),
        (2, 1, 1, Segment.HIBERNATING),
        (1, 2, 1, Segment.HIBERNATING),
        (1, 1, 1, Segment.LOST),
    ],
)
def test_the_segment_grid(recency: int, frequency: int, value: int, segment: Segment) -> None:
    assert segment_for(recency, frequency, value) is segment


def test_every_segment_can_be_reached() -> None:
    grid = itertools.product(range(1, 6), repeat=3)
    assert {segment_for(*scores) for scores in grid} == set(Segment)


def test_better_scores_never_mean_a_lower_ranked_segment() -> None:
    grid = list(itertools.product(range(1, 6), repeat=3))
    for better, worse in itertools.product(grid, repeat=2):
        if all(b >= w for b, w in zip(better, worse, strict=True)):
            assert SEGMENT_RANK[segment_for(*better)] >= SEGMENT_RANK[segment_for(*worse)]


active_or_not = st.one_of(
    st.just((None, 0)),
    st.tuples(st.integers(min_value=0, max_value=89), st.integers(min_value=1, max_value=90)),
)


@given(
    st.lists(
        st.tuples(active_or_not, st.integers(min_value=0, max_value=500)), min_size=1, max_size=25
    )
)
def test_a_member_at_least_as_good_on_every_count_is_never_in_a_lower_segment(
    community: list[tuple[tuple[int | None, int], int]],
) -> None:
    members = [
        facts(n, idle, frequency, value) for n, ((idle, frequency), value) in enumerate(community)
    ]
    scores = score_community(members, TODAY)
    assert all(1 <= part <= 5 for score in scores for part in rfm(score))
    for (a, score_a), (b, score_b) in itertools.product(
        zip(members, scores, strict=True), repeat=2
    ):
        if _at_least_as_good(a, b):
            assert SEGMENT_RANK[score_a.segment] >= SEGMENT_RANK[score_b.segment]
            assert score_a.high_value or not score_b.high_value


def _at_least_as_good(a: RfmFacts, b: RfmFacts) -> bool:
    if b.last_active_on is not None and (a.last_active_on or date.min) < b.last_active_on:
        return False
    return a.frequency >= b.frequency and a.value >= b.value


# --- high value --------------------------------------------------------------------------


def test_high_value_is_the_top_fifth_by_value() -> None:
    assert high_value_members({n: n * 10 for n in range(1, 11)}) == {9, 10}


def test_members_tied_at_the_cut_are_all_high_value() -> None:
    values = {1: 50, 2: 40, 3: 40, 4: 40, 5: 10, 6: 5, 7: 5, 8: 1, 9: 0, 10: 0}
    assert high_value_members(values) == {1, 2, 3, 4}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({1: 7}, {1}),
        ({1: 7, 2: 3}, {1}),
        ({1: 7, 2: 7, 3: 1}, {1, 2}),
        ({1: 0, 2: 0, 3: 0, 4: 2}, {4}),
    ],
)
def test_in_a_community_under_five_the_best_member_is_high_value(
    values: dict[int, int], expected: set[int]
) -> None:
    assert high_value_members(values) == expected


def test_nobody_is_high_value_when_every_value_is_zero() -> None:
    assert high_value_members(dict.fromkeys(range(10), 0)) == set()
    assert high_value_members({}) == set()


def test_a_zero_value_is_never_high_value_even_inside_the_top_fifth() -> None:
    assert high_value_members({1: 5, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 0}) == {1}


@given(st.dictionaries(st.integers(), st.integers(min_value=0, max_value=100), max_size=40))
def test_high_value_members_outvalue_everyone_else(values: dict[int, int]) -> None:
    chosen = high_value_members(values)
    rest = [value for member, value in values.items() if member not in chosen]
    assert all(values[member] > 0 for member in chosen)
    assert all(values[member] > value for member in chosen for value in rest)
    if any(values.values()):
        assert chosen


# --- tags --------------------------------------------------------------------------------


def hours(**counts: int) -> list[int]:
    """The 4 day-part counts of activities at local hours h0=…, h23=… (keywords)."""
    parts = [0] * len(DAY_PARTS)
    for hour in range(24):
        parts[DAY_PARTS.index(day_part_of(hour))] += counts.get(f"h{hour}", 0)
    return parts


def test_an_evening_regular_prefers_the_evening() -> None:
    assert preferred_day_part(hours(h19=8, h21=4, h9=3)) is DayPart.EVENING


@pytest.mark.parametrize(
    ("hour", "part"),
    [
        (0, DayPart.NIGHT),
        (5, DayPart.NIGHT),
        (6, DayPart.MORNING),
        (11, DayPart.MORNING),
        (12, DayPart.AFTERNOON),
        (17, DayPart.AFTERNOON),
        (18, DayPart.EVENING),
        (23, DayPart.EVENING),
    ],
)
def test_day_parts_are_six_hours_each(hour: int, part: DayPart) -> None:
    assert day_part_of(hour) is part
    assert preferred_day_part(hours(**{f"h{hour}": 10})) is part


def test_no_day_part_without_a_majority() -> None:
    assert preferred_day_part(hours(h8=5, h20=5)) is None
    assert preferred_day_part(hours(h8=5, h14=3, h20=3)) is None  # 5 of 11 is not most
    assert preferred_day_part(hours(h8=6, h14=3, h20=2)) is DayPart.MORNING


def test_too_little_activity_says_nothing_about_habits() -> None:
    assert preferred_day_part(hours(h20=9)) is None
    assert preferred_week_part(0, 9) is None
    assert preferred_day_part([0, 0, 0, 0]) is None


def test_day_part_counts_must_be_complete_and_week_counts_not_negative() -> None:
    with pytest.raises(ValueError, match="4 day-part counts"):
        preferred_day_part([1] * 24)
    with pytest.raises(ValueError, match="negative"):
        preferred_week_part(-1, 20)


def test_week_preference_compares_activity_per_day() -> None:
    # 4 a day at weekends against 2 a day in the week: twice as much, so weekend
    assert preferred_week_part(5 * 2, 2 * 4) is WeekPart.WEEKEND
    # busier weekend days, but not twice as busy: no preference
    assert preferred_week_part(5 * 3, 2 * 5) is None
    assert preferred_week_part(5 * 4, 2 * 1) is WeekPart.WEEKDAY
    assert preferred_week_part(5 * 3, 2 * 2) is None


def test_a_member_keeps_the_day_they_entered_their_segment_while_it_stays_the_same() -> None:
    entered = TODAY - timedelta(days=20)
    loyal = Segment.LOYAL
    assert segment_entered_on(loyal, TODAY, stored=loyal, stored_since=entered) == entered
    assert segment_entered_on(loyal, TODAY, stored=Segment.CHAMPIONS, stored_since=entered) == (
        TODAY
    )
    assert segment_entered_on(loyal, TODAY) == TODAY  # first recompute
    assert segment_entered_on(loyal, TODAY, stored=loyal) == TODAY  # stored before the column
    assert segment_entered_on(None, TODAY, stored=loyal, stored_since=entered) is None  # left


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("VIP", "vip"),
        ("VIP Owner", "vip-owner"),
        ("track_day", "track-day"),
        ("  Engine -- Oil!  ", "engine-oil"),
        ("车主", "车主"),
        ("!!!", None),
        ("", None),
        ("a" * 40, "a" * 32),
    ],
)
def test_tag_names_are_short_lowercase_slugs(text: str, slug: str | None) -> None:
    assert tag_slug(text) == slug


def test_tags_merge_automatic_tags_with_the_operators() -> None:
    tags = tags_for(
        interests=["Maintenance", "Track Day", "maintenance"],
        tier="Gold",
        day_part=DayPart.EVENING,
        week_part=WeekPart.WEEKEND,
        operator_tags=["vip", "Track day", "beta tester"],
    )
    assert tags == (
        "gold",
        "maintenance",
        "track-day",
        "evening",
        "weekend",
        "beta-tester",
        "vip",
    )


def test_a_member_with_no_habits_or_interests_has_only_the_operators_tags() -> None:
    assert tags_for(operator_tags=["VIP", "", "!!"]) == ("vip",)
    assert tags_for() == ()
