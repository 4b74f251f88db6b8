"""The command line describes what is really there."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from typer.testing import CliRunner

from hearth.__main__ import app
from hearth.bot.notifier import message
from hearth.storage.engine import create_engine, unit_of_work_factory


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "simulate", "migrate", "outbox", "import-quiz", "bench"):
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
