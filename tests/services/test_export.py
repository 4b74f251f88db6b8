"""Exports on the real database: every row, the recomputed standings, CSV that Excel reads
and XLSX, forgotten members anonymised, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from openpyxl import load_workbook

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.events import EventDraft, RsvpStatus
from hearth.domain.lifecycle import LifecycleRules
from hearth.domain.members import ChatRole, CommunityProfile, Person
from hearth.domain.points import EntryKind, PointsRules
from hearth.domain.segments import ListKind, Selection
from hearth.domain.streaks import check_in
from hearth.services import export, points
from hearth.services.engagement_recompute import Recomputed, recompute
from hearth.services.export import ExportFormat, ExportKind
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP = -1001000000001
TODAY = date(2026, 3, 2)
CLUB = CommunityProfile(
    id=GROUP,
    title="Pudong Owners 浦东车主",
    timezone="Asia/Shanghai",
    locale="en",
    active=True,
    bot_is_admin=True,
    welcome_enabled=True,
)
ALICE = Person(1, "Alice", "Li", "alice")
BORIS = Person(2, "Борис")
CAROL = Person(3, '=HYPERLINK("http://evil.example","click")', username="carol")
DAVE = Person(4, "Dave", "Lee", "dave")
ERIN = Person(5, "Erin", "Secret", "erin_private")  # she will be forgotten
ANONYMISED = "Deleted member"


def noon(day: date) -> datetime:
    """Noon in Shanghai, in UTC."""
    return datetime.combine(day, time(4), tzinfo=UTC)


def days_ago(days: int) -> date:
    return TODAY - timedelta(days=days)


async def club(uow_factory: UnitOfWorkFactory) -> Recomputed:
    """Alice is active every day for 70 days, checks in the last 3 and earns 120 points;
    Boris joined 5 days ago; Carol went quiet 50 days ago; Dave left 10 days ago; Erin, active
    last week, erased her data. Then the nightly recompute runs for TODAY."""
    joined = noon(days_ago(70))
    active_days = {
        ALICE: range(0, 71),
        BORIS: range(0, 6),
        CAROL: range(50, 71),
        DAVE: range(60, 71),
        ERIN: range(7, 15),
    }
    async with uow_factory() as uow:
        await uow.communities.add(
            GROUP, CLUB.title, timezone=CLUB.timezone, locale="en", now=joined
        )
        for person, days in active_days.items():
            await uow.members.upsert(person, joined)
            first_day = noon(days_ago(max(days)))
            await uow.memberships.add(GROUP, person.id, role=ChatRole.MEMBER, now=first_day)
            await uow.activity.add_many(
                ActivityRecord(GROUP, person.id, ActivityKind.MESSAGE, noon(day), day)
                for day in map(days_ago, days)
            )
        await uow.memberships.leave(GROUP, DAVE.id, noon(days_ago(10)))
        await uow.members.update(
            ERIN.id, first_name=ANONYMISED, forgotten_at=noon(days_ago(1))
        )  # as /forget_me leaves her, minus what it would erase too: export must not need it
        streak = None
        for day in map(days_ago, (2, 1, 0)):
            outcome = check_in(streak, day)
            await uow.checkins.add(GROUP, ALICE.id, outcome, noon(day))
            streak = outcome.state
        await points.credit(
            uow,
            community_id=GROUP,
            member_id=ALICE.id,
            amount=120,
            kind=EntryKind.GRANT,
            reason="=great photos",
            key="test:grant",
            now=noon(days_ago(1)),
            timezone=CLUB.timezone,
            rules=PointsRules(),
            actor_id=7,
        )
        result = await recompute(uow, CLUB, TODAY, LifecycleRules())
        await uow.commit()
    return result


async def exported(
    uow_factory: UnitOfWorkFactory,
    what: ExportKind,
    file_format: ExportFormat = ExportFormat.CSV,
    selection: Selection | None = None,
) -> tuple[bytes, int]:
    sink = io.BytesIO()
    async with uow_factory() as uow:
        rows = await export.write(
            uow, CLUB, what, file_format, sink, today=TODAY, selection=selection
        )
    return sink.getvalue(), rows


def csv_rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


async def test_members_export_holds_every_membership_with_its_standing_and_figures(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)

    content, count = await exported(uow_factory, ExportKind.MEMBERS)

    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = {row["member_id"]: row for row in csv_rows(content)}
    assert count == len(rows) == 5
    alice = rows[str(ALICE.id)]
    assert alice["name"] == "Alice Li"
    assert alice["username"] == "alice"
    assert alice["joined_at_utc"] == "2025-12-22 04:00:00"
    assert alice["left_at_utc"] == ""
    assert (alice["stage"], alice["stage_since"]) == ("mature", "2026-03-02")
    assert (alice["segment"], alice["recency"], alice["frequency"], alice["value"]) == (
        "loyal", "4", "5", "5",
    )  # fmt: skip
    assert alice["high_value"] == "yes"
    assert (alice["balance"], alice["current_streak"]) == ("120", "3")
    assert alice["last_active_day"] == "2026-03-02"
    assert alice["tier"] == "member"
    assert rows[str(BORIS.id)]["name"] == "Борис"
    assert rows[str(BORIS.id)]["stage"] == "new"
    assert rows[str(CAROL.id)]["stage"] == "dormant"
    assert rows[str(CAROL.id)]["last_active_day"] == "2026-01-11"
    dave = rows[str(DAVE.id)]
    assert (dave["stage"], dave["segment"], dave["left_at_utc"]) == (
        "churned", "", "2026-02-20 04:00:00",
    )  # fmt: skip


async def test_a_forgotten_member_appears_only_by_the_anonymised_name(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)

    content, _ = await exported(uow_factory, ExportKind.MEMBERS)

    erin = next(row for row in csv_rows(content) if row["member_id"] == str(ERIN.id))
    assert (erin["name"], erin["username"]) == (ANONYMISED, "")
    assert b"Secret" not in content
    assert b"erin_private" not in content


async def test_a_name_that_looks_like_a_formula_stays_text_in_csv_and_xlsx(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)

    content, _ = await exported(uow_factory, ExportKind.MEMBERS)
    book, _ = await exported(uow_factory, ExportKind.MEMBERS, ExportFormat.XLSX)

    carol = next(row for row in csv_rows(content) if row["member_id"] == str(CAROL.id))
    assert carol["name"] == "'" + CAROL.first_name
    sheet = load_workbook(io.BytesIO(book)).active
    assert sheet is not None
    [cell] = [row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == CAROL.id]
    assert (cell.value, cell.data_type) == (CAROL.first_name, "s")


async def test_xlsx_holds_the_same_members_with_dates_and_numbers_as_such(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)

    book, count = await exported(uow_factory, ExportKind.MEMBERS, ExportFormat.XLSX)

    sheet = load_workbook(io.BytesIO(book)).active
    assert sheet is not None
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert header == list(export.COLUMNS[ExportKind.MEMBERS])
    assert count == len(rows) == 5
    alice = dict(zip(header, next(row for row in rows if row[0] == ALICE.id), strict=True))
    assert alice["name"] == "Alice Li"
    assert alice["joined_at_utc"] == datetime(2025, 12, 22, 4, 0)
    assert alice["balance"] == 120
    assert alice["last_active_day"] == datetime(2026, 3, 2)  # Excel has dates as date-times


async def test_a_members_export_of_one_segment_holds_only_its_members(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)

    dormant, count = await exported(
        uow_factory, ExportKind.MEMBERS, selection=Selection.of(ListKind.STAGE, "dormant")
    )

    assert count == 1
    assert [row["member_id"] for row in csv_rows(dormant)] == [str(CAROL.id)]


async def test_activity_export_lists_every_row_without_any_text(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)

    content, count = await exported(uow_factory, ExportKind.ACTIVITY)

    rows = csv_rows(content)
    assert count == len(rows) == 71 + 6 + 21 + 11 + 8
    assert list(rows[0]) == ["member_id", "kind", "occurred_at_utc", "local_day"]
    assert rows[0] == {
        "member_id": str(ALICE.id),
        "kind": "message",
        "occurred_at_utc": "2025-12-22 04:00:00",
        "local_day": "2025-12-22",
    }


async def test_an_export_longer_than_a_batch_holds_every_row_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)
    many = [
        ActivityRecord(GROUP, BORIS.id, ActivityKind.REACTION, noon(TODAY), TODAY, update_id=n)
        for n in range(export.BATCH * 2 + 7)
    ]
    async with uow_factory() as uow:
        await uow.activity.add_many(many)
        await uow.commit()

    content, count = await exported(uow_factory, ExportKind.ACTIVITY)

    assert count == len(csv_rows(content)) == 117 + len(many)


async def test_a_csv_past_its_size_limit_stops_after_the_batch_that_passed_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)
    async with uow_factory() as uow:
        await uow.activity.add_many(
            ActivityRecord(GROUP, BORIS.id, ActivityKind.REACTION, noon(TODAY), TODAY, update_id=n)
            for n in range(export.BATCH * 5)
        )
        await uow.commit()
    sink = io.BytesIO()

    async with uow_factory() as uow:
        with pytest.raises(export.ExportTooLarge):
            await export.write(
                uow, CLUB, ExportKind.ACTIVITY, ExportFormat.CSV, sink, today=TODAY, max_bytes=100
            )

    # one batch written, not the five: a big club's file never piles up in memory
    assert len(sink.getvalue()) < 2 * len((await exported(uow_factory, ExportKind.ACTIVITY))[0]) / 5


async def test_points_export_is_the_ledger(uow_factory: UnitOfWorkFactory) -> None:
    await club(uow_factory)

    content, count = await exported(uow_factory, ExportKind.POINTS)

    [entry] = csv_rows(content)
    assert count == 1
    assert entry["member_id"] == str(ALICE.id)
    assert (entry["kind"], entry["amount"], entry["remaining"]) == ("grant", "120", "120")
    assert entry["reason"] == "'=great photos"
    assert entry["actor_id"] == "7"


async def test_events_export_counts_registrations_attendance_and_ratings(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await club(uow_factory)
    starts = noon(days_ago(3))
    draft = EventDraft(
        title="Track day 赛道日",
        description="Laps",
        place="Tianma",
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        capacity=10,
        registration_deadline=starts,
        points=50,
    )
    async with uow_factory() as uow:
        event = await uow.events.add(GROUP, draft, code="TRACK1", actor_id=7, now=starts)
        assert event is not None
        for member, status in ((ALICE, RsvpStatus.GOING), (BORIS, RsvpStatus.GOING)):
            await uow.events.set_rsvp(event.id, member.id, status, starts)
        await uow.events.set_rsvp(event.id, CAROL.id, RsvpStatus.MAYBE, starts)
        await uow.events.attend(event.id, ALICE.id, starts)
        await uow.events.save_feedback(event.id, ALICE.id, starts, rating=4, recommend=9)
        await uow.commit()

    content, count = await exported(uow_factory, ExportKind.EVENTS)

    [row] = csv_rows(content)
    assert count == 1
    assert row["title"] == "Track day 赛道日"
    assert (row["going"], row["maybe"], row["waitlisted"], row["attended"]) == ("2", "1", "0", "1")
    assert (row["ratings"], row["average_rating"], row["nps"]) == ("1", "4.0", "100")


def test_file_names_carry_the_community_what_and_the_day() -> None:
    assert (
        export.file_name(CLUB, ExportKind.POINTS, ExportFormat.XLSX, TODAY)
        == "pudong-owners-浦东车主-points-2026-03-02.xlsx"
    )
    at_risk = Selection.of(ListKind.SEGMENT, "at_risk")
    assert (
        export.file_name(CLUB, ExportKind.MEMBERS, ExportFormat.CSV, TODAY, at_risk)
        == "pudong-owners-浦东车主-segment-at_risk-2026-03-02.csv"
    )
