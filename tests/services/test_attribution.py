"""Attribution through the service, on the real database (SQLite, and PostgreSQL when
configured): the hand-made club of ``tests/attribution_world.py`` stored as rows, read
back with the community's local days, and the same figures as the domain tests."""

from __future__ import annotations

from datetime import date

import pytest

from hearth.domain.attribution import Attribution, ComparisonKind, GroupFigures, OccasionKind
from hearth.domain.conversions import ConversionKind
from hearth.domain.members import CommunityProfile
from hearth.services import attribution
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.attribution_world import JOINED, TIMEZONE, TODAY, furnish

GROUP = -1001000000001
CLUB = CommunityProfile(
    id=GROUP,
    title="Pudong Owners",
    timezone=TIMEZONE,
    locale="en",
    active=True,
    bot_is_admin=True,
    welcome_enabled=True,
)


async def stored_club(uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, CLUB.title, timezone=TIMEZONE, locale="en", now=JOINED)
        return await furnish(uow, GROUP)


def thirty(found: Attribution) -> tuple[GroupFigures, GroupFigures, float | None, bool]:
    """Participants, the first comparison, its uplift (to 4 decimals) and completeness
    over 30 days."""
    window = found.window(30)
    assert window is not None
    compared = window.comparisons[0]
    uplift = None if compared.uplift_points is None else round(compared.uplift_points, 4)
    return window.participants, compared.group, uplift, window.complete


async def test_the_report_holds_the_periods_totals_and_the_latest_occasions(
    uow_factory: UnitOfWorkFactory,
) -> None:
    workshop, drive = await stored_club(uow_factory)
    async with uow_factory() as uow:
        found = await attribution.report(uow, CLUB, days=30, today=TODAY)

    assert found.imported
    assert (found.first, found.last) == (date(2026, 4, 21), date(2026, 5, 20))
    assert found.totals == {
        ConversionKind.SERVICE: (2, 115_000),  # Ann 05-02, Ben 05-10
        ConversionKind.TRADE_IN: (1, 2_000_000),  # Gus 05-15
    }
    # Latest first; the workshop started on 2026-01-09 in UTC, 01-10 in Shanghai.
    assert [(each.occasion.reference, each.occasion.first) for each in found.events] == [
        (str(drive), date(2026, 4, 25)),
        (str(workshop), date(2026, 1, 10)),
    ]
    drive_figures, workshop_figures = found.events
    assert drive_figures.occasion.from_rsvps
    assert not workshop_figures.occasion.from_rsvps
    assert thirty(workshop_figures) == (
        GroupFigures(3, 2, 2, 15_080_000),
        GroupFigures(4, 1, 1, 60_000),
        33.3333,
        True,
    )
    assert thirty(drive_figures) == (
        GroupFigures(2, 1, 1, 70_000),
        GroupFigures(7, 2, 2, 2_045_000),
        -50.0,
        False,
    )
    # Gus's first nudge was sent on 2026-02-28 in UTC: March in Shanghai.
    assert [each.occasion.reference for each in found.campaigns] == [
        "2026-04", "2026-03", "2026-02",
    ]  # fmt: skip
    march = found.campaigns[1].window(30)
    assert march is not None
    assert march.participants == GroupFigures(2, 1, 1, 55_000)
    holdout = march.comparison(ComparisonKind.HOLDOUT)
    assert holdout is not None
    assert holdout.group == GroupFigures(2, 0, 0, 0)
    assert holdout.standardised_share == pytest.approx(0.0)
    assert holdout.uplift_points == pytest.approx(50.0)
    others = march.comparison(ComparisonKind.OTHERS)
    assert others is not None
    assert others.group == GroupFigures(5, 1, 1, 50_000)
    # Eva's first answer was on 2025-12-31 in UTC: the first season in Shanghai.
    assert [each.occasion.reference for each in found.seasons] == ["2026-Q2", "2026-Q1"]
    assert thirty(found.seasons[1]) == (
        GroupFigures(3, 1, 1, 80_000),
        GroupFigures(4, 1, 1, 15_000_000),
        33.3333,
        True,
    )
    assert thirty(found.seasons[0]) == (
        GroupFigures(1, 0, 0, 0),  # Hal 04-02
        GroupFigures(8, 2, 2, 110_000),  # Ann 05-02, Fay 04-10
        0.0,
        True,
    )


async def test_the_report_of_one_kind_counts_only_that_kind(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await stored_club(uow_factory)
    async with uow_factory() as uow:
        found = await attribution.report(
            uow, CLUB, days=30, today=TODAY, kind=ConversionKind.SERVICE
        )

    assert found.totals == {ConversionKind.SERVICE: (2, 115_000)}
    workshop = found.events[1]
    assert thirty(workshop) == (
        GroupFigures(3, 1, 1, 80_000),
        GroupFigures(4, 1, 1, 60_000),
        0.0,
        True,
    )


async def test_a_community_without_conversions_has_an_empty_report_and_no_digest_section(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, CLUB.title, timezone=TIMEZONE, locale="en", now=JOINED)
        await uow.commit()
    async with uow_factory() as uow:
        found = await attribution.report(uow, CLUB, days=30, today=TODAY)
        digest = await attribution.digest_figures(
            uow, CLUB, first=date(2026, 5, 11), last=date(2026, 5, 17), today=TODAY
        )

    assert not found.imported
    assert (found.totals, found.events, found.campaigns, found.seasons) == ({}, [], [], [])
    assert digest is None


async def test_the_digest_holds_last_weeks_totals_and_the_best_recent_event(
    uow_factory: UnitOfWorkFactory,
) -> None:
    workshop, _drive = await stored_club(uow_factory)
    async with uow_factory() as uow:
        digest = await attribution.digest_figures(
            uow, CLUB, first=date(2026, 5, 11), last=date(2026, 5, 17), today=date(2026, 5, 18)
        )

    assert digest is not None
    assert digest.totals == {ConversionKind.TRADE_IN: (1, 2_000_000)}
    assert digest.best_event is not None  # the drive's 30 days are not over
    assert digest.best_event.occasion.reference == str(workshop)


async def test_the_export_attributes_every_occasion_of_the_year(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await stored_club(uow_factory)
    async with uow_factory() as uow:
        found = await attribution.attributions(uow, CLUB, today=TODAY)

    assert [(each.occasion.kind, each.occasion.reference) for each in found] == [
        (OccasionKind.EVENT, "2"),
        (OccasionKind.EVENT, "1"),
        (OccasionKind.NUDGES, "2026-04"),
        (OccasionKind.NUDGES, "2026-03"),
        (OccasionKind.NUDGES, "2026-02"),
        (OccasionKind.QUIZ, "2026-Q2"),
        (OccasionKind.QUIZ, "2026-Q1"),
        (OccasionKind.QUIZ, "2025-Q4"),
        (OccasionKind.QUIZ, "2025-Q3"),
        (OccasionKind.QUIZ, "2025-Q2"),
    ]


async def test_the_uplift_of_event_attendance_on_service_visits_pools_every_event(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await stored_club(uow_factory)
    async with uow_factory() as uow:
        pooled = await attribution.event_attendance_uplift_on_service_visits(
            uow, CLUB, first=date(2026, 1, 1), last=date(2026, 4, 30), today=TODAY
        )
        workshop_only = await attribution.event_attendance_uplift_on_service_visits(
            uow, CLUB, first=date(2026, 1, 1), last=date(2026, 1, 31), today=TODAY
        )

    window = pooled.window(30)
    assert window is not None
    [others] = window.comparisons
    assert window.participants == GroupFigures(5, 2, 2, 150_000)
    assert others.group == GroupFigures(11, 2, 2, 105_000)
    assert others.standardised_share == pytest.approx(0.5)
    assert others.uplift_points == pytest.approx(-10.0)
    assert not window.complete
    assert thirty(workshop_only) == (
        GroupFigures(3, 1, 1, 80_000),
        GroupFigures(4, 1, 1, 60_000),
        0.0,
        True,
    )
