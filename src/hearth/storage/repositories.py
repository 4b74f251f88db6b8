"""Repositories: SQL for one aggregate each. They never commit; the unit of work does."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Executable, Insert, Row, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from hearth.domain.activity import PARTICIPATION_KINDS, ActivityKind, ActivityRecord
from hearth.domain.members import (
    ChatRole,
    CommunityProfile,
    JoinVia,
    MemberProfile,
    MembershipView,
    Person,
)
from hearth.domain.points import (
    CREDIT_KINDS,
    EntryKind,
    ExpiringLot,
    LedgerLine,
    Lot,
    NewEntry,
    ReminderTarget,
)
from hearth.domain.streaks import CheckinOutcome, StreakState
from hearth.storage import tables

Mapped = TypeVar("Mapped")  # the domain value a row becomes


def insert_ignoring_duplicates(dialect: str, model: type[SQLModel]) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` in the session's dialect.

    Built on the Core table: the ORM's bulk insert would split a batch into one statement
    per run of rows whose None values differ.
    """
    module = postgresql if dialect == "postgresql" else sqlite
    statement: Insert = module.insert(_table(model)).on_conflict_do_nothing()
    return statement


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def member_profile(row: tables.Member) -> MemberProfile:
    return MemberProfile(
        id=row.id,
        first_name=row.first_name,
        locale=row.locale,
        language_code=row.language_code,
        started_bot=row.started_bot,
        reachable=row.reachable,
    )


def _community(row: tables.Community) -> CommunityProfile:
    return CommunityProfile(
        id=row.id,
        title=row.title,
        timezone=row.timezone,
        locale=row.locale,
        active=row.active,
        bot_is_admin=row.bot_is_admin,
        welcome_enabled=row.welcome_enabled,
        announce_milestones=row.announce_milestones,
        digest_enabled=row.digest_enabled,
        points_rules=dict(row.points_rules) if row.points_rules else None,
    )


class _Repository:
    def __init__(self, session: AsyncSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

    async def _mapped(
        self, statement: Executable, mapper: Callable[[Row[Any]], Mapped]
    ) -> Mapped | None:
        """The one row ``statement`` returns, made a domain value by ``mapper``; None when
        there is none."""
        row = (await self.session.execute(statement)).one_or_none()
        return mapper(row) if row is not None else None

    async def _inserted(self, statement: Insert, values: Mapping[str, Any]) -> bool:
        result = await self.session.execute(statement.values(**values))
        return bool(getattr(result, "rowcount", 0))

    async def _set_member_rows(
        self,
        model: type[SQLModel],
        member_id: int,
        community_ids: Collection[int],
        *,
        present: bool,
        now: datetime,
    ) -> None:
        """Give the member one row of ``model`` (an opt-in or an opt-out: community, member,
        created_at) in each of these communities, or take those rows away."""
        table = _table(model)
        if not present:
            await self.session.execute(
                delete(table).where(
                    table.c.member_id == member_id,
                    table.c.community_id.in_(list(community_ids)),
                )
            )
            return
        rows = [
            {"community_id": community_id, "member_id": member_id, "created_at": now}
            for community_id in community_ids
        ]
        if rows:
            await self.session.execute(insert_ignoring_duplicates(self.dialect, model), rows)


class SqlCommunityRepository(_Repository):
    async def get(self, community_id: int) -> CommunityProfile | None:
        row = await self.session.get(tables.Community, community_id, populate_existing=True)
        return _community(row) if row else None

    async def add(
        self, community_id: int, title: str, *, timezone: str, locale: str, now: datetime
    ) -> bool:
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, tables.Community),
            {
                "id": community_id,
                "title": title[:255],
                "timezone": timezone,
                "locale": locale,
                "active": True,
                "bot_is_admin": False,
                "welcome_enabled": True,
                "announce_milestones": True,
                "created_at": now,
            },
        )

    async def update(self, community_id: int, **changes: Any) -> None:
        if "title" in changes:
            changes["title"] = str(changes["title"])[:255]
        await self.session.execute(
            update(tables.Community)
            .where(col(tables.Community.id) == community_id)
            .values(**changes)
        )

    async def active(self) -> list[CommunityProfile]:
        rows = await self.session.scalars(
            select(tables.Community)
            .where(col(tables.Community.active).is_(True))
            .order_by(col(tables.Community.id))
        )
        return [_community(row) for row in rows]


class SqlMemberRepository(_Repository):
    async def get(self, member_id: int) -> MemberProfile | None:
        row = await self.session.get(tables.Member, member_id, populate_existing=True)
        if row is None:
            return None
        return member_profile(row)

    async def upsert(self, person: Person, now: datetime) -> None:
        await self.upsert_many([person], now)

    async def upsert_many(self, people: Iterable[Person], now: datetime) -> None:
        """Insert members, or refresh the names and Telegram language of known ones.

        A member who had their data erased and takes part again is stored afresh, as
        Telegram sends them: no longer forgotten (``/forget_me`` tells them so).
        """
        rows = [
            {
                "id": person.id,
                "first_name": person.first_name[:255],
                "last_name": person.last_name[:255] if person.last_name else None,
                "username": person.username,
                "language_code": person.language_code,
                "created_at": now,
                "updated_at": now,
                "started_bot": False,
                "reachable": True,
                "forgotten_at": None,
            }
            for person in people
        ]
        if not rows:
            return
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(_table(tables.Member))
        refreshed = (
            "first_name",
            "last_name",
            "username",
            "language_code",
            "forgotten_at",
            "updated_at",
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["id"],
                set_={name: statement.excluded[name] for name in refreshed},
            ),
            rows,
        )

    async def update(self, member_id: int, **changes: Any) -> None:
        await self.session.execute(
            update(tables.Member).where(col(tables.Member.id) == member_id).values(**changes)
        )

    async def by_username(self, username: str) -> MemberProfile | None:
        member_id = await self.session.scalar(
            select(col(tables.Member.id)).where(
                func.lower(col(tables.Member.username)) == username.lower().lstrip("@")
            )
        )
        return await self.get(int(member_id)) if member_id is not None else None

    async def first_names(self, member_ids: Collection[int]) -> dict[int, str]:
        names: dict[int, str] = {}
        ids = sorted(set(member_ids))
        for start in range(0, len(ids), 500):  # within every database's parameter limit
            result = await self.session.execute(
                select(col(tables.Member.id), col(tables.Member.first_name)).where(
                    col(tables.Member.id).in_(ids[start : start + 500])
                )
            )
            names.update((int(member_id), str(name)) for member_id, name in result)
        return names


class SqlMembershipRepository(_Repository):
    def _key(self, community_id: int, member_id: int) -> Any:
        return (col(tables.Membership.community_id) == community_id) & (
            col(tables.Membership.member_id) == member_id
        )

    async def get(self, community_id: int, member_id: int) -> MembershipView | None:
        row = (
            await self.session.scalars(
                select(tables.Membership)
                .where(self._key(community_id, member_id))
                .execution_options(populate_existing=True)
            )
        ).one_or_none()
        if row is None:
            return None
        return MembershipView(
            community_id=row.community_id,
            member_id=row.member_id,
            joined_at=row.joined_at,
            left_at=row.left_at,
            join_count=row.join_count,
            role=ChatRole(row.role),
        )

    async def add(
        self,
        community_id: int,
        member_id: int,
        *,
        role: ChatRole,
        now: datetime,
        via: JoinVia = JoinVia.JOIN,
    ) -> bool:
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, tables.Membership),
            {
                "community_id": community_id,
                "member_id": member_id,
                "role": role.value,
                "joined_at": now,
                "join_count": 1,
                "joined_via": via.value,
            },
        )

    async def add_seen_many(self, seen: Iterable[tuple[int, int, datetime]]) -> None:
        """Memberships of members seen taking part: (community id, member id, first seen)."""
        rows = [
            {
                "community_id": community_id,
                "member_id": member_id,
                "role": ChatRole.MEMBER.value,
                "joined_at": at,
                "join_count": 1,
                "joined_via": JoinVia.SEEN.value,
            }
            for community_id, member_id, at in seen
        ]
        if rows:
            await self.session.execute(
                insert_ignoring_duplicates(self.dialect, tables.Membership), rows
            )

    async def rejoin(self, community_id: int, member_id: int, now: datetime) -> None:
        await self.session.execute(
            update(tables.Membership)
            .where(self._key(community_id, member_id))
            .values(left_at=None, joined_at=now, join_count=col(tables.Membership.join_count) + 1)
        )

    async def leave(self, community_id: int, member_id: int, now: datetime) -> None:
        await self.session.execute(
            update(tables.Membership).where(self._key(community_id, member_id)).values(left_at=now)
        )

    async def set_role(self, community_id: int, member_id: int, role: ChatRole) -> None:
        await self.session.execute(
            update(tables.Membership)
            .where(self._key(community_id, member_id))
            .values(role=role.value)
        )

    async def communities_of(self, member_id: int) -> list[CommunityProfile]:
        rows = await self.session.scalars(
            select(tables.Community)
            .join(
                tables.Membership, col(tables.Membership.community_id) == col(tables.Community.id)
            )
            .where(
                col(tables.Membership.member_id) == member_id,
                col(tables.Membership.left_at).is_(None),
                col(tables.Community.active).is_(True),
            )
            .order_by(col(tables.Community.title))
        )
        return [_community(row) for row in rows]

    async def count_current(self, community_id: int) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                col(tables.Membership.community_id) == community_id,
                col(tables.Membership.left_at).is_(None),
            )
        )
        return int(count or 0)

    async def set_reminder_hour(self, community_id: int, member_id: int, hour: int | None) -> None:
        await self.session.execute(
            update(tables.Membership)
            .where(self._key(community_id, member_id))
            .values(checkin_reminder_hour=hour)
        )

    async def reminder_targets(self) -> list[ReminderTarget]:
        hour = col(tables.Membership.checkin_reminder_hour)
        result = await self.session.execute(
            select(col(tables.Membership.community_id), col(tables.Membership.member_id), hour)
            .join(tables.Member, col(tables.Member.id) == col(tables.Membership.member_id))
            .join(tables.Community, col(tables.Community.id) == col(tables.Membership.community_id))
            .where(
                hour.is_not(None),
                col(tables.Membership.left_at).is_(None),
                col(tables.Member.started_bot).is_(True),
                col(tables.Member.reachable).is_(True),
                col(tables.Community.active).is_(True),
            )
        )
        return [ReminderTarget(int(row[0]), int(row[1]), int(row[2] or 0)) for row in result]

    async def tiers(self, community_id: int) -> dict[int, str]:
        result = await self.session.execute(
            select(col(tables.Membership.member_id), col(tables.Membership.tier)).where(
                col(tables.Membership.community_id) == community_id,
                col(tables.Membership.left_at).is_(None),
            )
        )
        return {int(row[0]): str(row[1]) for row in result}

    async def set_tier(self, community_id: int, member_id: int, tier: str) -> None:
        await self.session.execute(
            update(tables.Membership).where(self._key(community_id, member_id)).values(tier=tier)
        )

    async def count_reachable(self, community_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(tables.Membership)
            .join(tables.Member, col(tables.Member.id) == col(tables.Membership.member_id))
            .where(
                col(tables.Membership.community_id) == community_id,
                col(tables.Membership.left_at).is_(None),
                col(tables.Member.started_bot).is_(True),
                col(tables.Member.reachable).is_(True),
            )
        )
        return int(count or 0)


class SqlActivityRepository(_Repository):
    async def add_many(self, records: Iterable[ActivityRecord]) -> None:
        rows = [
            {
                "community_id": record.community_id,
                "member_id": record.member_id,
                "kind": record.kind.value,
                "occurred_at": record.occurred_at,
                "local_day": record.local_day,
                "update_id": record.update_id,
                "peer_member_id": record.peer_member_id,
            }
            for record in records
        ]
        if rows:
            await self.session.execute(
                insert_ignoring_duplicates(self.dialect, tables.Activity), rows
            )

    def _window(
        self, community_id: int, first: date, last: date, kinds: Iterable[ActivityKind]
    ) -> Any:
        return (
            (col(tables.Activity.community_id) == community_id)
            & (col(tables.Activity.local_day) >= first)
            & (col(tables.Activity.local_day) <= last)
            & (col(tables.Activity.kind).in_([kind.value for kind in kinds]))
        )

    async def daily_members(
        self, community_id: int, first: date, last: date, kinds: Iterable[ActivityKind]
    ) -> dict[date, int]:
        wanted = frozenset(kinds)
        if wanted == PARTICIPATION_KINDS:  # the roll-up has those pairs, one row each
            from hearth.storage.engagement import participation_days

            days = await participation_days(self.session, self.dialect, community_id, first, last)
            counted = await self.session.execute(
                select(days.c.day, func.count()).group_by(days.c.day)
            )
            return {date.fromordinal(int(row[0])): int(row[1]) for row in counted}
        kinds = wanted
        day = col(tables.Activity.local_day)
        result = await self.session.execute(
            select(day, func.count(func.distinct(col(tables.Activity.member_id))))
            .where(self._window(community_id, first, last, kinds))
            .group_by(day)
        )
        return {_as_date(row[0]): int(row[1]) for row in result}

    async def distinct_members(
        self, community_id: int, first: date, last: date, kinds: Iterable[ActivityKind]
    ) -> int:
        count = await self.session.scalar(
            select(func.count(func.distinct(col(tables.Activity.member_id)))).where(
                self._window(community_id, first, last, kinds)
            )
        )
        return int(count or 0)


class SqlAuditLog(_Repository):
    async def record(
        self,
        *,
        actor_id: int,
        action: str,
        community_id: int | None,
        details: Mapping[str, Any],
        now: datetime,
    ) -> None:
        self.session.add(
            tables.AuditLog(
                community_id=community_id,
                actor_id=actor_id,
                action=action,
                details=dict(details),
                created_at=now,
            )
        )
        await self.session.flush()


class SqlProcessedUpdates(_Repository):
    async def add_many(self, update_ids: Iterable[int], now: datetime) -> None:
        rows = [{"update_id": update_id, "processed_at": now} for update_id in update_ids]
        if rows:
            await self.session.execute(
                insert_ignoring_duplicates(self.dialect, tables.ProcessedUpdate), rows
            )

    async def claim(self, update_id: int, now: datetime) -> bool:
        # On PostgreSQL a concurrent insert of the same id waits for the other transaction
        # and then inserts nothing: exactly one worker's transaction records the update.
        statement = insert_ignoring_duplicates(self.dialect, tables.ProcessedUpdate).returning(
            col(tables.ProcessedUpdate.update_id)
        )
        inserted = await self.session.scalars(
            statement, [{"update_id": update_id, "processed_at": now}]
        )
        return inserted.first() is not None

    async def since(self, moment: datetime) -> set[int]:
        ids = await self.session.scalars(
            select(col(tables.ProcessedUpdate.update_id)).where(
                col(tables.ProcessedUpdate.processed_at) >= moment
            )
        )
        return set(ids)

    async def prune(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(tables.ProcessedUpdate).where(col(tables.ProcessedUpdate.processed_at) < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class SqlCheckinRepository(_Repository):
    async def latest(self, community_id: int, member_id: int) -> StreakState | None:
        row = (
            await self.session.scalars(
                select(tables.Checkin)
                .where(
                    col(tables.Checkin.community_id) == community_id,
                    col(tables.Checkin.member_id) == member_id,
                )
                .order_by(col(tables.Checkin.local_day).desc())
                .limit(1)
            )
        ).one_or_none()
        if row is None:
            return None
        return StreakState(
            last_day=_as_date(row.local_day), streak=row.streak, freezes=row.freezes, best=row.best
        )

    async def add(
        self, community_id: int, member_id: int, outcome: CheckinOutcome, at: datetime
    ) -> bool:
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, tables.Checkin),
            {
                "community_id": community_id,
                "member_id": member_id,
                "local_day": outcome.day,
                "checked_in_at": at,
                "streak": outcome.streak,
                "best": outcome.best,
                "freezes": outcome.freezes,
                "freezes_used": outcome.freezes_used,
            },
        )

    async def streaks_on(self, community_id: int, day: date) -> list[tuple[int, str, int]]:
        result = await self.session.execute(
            select(
                col(tables.Checkin.member_id),
                col(tables.Member.first_name),
                col(tables.Checkin.streak),
            )
            .join(tables.Member, col(tables.Member.id) == col(tables.Checkin.member_id))
            .where(
                col(tables.Checkin.community_id) == community_id,
                col(tables.Checkin.local_day) == day,
            )
            .order_by(col(tables.Checkin.streak).desc(), col(tables.Checkin.checked_in_at))
        )
        return [(int(row[0]), str(row[1]), int(row[2])) for row in result]

    async def mark_reminded(
        self, community_id: int, member_id: int, day: date, now: datetime
    ) -> bool:
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, tables.CheckinReminder),
            {
                "community_id": community_id,
                "member_id": member_id,
                "local_day": day,
                "sent_at": now,
            },
        )


class SqlPointsRepository(_Repository):
    def _member(self, community_id: int, member_id: int) -> Any:
        return (col(tables.PointsEntry.community_id) == community_id) & (
            col(tables.PointsEntry.member_id) == member_id
        )

    async def add_entry(self, entry: NewEntry) -> int | None:
        credit = entry.amount > 0 and entry.expires_at is not None
        statement = insert_ignoring_duplicates(self.dialect, tables.PointsEntry).values(
            community_id=entry.community_id,
            member_id=entry.member_id,
            kind=entry.kind.value,
            amount=entry.amount,
            reason=entry.reason[:255],
            idempotency_key=entry.key[:200],
            created_at=entry.at,
            expires_at=entry.expires_at,
            remaining=entry.amount if credit else None,
            actor_id=entry.actor_id,
        )
        result = await self.session.execute(statement.returning(col(tables.PointsEntry.id)))
        new_id = result.scalar_one_or_none()
        return int(new_id) if new_id is not None else None

    async def has_entry(self, key: str) -> bool:
        found = await self.session.scalar(
            select(col(tables.PointsEntry.id)).where(
                col(tables.PointsEntry.idempotency_key) == key[:200]
            )
        )
        return found is not None

    async def change_balance(
        self, community_id: int, member_id: int, delta: int, now: datetime
    ) -> int | None:
        await self.session.execute(
            insert_ignoring_duplicates(self.dialect, tables.PointsBalance).values(
                community_id=community_id, member_id=member_id, balance=0, updated_at=now
            )
        )
        balance = col(tables.PointsBalance.balance)
        # One conditional statement: atomic on SQLite and PostgreSQL alike; on PostgreSQL its
        # row lock also serialises concurrent debits of the same member.
        result = await self.session.execute(
            update(tables.PointsBalance)
            .where(
                col(tables.PointsBalance.community_id) == community_id,
                col(tables.PointsBalance.member_id) == member_id,
                balance + delta >= 0,
            )
            .values(balance=balance + delta, updated_at=now)
            .returning(balance)
        )
        new_balance = result.scalar_one_or_none()
        return int(new_balance) if new_balance is not None else None

    async def balance(self, community_id: int, member_id: int) -> int:
        value = await self.session.scalar(
            select(col(tables.PointsBalance.balance)).where(
                col(tables.PointsBalance.community_id) == community_id,
                col(tables.PointsBalance.member_id) == member_id,
            )
        )
        return int(value or 0)

    async def ledger_sum(self, community_id: int, member_id: int) -> int:
        value = await self.session.scalar(
            select(func.coalesce(func.sum(col(tables.PointsEntry.amount)), 0)).where(
                self._member(community_id, member_id)
            )
        )
        return int(value or 0)

    async def lots(self, community_id: int, member_id: int) -> list[Lot]:
        statement = (
            select(tables.PointsEntry)
            .where(self._member(community_id, member_id), col(tables.PointsEntry.remaining) > 0)
            .order_by(col(tables.PointsEntry.expires_at), col(tables.PointsEntry.id))
            .execution_options(populate_existing=True)
        )
        if self.dialect == "postgresql":
            statement = statement.with_for_update()
        rows = await self.session.scalars(statement)
        return [
            Lot(id=int(row.id or 0), remaining=int(row.remaining or 0), expires_at=row.expires_at)  # type: ignore[arg-type]
            for row in rows
        ]

    async def take_from_lot(self, lot_id: int, amount: int) -> None:
        remaining = col(tables.PointsEntry.remaining)
        await self.session.execute(
            update(tables.PointsEntry)
            .where(col(tables.PointsEntry.id) == lot_id)
            .values(remaining=remaining - amount)
        )

    def _credits(self) -> Any:
        return col(tables.PointsEntry.kind).in_([kind.value for kind in CREDIT_KINDS])

    async def earned(self, community_id: int, member_id: int, since: datetime) -> int:
        value = await self.session.scalar(
            select(func.coalesce(func.sum(col(tables.PointsEntry.amount)), 0)).where(
                self._member(community_id, member_id),
                self._credits(),
                col(tables.PointsEntry.created_at) >= since,
            )
        )
        return int(value or 0)

    async def recent(self, community_id: int, member_id: int, limit: int) -> list[LedgerLine]:
        rows = await self.session.scalars(
            select(tables.PointsEntry)
            .where(self._member(community_id, member_id))
            .order_by(col(tables.PointsEntry.created_at).desc(), col(tables.PointsEntry.id).desc())
            .limit(limit)
        )
        return [
            LedgerLine(EntryKind(row.kind), row.amount, row.reason, row.created_at) for row in rows
        ]

    async def earned_by_member(
        self, community_id: int, since: datetime | None
    ) -> list[tuple[int, str, int]]:
        total = func.sum(col(tables.PointsEntry.amount))
        statement = (
            select(col(tables.PointsEntry.member_id), col(tables.Member.first_name), total)
            .join(tables.Member, col(tables.Member.id) == col(tables.PointsEntry.member_id))
            .join(  # members who left are off the boards
                tables.Membership,
                (col(tables.Membership.community_id) == col(tables.PointsEntry.community_id))
                & (col(tables.Membership.member_id) == col(tables.PointsEntry.member_id)),
            )
            .where(
                col(tables.PointsEntry.community_id) == community_id,
                col(tables.Membership.left_at).is_(None),
                self._credits(),
            )
            .group_by(col(tables.PointsEntry.member_id), col(tables.Member.first_name))
            .order_by(total.desc(), col(tables.PointsEntry.member_id))
        )
        if since is not None:
            statement = statement.where(col(tables.PointsEntry.created_at) >= since)
        result = await self.session.execute(statement)
        return [(int(row[0]), str(row[1]), int(row[2])) for row in result]

    async def due_lots(self, now: datetime, limit: int) -> list[tuple[int, int, int]]:
        result = await self.session.execute(
            select(
                col(tables.PointsEntry.community_id),
                col(tables.PointsEntry.member_id),
                col(tables.PointsEntry.id),
            )
            .where(col(tables.PointsEntry.remaining) > 0, col(tables.PointsEntry.expires_at) <= now)
            .order_by(col(tables.PointsEntry.expires_at), col(tables.PointsEntry.id))
            .limit(limit)
        )
        return [(int(row[0]), int(row[1]), int(row[2] or 0)) for row in result]

    async def lots_expiring(self, start: datetime, end: datetime) -> list[ExpiringLot]:
        rows = await self.session.scalars(
            select(tables.PointsEntry)
            .where(
                col(tables.PointsEntry.remaining) > 0,
                col(tables.PointsEntry.expires_at) > start,
                col(tables.PointsEntry.expires_at) <= end,
            )
            .order_by(col(tables.PointsEntry.expires_at), col(tables.PointsEntry.id))
        )
        return [
            ExpiringLot(
                community_id=row.community_id,
                member_id=row.member_id,
                lot_id=int(row.id or 0),
                remaining=int(row.remaining or 0),
                expires_at=row.expires_at,  # type: ignore[arg-type]
            )
            for row in rows
        ]

    async def mark_reminded(self, lot_id: int, days_before: int, now: datetime) -> bool:
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, tables.PointsReminder),
            {"lot_id": lot_id, "days_before": days_before, "sent_at": now},
        )

    async def totals_by_kind(self, community_id: int) -> dict[str, int]:
        kind = col(tables.PointsEntry.kind)
        result = await self.session.execute(
            select(kind, func.sum(col(tables.PointsEntry.amount)))
            .where(col(tables.PointsEntry.community_id) == community_id)
            .group_by(kind)
        )
        return {str(row[0]): int(row[1] or 0) for row in result}

    async def outstanding(self, community_id: int) -> int:
        value = await self.session.scalar(
            select(func.coalesce(func.sum(col(tables.PointsBalance.balance)), 0)).where(
                col(tables.PointsBalance.community_id) == community_id
            )
        )
        return int(value or 0)

    async def credit_times(
        self, community_id: int, member_ids: Sequence[int], reason: str, since: datetime
    ) -> dict[int, list[datetime]]:
        times: dict[int, list[datetime]] = {}
        if not member_ids:
            return times
        result = await self.session.execute(
            select(col(tables.PointsEntry.member_id), col(tables.PointsEntry.created_at)).where(
                col(tables.PointsEntry.community_id) == community_id,
                col(tables.PointsEntry.member_id).in_(member_ids),
                col(tables.PointsEntry.reason) == reason,
                col(tables.PointsEntry.created_at) >= since,
            )
        )
        for member_id, at in result:
            times.setdefault(int(member_id), []).append(at)
        return times

    async def earned_by_members(
        self, community_id: int, member_ids: Sequence[int], since: datetime
    ) -> dict[int, int]:
        if not member_ids:
            return {}
        member = col(tables.PointsEntry.member_id)
        result = await self.session.execute(
            select(member, func.sum(col(tables.PointsEntry.amount)))
            .where(
                col(tables.PointsEntry.community_id) == community_id,
                member.in_(member_ids),
                self._credits(),
                col(tables.PointsEntry.created_at) >= since,
            )
            .group_by(member)
        )
        return {int(row[0]): int(row[1] or 0) for row in result}

    async def add_credits(self, entries: Sequence[NewEntry]) -> list[tuple[int, int, int]]:
        if not entries:
            return []
        rows = [
            {
                "community_id": entry.community_id,
                "member_id": entry.member_id,
                "kind": entry.kind.value,
                "amount": entry.amount,
                "reason": entry.reason[:255],
                "idempotency_key": entry.key[:200],
                "created_at": entry.at,
                "expires_at": entry.expires_at,
                "remaining": entry.amount,
                "actor_id": entry.actor_id,
            }
            for entry in entries
        ]
        statement = insert_ignoring_duplicates(self.dialect, tables.PointsEntry).returning(
            col(tables.PointsEntry.community_id),
            col(tables.PointsEntry.member_id),
            col(tables.PointsEntry.amount),
        )
        # SQLAlchemy's "insertmanyvalues": batched multi-row INSERT … RETURNING from one
        # cached statement; rows skipped by ON CONFLICT do not come back.
        result = await self.session.execute(statement, rows)
        return [(int(row[0]), int(row[1]), int(row[2])) for row in result]

    async def add_to_balances(
        self, community_id: int, amounts: Mapping[int, int], now: datetime
    ) -> None:
        rows = [
            {
                "community_id": community_id,
                "member_id": member,
                "balance": amount,
                "updated_at": now,
            }
            for member, amount in amounts.items()
            if amount > 0
        ]
        if not rows:
            return
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(_table(tables.PointsBalance))
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["community_id", "member_id"],
                set_={
                    "balance": _table(tables.PointsBalance).c.balance + statement.excluded.balance,
                    "updated_at": statement.excluded.updated_at,
                },
            ),
            rows,
        )
