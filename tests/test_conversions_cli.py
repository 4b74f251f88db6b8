"""``hearth import-conversions`` and ``hearth export --with-phones`` on a real database file."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import select
from sqlmodel import SQLModel
from typer.testing import CliRunner

from hearth.__main__ import app
from hearth.domain.members import ChatRole, Person
from hearth.storage import tables
from hearth.storage.conversions import ConversionRow
from hearth.storage.engine import create_engine, unit_of_work_factory

Row = TypeVar("Row", bound=SQLModel)
GROUP = "-100123"
GOOD = """telegram_id,phone,date,kind,amount,ref
1,,2026-02-10,service,450.50,WO-1
,+86 138 0000 0002,2026-02-11,purchase,189000,INV-7
9,,2026-02-12,service,,
"""
BAD = """telegram_id,date,kind,amount
1,2026-02-10,service,1
1,2026-02-10,oil change,1
2,2026-02-31,service,1
"""


def database(tmp_path: Path) -> str:
    """A database holding community -100123 with Alice (1) and Boris (2, who shared his
    number)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'hearth.db'}"

    async def fill() -> None:
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.run_sync(SQLModel.metadata.create_all)
        now = datetime(2026, 3, 2, 9, tzinfo=UTC)
        async with unit_of_work_factory(engine)() as uow:
            await uow.communities.add(int(GROUP), "Owners", timezone="UTC", locale="en", now=now)
            for person in (Person(1, "Alice"), Person(2, "Boris")):
                await uow.members.upsert(person, now)
                await uow.memberships.add(int(GROUP), person.id, role=ChatRole.MEMBER, now=now)
            await uow.member_contacts.save(2, "+8613800000002", now)
            await uow.commit()
        await engine.dispose()

    asyncio.run(fill())
    return url


def stored(url: str, model: type[Row]) -> list[Row]:
    async def read() -> list[Row]:
        engine = create_engine(url)
        async with unit_of_work_factory(engine)() as uow:
            found = list(await uow.session.scalars(select(model)))
            uow.session.expunge_all()
        await engine.dispose()
        return found

    return asyncio.run(read())


def imports(url: str, file: Path, *extra: str) -> tuple[int, str]:
    arguments = ["import-conversions", str(file), "--community", GROUP, "--database-url", url]
    result = CliRunner().invoke(app, [*arguments, *extra])
    return result.exit_code, result.output


def test_help_describes_the_import(tmp_path: Path) -> None:
    assert "import-conversions" in CliRunner().invoke(app, ["--help"]).output
    details = CliRunner().invoke(app, ["import-conversions", "--help"]).output
    assert "--dry-run" in details
    assert "trade_in" in details


def test_the_file_is_imported_once_and_the_report_printed(tmp_path: Path) -> None:
    url = database(tmp_path)
    file = tmp_path / "dealer.csv"
    file.write_text(GOOD, encoding="utf-8")

    code, output = imports(url, file)
    again_code, again = imports(url, file)

    assert code == 0, output
    assert output.splitlines()[:5] == [
        "Owners: 3 rows read.",
        "✅ 2 imported.",
        "Already imported: 0",
        "Repeated in the file (counted once): 0",
        "Not matched to a member (skipped): 1",
    ]
    assert "Points: 200 for 1 purchase." in output
    assert "line 4: no member of this community has Telegram id 9 (skipped)" in output
    assert again_code == 0
    assert "✅ 0 imported." in again
    assert "Already imported: 2" in again
    assert sorted(row.member_id for row in stored(url, ConversionRow)) == [1, 2]
    audits = stored(url, tables.AuditLog)
    assert [(row.action, row.actor_id) for row in audits] == [
        ("conversions.import", 0),
        ("conversions.import", 0),
    ]


def test_a_malformed_file_exits_1_and_imports_nothing(tmp_path: Path) -> None:
    url = database(tmp_path)
    file = tmp_path / "bad.csv"
    file.write_text(BAD, encoding="utf-8")

    code, output = imports(url, file)

    assert code == 1
    assert "Nothing was imported: 2 lines need fixing first." in output
    assert "line 3: the kind “oil change” is not service, purchase or trade_in" in output
    assert "line 4: the date “2026-02-31” is not YYYY-MM-DD" in output
    assert stored(url, ConversionRow) == []


def test_a_dry_run_checks_and_matches_but_writes_nothing(tmp_path: Path) -> None:
    url = database(tmp_path)
    file = tmp_path / "dealer.csv"
    file.write_text(GOOD, encoding="utf-8")

    code, output = imports(url, file, "--dry-run")

    assert code == 0, output
    assert "A dry run: nothing was written." in output
    assert "✅ 2 would be imported." in output
    assert stored(url, ConversionRow) == []
    assert stored(url, tables.AuditLog) == []
    assert stored(url, tables.PointsEntry) == []


def test_an_unreadable_file_or_unknown_community_is_one_clear_error(tmp_path: Path) -> None:
    url = database(tmp_path)
    file = tmp_path / "dealer.csv"
    file.write_text("customer,when\n1,2\n", encoding="utf-8")

    code, output = imports(url, file)
    missing = CliRunner().invoke(
        app, ["import-conversions", str(tmp_path / "nope.csv"), "--community", GROUP]
    )

    assert code == 1
    assert "the first line must name the columns; missing: telegram_id or phone" in output
    assert missing.exit_code == 2
    assert "no such file" in missing.output
    file.write_text(GOOD, encoding="utf-8")
    unknown = CliRunner().invoke(
        app, ["import-conversions", str(file), "--community", "-1", "--database-url", url]
    )
    assert unknown.exit_code == 2
    assert "community -1 is not known here" in unknown.output


def test_export_has_phone_numbers_only_with_the_flag_and_audits_it(tmp_path: Path) -> None:
    url = database(tmp_path)
    file = tmp_path / "dealer.csv"
    file.write_text(GOOD, encoding="utf-8")
    imports(url, file)
    plain, phones = tmp_path / "plain.csv", tmp_path / "phones.csv"
    common = ["export", "--community", GROUP, "--database-url", url]

    for what in ("members", "conversions"):
        result = CliRunner().invoke(app, [*common, "--what", what, "--out", str(plain)])
        assert result.exit_code == 0, result.output
        assert "13800000002" not in plain.read_text(encoding="utf-8-sig")
    result = CliRunner().invoke(
        app, [*common, "--what", "conversions", "--out", str(phones), "--with-phones"]
    )
    refused = CliRunner().invoke(app, [*common, "--what", "points", "--with-phones"])

    assert result.exit_code == 0, result.output
    lines = list(csv.DictReader(io.StringIO(phones.read_text(encoding="utf-8-sig"))))
    assert [(line["name"], line["phone"]) for line in lines] == [
        ("Alice", ""),
        ("Boris", "'+8613800000002"),
    ]
    assert refused.exit_code == 2
    assert "--with-phones goes with --what members or --what conversions" in refused.output
    audits = [
        (row.actor_id, row.details)
        for row in stored(url, tables.AuditLog)
        if row.action == "export.phones"
    ]
    assert audits == [(0, {"what": "conversions", "rows": 2, "via": "command line"})]
