"""Importing conversions — service visits, purchases, trade-ins — the business reports about
its customers, from a CSV file (``domain/conversion_files``).

All or nothing: when any row is malformed nothing is imported and the report lists every
bad line. Rows whose member is not matched (a Telegram id that is no member of the
community, a phone number no member of it shared with the bot) are the business's customers
who are not club members: reported and skipped. The rest is inserted ignoring keys the
community has already, so importing the same file again changes nothing. Each new purchase
or trade-in of a current member earns them points once (``PointsRules.purchase`` and
``purchase_per_100``), and they are told in private when they started the bot.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from hearth.domain.calendar import local_day
from hearth.domain.conversion_files import (
    ConversionFile,
    ConversionLine,
    Duplicate,
    Malformed,
    MemberKeyKind,
    parse_conversions,
)
from hearth.domain.conversions import Conversion, ConversionKind
from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind, purchase_points, rules_from_settings
from hearth.services import points
from hearth.services.ports import ConversionNotices, UnitOfWork

AUDIT_ACTION = "conversions.import"
COMMAND_LINE_ACTOR = 0  # the audit log's actor of the command line (no Telegram user is 0)
EARNING_KINDS = frozenset({ConversionKind.PURCHASE, ConversionKind.TRADE_IN})


class Unmatched(enum.StrEnum):
    """Why a good row names no member of the community."""

    UNKNOWN_MEMBER = "unknown_member"  # no member of the community has this Telegram id
    UNKNOWN_PHONE = "unknown_phone"  # no member of the community shared this number
    SHARED_PHONE = "shared_phone"  # several members shared it: which one is unclear


@dataclass(frozen=True, slots=True)
class UnmatchedRow:
    line: int
    reason: Unmatched
    value: str  # the Telegram id or the phone number the row gives


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (or, ``dry_run``, would do). ``malformed`` lines mean nothing was
    imported; ``imported`` counts rows new to the community, ``already_imported`` those it
    had from an earlier file; ``points`` were credited for ``credits`` purchases."""

    read: int
    imported: int = 0
    already_imported: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    unmatched: list[UnmatchedRow] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)
    credits: int = 0
    points: int = 0
    dry_run: bool = False

    @property
    def rejected(self) -> bool:
        """Malformed lines: nothing was imported."""
        return bool(self.malformed)

    @property
    def malformed_lines(self) -> int:
        return len({problem.line for problem in self.malformed})


@dataclass(frozen=True, slots=True)
class _Member:
    id: int
    current: bool


async def import_conversions(
    uow: UnitOfWork,
    community: CommunityProfile,
    content: bytes,
    *,
    now: datetime,
    actor: int | None,
    notices: ConversionNotices | None = None,
    dry_run: bool = False,
    file_name: str = "",
) -> ImportReport:
    """Import a conversion file into ``community`` in the caller's transaction (it does not
    commit). ``actor`` is the operator (None: the command line); every import but a dry run
    is audited. Raises ``UnreadableConversionFile`` for a file that cannot be read at all."""
    parsed = parse_conversions(content, today=local_day(now, community.timezone))
    if parsed.malformed:
        report = ImportReport(
            read=parsed.read,
            duplicates=parsed.duplicates,
            malformed=parsed.malformed,
            dry_run=dry_run,
        )
    else:
        report = await _import(uow, community, parsed, now=now, notices=notices, dry_run=dry_run)
    if not dry_run:
        await _audit(uow, community, report, actor=actor, file_name=file_name, now=now)
    return report


async def _import(
    uow: UnitOfWork,
    community: CommunityProfile,
    parsed: ConversionFile,
    *,
    now: datetime,
    notices: ConversionNotices | None,
    dry_run: bool,
) -> ImportReport:
    members, unmatched = await _match(uow, community.id, parsed.rows)
    conversions = [
        Conversion(
            community_id=community.id,
            member_id=members[row.line].id,
            kind=row.kind,
            occurred_on=row.occurred_on,
            amount_minor=row.amount_minor,
            key=row.key,
        )
        for row in parsed.rows
        if row.line in members
    ]
    keys = {conversion.key for conversion in conversions}
    if dry_run:
        new = keys - await uow.conversions.existing_keys(community.id, keys)
    else:
        new = await uow.conversions.add_many(conversions, now)
    current = {member.id for member in members.values() if member.current}
    earning = [
        conversion
        for conversion in conversions
        if conversion.key in new
        and conversion.kind in EARNING_KINDS
        and conversion.member_id in current
    ]
    credits, credited = 0, 0
    if not dry_run:
        credits, credited = await _credit(uow, community, earning, now, notices)
    return ImportReport(
        read=parsed.read,
        imported=len(new),
        already_imported=len(keys) - len(new),
        duplicates=parsed.duplicates,
        unmatched=unmatched,
        credits=credits,
        points=credited,
        dry_run=dry_run,
    )


async def _match(
    uow: UnitOfWork, community_id: int, rows: list[ConversionLine]
) -> tuple[dict[int, _Member], list[UnmatchedRow]]:
    """The member each row names (by line), and the rows that name none of the community."""
    ids = {row.member.telegram_id for row in rows if row.member.telegram_id is not None}
    phones = {row.member.value for row in rows if row.member.kind is MemberKeyKind.PHONE}
    memberships = await uow.conversions.memberships(community_id, ids) if ids else {}
    owners = await uow.member_contacts.owners(community_id, phones) if phones else {}
    members: dict[int, _Member] = {}
    unmatched: list[UnmatchedRow] = []
    for row in rows:
        key = row.member
        if key.telegram_id is not None:
            if key.telegram_id in memberships:
                members[row.line] = _Member(key.telegram_id, memberships[key.telegram_id])
            else:
                unmatched.append(UnmatchedRow(row.line, Unmatched.UNKNOWN_MEMBER, key.value))
            continue
        shared = owners.get(key.value, [])
        if len(shared) == 1:
            members[row.line] = _Member(*shared[0])
        else:
            reason = Unmatched.SHARED_PHONE if shared else Unmatched.UNKNOWN_PHONE
            unmatched.append(UnmatchedRow(row.line, reason, key.value))
    return members, unmatched


async def _credit(
    uow: UnitOfWork,
    community: CommunityProfile,
    earning: list[Conversion],
    now: datetime,
    notices: ConversionNotices | None,
) -> tuple[int, int]:
    """Credit each new purchase of a current member once; (credits, points)."""
    rules = rules_from_settings(community.points_rules)
    credits, total = 0, 0
    for conversion in earning:
        amount = purchase_points(rules, conversion.amount_minor)
        if amount <= 0:
            continue
        key = credit_key(community.id, conversion.key)
        if not await points.credit(
            uow,
            community_id=community.id,
            member_id=conversion.member_id,
            amount=amount,
            kind=EntryKind.EARN,
            reason=conversion.kind.value,
            key=key,
            now=now,
            timezone=community.timezone,
            rules=rules,
        ):
            continue
        credits, total = credits + 1, total + amount
        member = await uow.members.get(conversion.member_id)
        if notices is not None and member is not None and member.writable:
            await notices.credited(uow, key, member, community, conversion.kind, amount)
    return credits, total


def credit_key(community_id: int, conversion_key: str) -> str:
    """The idempotency key of a conversion's points (and of the member's notice)."""
    return f"conversion:{community_id}:{conversion_key}"


async def _audit(
    uow: UnitOfWork,
    community: CommunityProfile,
    report: ImportReport,
    *,
    actor: int | None,
    file_name: str,
    now: datetime,
) -> None:
    await uow.audit.record(
        actor_id=COMMAND_LINE_ACTOR if actor is None else actor,
        action=AUDIT_ACTION,
        community_id=community.id,
        details={
            "via": "command line" if actor is None else "bot",
            "file": file_name[:100],
            "read": report.read,
            "imported": report.imported,
            "already_imported": report.already_imported,
            "duplicates": len(report.duplicates),
            "unmatched": len(report.unmatched),
            "malformed_lines": report.malformed_lines,
            "credits": report.credits,
            "points": report.points,
        },
        now=now,
    )
