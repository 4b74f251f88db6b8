"""Importing a business's conversion file on the real database: good rows in, the same file
again adds nothing, a malformed file adds nothing at all, rows of customers who are not
members are skipped, a phone matches only a number the member shared, and purchases earn
points once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from hearth.domain.conversion_files import RowProblem, UnreadableConversionFile
from hearth.domain.conversions import ConversionKind
from hearth.domain.members import ChatRole, CommunityProfile, MemberProfile, Person
from hearth.services import contacts, conversions
from hearth.services.conversions import ImportReport, Unmatched, UnmatchedRow
from hearth.services.ports import UnitOfWork
from hearth.storage import tables
from hearth.storage.conversions import ConversionRow
from hearth.storage.unit_of_work import UnitOfWorkFactory

GROUP, OTHER = -1001000000001, -1001000000002
NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
ALICE = Person(101, "Alice")  # a member who started the bot
BORIS = Person(102, "Boris")  # a member who shared his phone
CAROL = Person(103, "Carol")  # left the community
DAVE = Person(104, "Dave")  # shared his phone, but belongs to the other community only
BORIS_PHONE, DAVE_PHONE = "+8613800000102", "+8613800000104"

FILE = b"""telegram_id,phone,date,kind,amount,ref
101,,2026-02-10,service,450.50,WO-1
101,,2026-02-11,purchase,189000,INV-7
,+86 138 0000 0102,2026-02-12,trade-in,50000,
103,,2026-02-13,purchase,1000,
999,,2026-02-14,purchase,1000,
,+8613800000104,2026-02-15,service,,
,+8613899999999,2026-02-16,service,,
101,,2026-02-10,service,450.5,WO-1
"""


class RecordedNotices:
    """Stands in for the outbox: what members would be told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, ConversionKind, int]] = []

    async def credited(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        kind: ConversionKind,
        points: int,
    ) -> bool:
        self.sent.append((key, member.id, kind, points))
        return True


@pytest.fixture
async def club(uow_factory: UnitOfWorkFactory) -> UnitOfWorkFactory:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Pudong Owners", timezone="UTC", locale="en", now=NOW)
        await uow.communities.add(OTHER, "Jinqiao Riders", timezone="UTC", locale="en", now=NOW)
        for person in (ALICE, BORIS, CAROL, DAVE):
            await uow.members.upsert(person, NOW)
        for person in (ALICE, BORIS, CAROL):
            await uow.memberships.add(GROUP, person.id, role=ChatRole.MEMBER, now=NOW)
        await uow.memberships.add(OTHER, DAVE.id, role=ChatRole.MEMBER, now=NOW)
        await uow.memberships.leave(GROUP, CAROL.id, NOW)
        await uow.members.update(ALICE.id, started_bot=True)
        for person, phone in ((BORIS, BORIS_PHONE), (DAVE, DAVE_PHONE)):
            await contacts.share_phone(
                uow,
                member_id=person.id,
                contact_user_id=person.id,
                relayed=False,
                phone=phone,
                now=NOW,
            )
        await uow.commit()
    return uow_factory


async def imported(
    uow_factory: UnitOfWorkFactory,
    content: bytes,
    notices: RecordedNotices | None = None,
    *,
    dry_run: bool = False,
) -> ImportReport:
    async with uow_factory() as uow:
        community = await uow.communities.get(GROUP)
        assert community is not None
        report = await conversions.import_conversions(
            uow,
            community,
            content,
            now=NOW,
            actor=7,
            notices=notices,
            dry_run=dry_run,
            file_name="dealer.csv",
        )
        await uow.commit()
        return report


async def stored(uow_factory: UnitOfWorkFactory) -> list[tuple[int, str, str, int]]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(ConversionRow).order_by(ConversionRow.occurred_on))
        return [(row.member_id, row.kind, row.key, row.amount_minor) for row in rows]


async def ledger(uow_factory: UnitOfWorkFactory) -> list[tuple[int, int, str]]:
    async with uow_factory() as uow:
        entries = await uow.session.scalars(select(tables.PointsEntry))
        return sorted((entry.member_id, entry.amount, entry.reason) for entry in entries)


async def test_matched_rows_are_imported_and_the_rest_reported(club: UnitOfWorkFactory) -> None:
    report = await imported(club, FILE)

    assert (report.read, report.imported, report.already_imported) == (8, 4, 0)
    assert [(each.line, each.first_line) for each in report.duplicates] == [(9, 2)]
    assert report.unmatched == [
        UnmatchedRow(6, Unmatched.UNKNOWN_MEMBER, "999"),
        UnmatchedRow(7, Unmatched.UNKNOWN_PHONE, DAVE_PHONE),  # not a member of this one
        UnmatchedRow(8, Unmatched.UNKNOWN_PHONE, "+8613899999999"),
    ]
    assert report.malformed == []
    rows = await stored(club)
    assert [(member, kind, amount) for member, kind, _key, amount in rows] == [
        (ALICE.id, "service", 45050),
        (ALICE.id, "purchase", 18900000),
        (BORIS.id, "trade_in", 5000000),  # matched by the number Boris shared
        (CAROL.id, "purchase", 100000),  # she left, but was a member: her purchase counts
    ]
    assert rows[0][2] == "ref:WO-1"


async def test_purchases_of_current_members_earn_points_once_and_they_are_told(
    club: UnitOfWorkFactory,
) -> None:
    notices = RecordedNotices()

    first = await imported(club, FILE, notices)
    again = await imported(club, FILE, notices)

    # Alice's purchase and Boris's trade-in; not the service visit, not Carol (she left)
    assert await ledger(club) == [(ALICE.id, 200, "purchase"), (BORIS.id, 200, "trade_in")]
    assert (first.credits, first.points) == (2, 400)
    assert (again.imported, again.already_imported, again.credits) == (0, 4, 0)
    # only Alice started the bot: only she can be told
    assert notices.sent == [
        (f"conversion:{GROUP}:ref:INV-7", ALICE.id, ConversionKind.PURCHASE, 200)
    ]
    assert len(await stored(club)) == 4


async def test_points_follow_the_communitys_purchase_rules(club: UnitOfWorkFactory) -> None:
    async with club() as uow:
        await uow.communities.update(GROUP, points_rules={"purchase": 10, "purchase_per_100": 1})
        await uow.commit()

    await imported(club, FILE)

    # 189,000.00 is 1,890 whole hundreds; 50,000.00 is 500
    assert await ledger(club) == [(ALICE.id, 1900, "purchase"), (BORIS.id, 510, "trade_in")]


async def test_a_malformed_file_imports_nothing_and_lists_every_bad_line(
    club: UnitOfWorkFactory,
) -> None:
    content = FILE + b"101,,2026-13-01,purchase,10,\n101,,2026-02-01,gift,-3,\n"

    report = await imported(club, content)

    assert report.rejected
    assert [(each.line, each.problem) for each in report.malformed] == [
        (10, RowProblem.BAD_DATE),
        (11, RowProblem.BAD_KIND),
        (11, RowProblem.NEGATIVE_AMOUNT),
    ]
    assert (report.imported, report.unmatched) == (0, [])
    assert await stored(club) == []
    assert await ledger(club) == []


async def test_a_phone_matches_only_a_number_the_member_shared(club: UnitOfWorkFactory) -> None:
    content = (
        b"phone,date,kind\n"
        b"+86 138 0000 0102,2026-02-12,service\n"
        b"+8613800000101,2026-02-12,service\n"
    )

    report = await imported(club, content)

    # Alice's Telegram id is 101, but she never shared a number: no guessing
    assert report.unmatched == [UnmatchedRow(3, Unmatched.UNKNOWN_PHONE, "+8613800000101")]
    assert [member for member, *_ in await stored(club)] == [BORIS.id]


async def test_a_number_two_members_shared_matches_neither(club: UnitOfWorkFactory) -> None:
    async with club() as uow:
        await uow.member_contacts.save(ALICE.id, BORIS_PHONE, NOW)
        await uow.commit()

    report = await imported(club, b"phone,date,kind\n+8613800000102,2026-02-12,service\n")

    assert report.unmatched == [UnmatchedRow(2, Unmatched.SHARED_PHONE, BORIS_PHONE)]
    assert await stored(club) == []


async def test_a_dry_run_reports_the_same_and_writes_nothing(club: UnitOfWorkFactory) -> None:
    report = await imported(club, FILE, dry_run=True)

    assert (report.imported, len(report.unmatched), report.dry_run) == (4, 3, True)
    assert await stored(club) == []
    async with club() as uow:
        assert list(await uow.session.scalars(select(tables.AuditLog))) == []

    await imported(club, FILE)
    assert (await imported(club, FILE, dry_run=True)).already_imported == 4


async def test_every_import_is_audited_with_its_counts(club: UnitOfWorkFactory) -> None:
    await imported(club, FILE)
    await imported(club, FILE + b"x,,,,,\n")

    async with club() as uow:
        audits = [
            (each.action, each.actor_id, each.community_id, each.details)
            for each in await uow.session.scalars(select(tables.AuditLog).order_by("id"))
        ]
    assert [audit[:3] for audit in audits] == [
        ("conversions.import", 7, GROUP),
        ("conversions.import", 7, GROUP),
    ]
    good, bad = audits[0][3], audits[1][3]
    assert (good["imported"], good["points"], good["file"]) == (4, 400, "dealer.csv")
    assert (bad["imported"], bad["malformed_lines"]) == (0, 1)


async def test_an_unreadable_file_raises_and_writes_nothing(club: UnitOfWorkFactory) -> None:
    with pytest.raises(UnreadableConversionFile):
        await imported(club, b"customer,when\n1,2\n")

    assert await stored(club) == []
