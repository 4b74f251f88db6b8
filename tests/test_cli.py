"""The command line describes what is really there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hearth.__main__ import app
from hearth.bot.notifier import message
from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.members import ChatRole, Person
from hearth.storage.engine import create_engine, unit_of_work_factory


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "simulate", "migrate", "outbox", "import-quiz", "export", "bench"):
        assert command in result.output


def test_bench_help_lists_the_ingest_benchmark() -> None:
    result = CliRunner().invoke(app, ["bench", "--help"])
    assert result.exit_code == 0
    assert "ingest" in result.output


def test_an_unknown_time_zone_is_one_clear_error() -> None:
    result = CliRunner().invoke(app, ["simulate", "--timezone", "Mars/Olympus"])
    assert result.exit_code == 2
    assert "unknown IANA time zone" in result.output


def test_outbox_counts_what_a_migrated_database_holds(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    assert CliRunner().invoke(app, ["migrate", "--database-url", url]).exit_code == 0

    async def queue_two() -> None:
        engine = create_engine(url)
        now = datetime(2026, 3, 2, tzinfo=UTC)
        async with unit_of_work_factory(engine)() as uow:
            await uow.outbox.add(message("one", 101, "hi", kind="announcement"), now)
            await uow.outbox.add(message("two", 102, "hi", kind="announcement"), now)
            await uow.outbox.add(message("two", 102, "hi", kind="announcement"), now)  # a repeat
            await uow.commit()
        await engine.dispose()

    asyncio.run(queue_two())
    result = CliRunner().invoke(app, ["outbox", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "Outbox (all communities): 2 messages" in result.output
    assert "queued              2" in result.output
    assert "oldest waiting since 2026-03-02 00:00 UTC" in result.output


EXAMPLES = Path(__file__).parent.parent / "examples"


def test_import_quiz_fills_the_bank_and_lists_every_rejected_row(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    assert CliRunner().invoke(app, ["migrate", "--database-url", url]).exit_code == 0

    async def add_group() -> None:
        engine = create_engine(url)
        async with unit_of_work_factory(engine)() as uow:
            await uow.communities.add(
                -100123, "Owners", timezone="UTC", locale="en", now=datetime.now(UTC)
            )
            await uow.commit()
        await engine.dispose()

    asyncio.run(add_group())
    sample = EXAMPLES / "quiz-bank.en.yaml"
    args = ["import-quiz", str(sample), "--community", "-100123", "--database-url", url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "41 questions added, 0 rows rejected." in result.output

    again = CliRunner().invoke(app, args)  # the same file twice: all duplicates
    assert "0 questions added, 41 rows rejected." in again.output
    assert "row 1: duplicate" in again.output

    bad = tmp_path / "bad.csv"
    bad.write_text("text,option1,option2,correct\nWhich?,a,b,3\n,a,b,1\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["import-quiz", str(bad), "--community", "-100123", "--database-url", url]
    )
    assert "0 questions added, 2 rows rejected." in result.output
    assert "row 1: correct answer unknown (3)" in result.output
    assert "row 2: no text" in result.output


def test_import_quiz_for_an_unknown_group_or_format_is_one_clear_error(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    CliRunner().invoke(app, ["migrate", "--database-url", url])
    sample = str(EXAMPLES / "quiz-bank.json")
    result = CliRunner().invoke(
        app, ["import-quiz", sample, "--community", "-1", "--database-url", url]
    )
    assert result.exit_code == 2
    assert "community -1 is not known here" in result.output
    result = CliRunner().invoke(app, ["import-quiz", "bank.xlsx", "--community", "-1"])
    assert result.exit_code == 2
    assert "must end in .yaml, .yml, .csv or .json" in result.output


def add_community_with_members(url: str) -> None:
    """A migrated database holding community -100123 with Alice (active) and Boris."""
    from hearth.domain.activity import ActivityKind, ActivityRecord
    from hearth.domain.members import ChatRole, Person

    async def add() -> None:
        engine = create_engine(url)
        now = datetime(2026, 3, 2, 9, tzinfo=UTC)
        async with unit_of_work_factory(engine)() as uow:
            await uow.communities.add(-100123, "Owners 车主", timezone="UTC", locale="en", now=now)
            for person in (Person(1, "Alice", username="alice"), Person(2, "Борис")):
                await uow.members.upsert(person, now)
                await uow.memberships.add(-100123, person.id, role=ChatRole.MEMBER, now=now)
            await uow.activity.add_many(
                [ActivityRecord(-100123, 1, ActivityKind.MESSAGE, now, now.date())]
            )
            await uow.commit()
        await engine.dispose()

    asyncio.run(add())


def test_export_writes_the_file_and_says_where_and_how_many_rows(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    assert CliRunner().invoke(app, ["migrate", "--database-url", url]).exit_code == 0
    add_community_with_members(url)
    out = tmp_path / "members.xlsx"

    arguments = ["--what", "members", "--format", "xlsx", "--out", str(out), "--database-url", url]
    result = CliRunner().invoke(app, ["export", "--community", "-100123", *arguments])

    assert result.exit_code == 0, result.output
    assert f"2 rows written to {out}" in result.output
    sheet = load_workbook(out).active
    assert sheet is not None
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert names == ["Alice", "Борис"]


def test_export_names_the_file_after_the_community_and_day_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    CliRunner().invoke(app, ["migrate", "--database-url", url])
    add_community_with_members(url)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(
        app, ["export", "--community", "-100123", "--what", "activity", "--database-url", url]
    )

    assert result.exit_code == 0, result.output
    [written] = tmp_path.glob("owners-车主-activity-*.csv")
    assert f"1 row written to {written.name}" in result.output
    lines = written.read_text(encoding="utf-8-sig").splitlines()
    assert lines == [
        "member_id,kind,occurred_at_utc,local_day",
        "1,message,2026-03-02 09:00:00,2026-03-02",
    ]


def test_export_of_an_unknown_community_or_kind_is_one_clear_error(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    CliRunner().invoke(app, ["migrate", "--database-url", url])

    unknown = CliRunner().invoke(
        app, ["export", "--community", "-1", "--what", "members", "--database-url", url]
    )
    wrong = CliRunner().invoke(
        app, ["export", "--community", "-1", "--what", "messages", "--database-url", url]
    )

    assert unknown.exit_code == 2
    assert "community -1 is not known here" in unknown.output
    assert list(tmp_path.glob("*.csv")) == []
    assert wrong.exit_code == 2
    assert "messages" in wrong.output


def test_recompute_now_prints_members_per_stage_and_segment(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    assert CliRunner().invoke(app, ["migrate", "--database-url", url]).exit_code == 0

    async def club_with_two_newcomers() -> None:
        engine = create_engine(url)
        now = datetime.now(UTC)
        async with unit_of_work_factory(engine)() as uow:
            await uow.communities.add(-100123, "Owners", timezone="UTC", locale="en", now=now)
            for member_id in (1, 2):
                await uow.members.upsert(Person(member_id, f"M{member_id}"), now)
                await uow.memberships.add(-100123, member_id, role=ChatRole.MEMBER, now=now)
            await uow.activity.add_many(
                [ActivityRecord(-100123, 1, ActivityKind.CHECKIN, now, now.date())]
            )
            await uow.commit()
        await engine.dispose()

    asyncio.run(club_with_two_newcomers())
    result = CliRunner().invoke(app, ["recompute", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Recomputed 1 community in ")
    assert "Community -100123, as of " in result.output
    assert ": 2 members, 2 stage changes" in result.output
    assert "  stages:   new 2" in result.output
    assert "  segments: lost 1, promising 1" in result.output  # the one who checked in

    assert "recompute" in CliRunner().invoke(app, ["--help"]).output
    unknown = CliRunner().invoke(app, ["recompute", "--community", "-5", "--database-url", url])
    assert unknown.exit_code == 2
    assert "community -5 is not known here" in unknown.output


def test_contradictory_lifecycle_rules_stop_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"
    monkeypatch.setenv("HEARTH_LIFECYCLE_RULES", '{"dormant_days": 120}')
    result = CliRunner().invoke(app, ["recompute", "--database-url", url])
    assert result.exit_code == 2
    assert "HEARTH_LIFECYCLE_RULES" in result.output
    assert "dormant_days must be below churned_days" in result.output
