"""Attribution on a small hand-made club (``tests/attribution_world.py``), every expected
figure written out: shares, the stage-standardised comparison share, the uplift in
percentage points, counts, amounts and whether each window is over."""

from __future__ import annotations

from datetime import date

import pytest

from hearth.domain.attribution import (
    Attribution,
    ComparisonKind,
    GroupFigures,
    History,
    MemberConversion,
    MembershipSpan,
    OccasionKind,
    ReportRequest,
    Take,
    WindowFigures,
    attribute_plan,
    best_event,
    campaign_plan,
    event_plan,
    lower_median,
    pooled_plan,
    report_request,
    season_plan,
)
from hearth.domain.conversions import ConversionKind
from hearth.domain.lifecycle import Stage
from tests.attribution_world import (
    ANN,
    BEN,
    CAI,
    CONVERSIONS,
    DAN,
    EVA,
    FAY,
    GUS,
    HAL,
    IVY,
    JO,
    STAGES,
    TODAY,
)

# The members' time in the club in local days (Jo joined on 2026-01-11 in Shanghai).
SPANS = [
    *(MembershipSpan(member, date(2025, 10, 1), None) for member in (ANN, BEN, CAI, DAN, EVA)),
    MembershipSpan(FAY, date(2025, 10, 1), None),
    MembershipSpan(GUS, date(2025, 10, 1), date(2026, 4, 25)),
    MembershipSpan(HAL, date(2026, 2, 1), None),
    MembershipSpan(IVY, date(2025, 10, 1), date(2026, 1, 4)),
    MembershipSpan(JO, date(2026, 1, 11), None),
]
HISTORY = History(
    [(member, day, Stage(new)) for member, _old, new, day in STAGES],
    [
        (member, MemberConversion(day, ConversionKind(kind), amount))
        for member, kind, day, amount in CONVERSIONS
    ],
)
WORKSHOP = event_plan(
    1, "Maintenance workshop", date(2026, 1, 10), {ANN, BEN, CAI}, SPANS, from_rsvps=False
)
DRIVE = event_plan(2, "Spring drive", date(2026, 4, 25), {ANN, DAN}, SPANS, from_rsvps=True)
MARCH = campaign_plan(
    date(2026, 3, 1),
    {GUS: date(2026, 3, 1), EVA: date(2026, 3, 3)},
    {FAY: date(2026, 3, 5), JO: date(2026, 3, 20)},
    SPANS,
)
FIRST_SEASON = season_plan(
    date(2026, 1, 1),
    {EVA: date(2026, 1, 1), ANN: date(2026, 1, 5), BEN: date(2026, 2, 1)},
    SPANS,
)


def figures(plan_attribution: Attribution, days: int) -> WindowFigures:
    window = plan_attribution.window(days)
    assert window is not None
    return window


def test_the_history_knows_each_members_stage_on_a_day_and_new_before_any() -> None:
    assert HISTORY.stage_on(GUS, date(2026, 1, 9)) is Stage.MATURE
    assert HISTORY.stage_on(GUS, date(2026, 1, 10)) is Stage.DECLINING  # changed that day
    assert HISTORY.stage_on(CAI, date(2026, 1, 31)) is Stage.NEW  # no stage yet
    assert HISTORY.stage_on(HAL, date(2026, 4, 2)) is Stage.NEW
    assert HISTORY.stage_on(DAN, date(2026, 4, 25)) is Stage.DORMANT


def test_a_window_starts_the_day_after_the_anchor_and_includes_its_last_day() -> None:
    assert HISTORY.conversions_in(BEN, date(2026, 1, 10), date(2026, 2, 9)) == []
    assert HISTORY.conversions_in(DAN, date(2026, 1, 10), date(2026, 2, 9)) == [
        MemberConversion(date(2026, 2, 9), ConversionKind.SERVICE, 60_000)
    ]


def test_an_events_comparison_is_the_members_that_day_who_did_not_take_part() -> None:
    # Ivy left before the day, Hal and Jo joined after it (Jo: in Shanghai's calendar).
    assert WORKSHOP.comparisons == {
        ComparisonKind.OTHERS: [Take(member, date(2026, 1, 10)) for member in (DAN, EVA, FAY, GUS)]
    }
    # Gus left on the drive's very day: still a member that day.
    assert [take.member_id for take in DRIVE.comparisons[ComparisonKind.OTHERS]] == [
        BEN, CAI, EVA, FAY, GUS, HAL, JO,
    ]  # fmt: skip


def test_the_workshop_over_30_days_every_kind() -> None:
    window = figures(attribute_plan(WORKSHOP, HISTORY, today=TODAY), 30)

    # Ann (service 01-20) and Cai (purchase 02-01) of 3; Ben's visit was on the day itself.
    assert window.participants == GroupFigures(3, 2, 2, 15_080_000)
    assert window.participants.share == pytest.approx(2 / 3)
    [others] = window.comparisons
    assert others.kind is ComparisonKind.OTHERS
    assert others.group == GroupFigures(4, 1, 1, 60_000)  # Dan, on the 30th day
    assert others.group.share == pytest.approx(0.25)
    # Participants: 2 mature, 1 new. Comparison: mature 1 of 2 (Dan, Eva), new 0 of 1 (Fay);
    # declining Gus has no participant to stand for. 2/3 × 1/2 + 1/3 × 0 = 1/3.
    assert others.standardised_share == pytest.approx(1 / 3)
    assert others.covered == 3
    assert others.uplift_points == pytest.approx(33.333333)
    assert window.ends_on == date(2026, 2, 9)
    assert window.complete


def test_the_workshop_over_90_days_every_kind() -> None:
    window = figures(attribute_plan(WORKSHOP, HISTORY, today=TODAY), 90)

    assert window.participants == GroupFigures(3, 3, 3, 15_130_000)
    assert window.participants.share == pytest.approx(1.0)
    [others] = window.comparisons
    # Dan 02-09, Eva 03-20, Fay 04-10 (the 90th day), Gus 02-10.
    assert others.group == GroupFigures(4, 4, 4, 185_000)
    assert others.standardised_share == pytest.approx(1.0)
    assert others.uplift_points == pytest.approx(0.0)
    assert window.ends_on == date(2026, 4, 10)
    assert window.complete


def test_the_workshop_counting_service_visits_only() -> None:
    attribution = attribute_plan(WORKSHOP, HISTORY, today=TODAY, kinds={ConversionKind.SERVICE})
    window = figures(attribution, 30)

    assert attribution.kinds == frozenset({ConversionKind.SERVICE})
    assert window.participants == GroupFigures(3, 1, 1, 80_000)  # Cai's purchase is not one
    [others] = window.comparisons
    assert others.group == GroupFigures(4, 1, 1, 60_000)
    assert others.standardised_share == pytest.approx(1 / 3)
    assert others.uplift_points == pytest.approx(0.0)


def test_a_drive_without_check_ins_counts_the_going_and_its_windows_are_still_open() -> None:
    attribution = attribute_plan(DRIVE, HISTORY, today=TODAY)
    thirty, ninety = figures(attribution, 30), figures(attribution, 90)

    assert attribution.occasion.from_rsvps
    assert thirty.participants == GroupFigures(2, 1, 1, 70_000)  # Ann 05-02
    [others] = thirty.comparisons
    assert others.group == GroupFigures(7, 2, 2, 2_045_000)  # Ben 05-10, Gus 05-15
    assert others.group.share == pytest.approx(2 / 7)
    # Dan is dormant and nobody compared is: only Ann's mature stage is covered, where
    # Ben converted (1 of 1).
    assert others.covered == 1
    assert others.standardised_share == pytest.approx(1.0)
    assert others.uplift_points == pytest.approx(-50.0)
    assert (thirty.ends_on, thirty.complete) == (date(2026, 5, 25), False)
    assert (ninety.ends_on, ninety.complete) == (date(2026, 7, 24), False)
    assert ninety.participants == GroupFigures(2, 1, 1, 70_000)  # so far


def test_a_nudge_campaign_against_its_holdout_and_the_other_members() -> None:
    attribution = attribute_plan(MARCH, HISTORY, today=TODAY)
    thirty, ninety = figures(attribution, 30), figures(attribution, 90)

    assert attribution.occasion.kind is OccasionKind.NUDGES
    assert attribution.occasion.reference == "2026-03"
    assert thirty.participants == GroupFigures(2, 1, 1, 55_000)  # Eva 03-20
    holdout = thirty.comparison(ComparisonKind.HOLDOUT)
    assert holdout is not None
    assert holdout.group == GroupFigures(2, 0, 0, 0)  # Fay's visit is on her 36th day
    assert holdout.standardised_share == pytest.approx(0.0)  # declining: Fay, 0 of 1
    assert holdout.covered == 2
    assert holdout.uplift_points == pytest.approx(50.0)
    others = thirty.comparison(ComparisonKind.OTHERS)
    assert others is not None
    # Members on 03-01 (the participants' median day) neither nudged nor held out:
    # Ann, Ben, Cai, Dan, Hal (Hal's holdout was never confirmed). Ben converted 03-15.
    assert others.group == GroupFigures(5, 1, 1, 50_000)
    assert others.standardised_share == pytest.approx(0.0)  # declining: Dan, 0 of 1
    assert others.uplift_points == pytest.approx(50.0)
    assert (thirty.ends_on, thirty.complete) == (date(2026, 4, 19), True)  # Jo: 03-20

    assert ninety.participants == GroupFigures(2, 2, 2, 2_055_000)  # Gus's trade-in 05-15
    holdout_90 = ninety.comparison(ComparisonKind.HOLDOUT)
    assert holdout_90 is not None
    assert holdout_90.group == GroupFigures(2, 1, 1, 40_000)
    assert holdout_90.standardised_share == pytest.approx(1.0)
    assert holdout_90.uplift_points == pytest.approx(0.0)
    others_90 = ninety.comparison(ComparisonKind.OTHERS)
    assert others_90 is not None
    assert others_90.group == GroupFigures(5, 2, 3, 165_000)  # Ann 05-02; Ben 03-15, 05-10
    assert (ninety.ends_on, ninety.complete) == (date(2026, 6, 18), False)


def test_a_member_nudged_and_held_out_in_one_month_counts_as_nudged() -> None:
    plan = campaign_plan(date(2026, 3, 1), {EVA: date(2026, 3, 3)}, {EVA: date(2026, 3, 2)}, SPANS)
    assert plan.comparisons[ComparisonKind.HOLDOUT] == []


def test_a_quiz_season_against_the_members_then_who_did_not_answer() -> None:
    attribution = attribute_plan(FIRST_SEASON, HISTORY, today=TODAY)
    thirty, ninety = figures(attribution, 30), figures(attribution, 90)

    assert attribution.occasion.reference == "2026-Q1"
    assert attribution.occasion.first == date(2026, 1, 1)
    assert attribution.occasion.last == date(2026, 3, 31)
    # The median first answer is 01-05: Cai, Dan, Fay, Gus were members then.
    [others] = thirty.comparisons
    assert thirty.participants == GroupFigures(3, 1, 1, 80_000)  # Ann 01-20
    assert others.group == GroupFigures(4, 1, 1, 15_000_000)  # Cai's purchase 02-01
    assert others.standardised_share == pytest.approx(0.0)  # mature: Dan, Gus, 0 of 2
    assert others.uplift_points == pytest.approx(33.333333)
    assert (thirty.ends_on, thirty.complete) == (date(2026, 3, 3), True)  # Ben: 02-01

    [others_90] = ninety.comparisons
    assert ninety.participants == GroupFigures(3, 3, 3, 185_000)  # Ann, Ben, Eva
    assert others_90.group == GroupFigures(4, 3, 3, 15_090_000)  # Cai, Dan, Gus
    assert others_90.group.share == pytest.approx(0.75)
    assert others_90.standardised_share == pytest.approx(1.0)
    assert others_90.uplift_points == pytest.approx(0.0)
    assert (ninety.ends_on, ninety.complete) == (date(2026, 5, 2), True)


def test_events_pooled_count_each_participation_from_its_own_day() -> None:
    pooled = pooled_plan([WORKSHOP, DRIVE], date(2026, 1, 1), date(2026, 4, 30))
    attribution = attribute_plan(pooled, HISTORY, today=TODAY, kinds={ConversionKind.SERVICE})
    window = figures(attribution, 30)

    assert attribution.occasion.kind is OccasionKind.EVENTS
    # Takes: Ann, Ben, Cai (01-10), Ann, Dan (04-25); service visits: Ann 01-20, Ann 05-02.
    assert window.participants == GroupFigures(5, 2, 2, 150_000)
    [others] = window.comparisons
    # Dan, Eva, Fay, Gus (01-10): Dan 02-09; Ben … Jo (04-25): Ben 05-10.
    assert others.group == GroupFigures(11, 2, 2, 105_000)
    # Participants: mature 3 (Ann, Ben, Ann), new 1 (Cai), dormant 1 (Dan, not covered).
    # Comparison: mature 2 of 3 (Dan ✓, Eva; Ben ✓), new 0 of 3 (Fay; Hal, Jo).
    # 3/4 × 2/3 + 1/4 × 0 = 1/2; uplift 2/5 − 1/2 = −10 points.
    assert others.covered == 4
    assert others.standardised_share == pytest.approx(0.5)
    assert others.uplift_points == pytest.approx(-10.0)
    assert not window.complete  # the drive's window is open


def test_nobody_to_compare_gives_no_standardised_share_and_no_uplift() -> None:
    february = campaign_plan(date(2026, 2, 1), {DAN: date(2026, 2, 10)}, {}, SPANS)
    window = figures(attribute_plan(february, HISTORY, today=TODAY), 30)

    holdout = window.comparison(ComparisonKind.HOLDOUT)
    assert holdout is not None
    assert holdout.group == GroupFigures(0, 0, 0, 0)
    assert holdout.group.share is None
    assert (holdout.standardised_share, holdout.covered, holdout.uplift_points) == (None, 0, None)


def test_the_best_event_has_the_highest_uplift_over_a_complete_30_day_window() -> None:
    workshop = attribute_plan(WORKSHOP, HISTORY, today=TODAY)
    drive = attribute_plan(DRIVE, HISTORY, today=TODAY)  # open: never the best

    assert best_event([drive, workshop]) == workshop
    assert best_event([drive]) is None


def test_the_median_day_is_the_earlier_middle_one() -> None:
    assert lower_median([date(2026, 1, 5), date(2026, 1, 1), date(2026, 2, 1)]) == date(2026, 1, 5)
    assert lower_median([date(2026, 3, 3), date(2026, 3, 1)]) == date(2026, 3, 1)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (None, ReportRequest(30, None)),
        ("90", ReportRequest(90, None)),
        ("7d service", ReportRequest(7, ConversionKind.SERVICE)),
        ("trade-in 365", ReportRequest(365, ConversionKind.TRADE_IN)),
        ("0", None),
        ("400", None),
        ("30 30", None),
        ("cars", None),
    ],
)
def test_stats_conversions_reads_days_and_a_kind(
    arguments: str | None, expected: ReportRequest | None
) -> None:
    assert report_request(arguments) == expected
