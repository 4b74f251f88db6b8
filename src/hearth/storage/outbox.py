"""The outbox: every message the bot sends on its own initiative. The repository never commits.

A row is written in the transaction that decided the message, under a unique dedupe key,
so that a job that runs twice decides nothing twice. A worker first leases a batch of due
rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: several workers take different rows without
waiting for each other), then claims each row with one conditional ``UPDATE`` just before
sending it (two workers can never both win), and records the outcome right after. A lease
that runs out (its worker died or stopped) makes the row due again for everybody.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text, and_, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.delivery import (
    Method,
    OutboxCounts,
    OutboxStatus,
    OutgoingMessage,
    Priority,
    QueuedMessage,
)
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId

_ERROR_LENGTH = 500
# How long a worker keeps a batch of due rows to itself before others may take them.
DEFAULT_LEASE = timedelta(seconds=30)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (they are stored in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class OutboxRow(SQLModel, table=True):
    """One message to send; its dedupe key makes deciding it twice a no-op."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "not_before"),
        Index("ix_outbox_chat_status", "chat_id", "status"),
        Index("ix_outbox_community_status", "community_id", "status"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    dedupe_key: str = Field(max_length=200, unique=True)
    community_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    member_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(max_length=32)
    priority: int = Priority.BROADCAST.value
    method: str = Field(max_length=32)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # JSON of the Bot API call
    status: str = Field(default=OutboxStatus.QUEUED.value, max_length=16)
    attempts: int = 0
    not_before: datetime = _utc()
    not_after: datetime | None = _utc(default=None, nullable=True)  # deadline; None: none
    lease_until: datetime | None = _utc(default=None, nullable=True)  # a worker's batch
    created_at: datetime = _utc()
    claimed_at: datetime | None = _utc(default=None, nullable=True)
    sent_at: datetime | None = _utc(default=None, nullable=True)
    message_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    error: str | None = Field(default=None, max_length=_ERROR_LENGTH)


def _row_values(message: OutgoingMessage, now: datetime) -> dict[str, Any]:
    return {
        "dedupe_key": message.dedupe_key[:200],
        "community_id": message.community_id,
        "member_id": message.member_id,
        "chat_id": message.chat_id,
        "kind": message.kind[:32],
        "priority": int(message.priority),
        "method": message.method.value,
        "payload": json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")),
        "status": OutboxStatus.QUEUED.value,
        "attempts": 0,
        "not_before": message.not_before or now,
        "not_after": message.not_after,
        "created_at": now,
    }


def _queued(row: OutboxRow) -> QueuedMessage:
    assert row.id is not None
    return QueuedMessage(
        id=row.id,
        dedupe_key=row.dedupe_key,
        chat_id=row.chat_id,
        method=Method(row.method),
        payload=json.loads(row.payload),
        kind=row.kind,
        priority=Priority(row.priority),
        attempts=row.attempts,
        member_id=row.member_id,
        community_id=row.community_id,
        not_after=row.not_after,
    )


class SqlOutboxRepository(_Repository):
    async def add(self, message: OutgoingMessage, now: datetime) -> bool:
        """Queue a message unless its dedupe key is known; True when it was new."""
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, OutboxRow), _row_values(message, now)
        )

    async def replace_queued(self, message: OutgoingMessage, now: datetime) -> None:
        """Queue a message, or refresh the still-unsent one with the same key.

        For messages that only the latest version of matters (a card's live counts): many
        changes within a budget window become one edit.
        """
        values = _row_values(message, now)
        module = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(OutboxRow).values(**values)
        table = OutboxRow.__table__  # type: ignore[attr-defined]
        statement = statement.on_conflict_do_update(
            index_elements=["dedupe_key"],
            set_={"payload": statement.excluded.payload},
            where=table.c.status == OutboxStatus.QUEUED.value,
        )
        await self.session.execute(statement)

    async def due(
        self, now: datetime, limit: int, lease: timedelta = DEFAULT_LEASE
    ) -> list[QueuedMessage]:
        """Lease up to ``limit`` queued messages whose time has come, most urgent first.

        Rows another worker leased (and whose lease still runs) are skipped, and so are rows
        another worker is leasing at this moment (``SKIP LOCKED``; SQLite has one writer).
        """
        lease_until = col(OutboxRow.lease_until)
        batch = (
            select(col(OutboxRow.id))
            .where(
                col(OutboxRow.status) == OutboxStatus.QUEUED.value,
                col(OutboxRow.not_before) <= now,
                or_(lease_until.is_(None), lease_until <= now),
            )
            .order_by(col(OutboxRow.priority), col(OutboxRow.not_before), col(OutboxRow.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        rows = await self.session.scalars(
            update(OutboxRow)
            .where(col(OutboxRow.id).in_(batch.scalar_subquery()))
            .values(lease_until=now + lease)
            .returning(OutboxRow)
            .execution_options(synchronize_session=False)
        )
        leased = sorted(rows, key=lambda row: (row.priority, _aware(row.not_before), row.id))
        return [_queued(row) for row in leased]

    async def release(self, message_ids: Sequence[int]) -> None:
        """Give leased messages back (their chat was busy): due again for every worker."""
        if message_ids:
            await self.session.execute(
                update(OutboxRow)
                .where(
                    col(OutboxRow.id).in_(list(message_ids)),
                    col(OutboxRow.status) == OutboxStatus.QUEUED.value,
                )
                .values(lease_until=None)
                .execution_options(synchronize_session=False)
            )

    async def next_due_at(self) -> datetime | None:
        """When the earliest queued message becomes due, leases counted (None: nothing queued)."""
        not_before = col(OutboxRow.not_before)
        lease_until = col(OutboxRow.lease_until)
        due_at = case(
            (and_(lease_until.is_not(None), lease_until > not_before), lease_until),
            else_=not_before,
        )
        earliest = await self.session.scalar(
            select(func.min(due_at)).where(col(OutboxRow.status) == OutboxStatus.QUEUED.value)
        )
        return None if earliest is None else _aware(earliest)

    async def claim(self, message_id: int, now: datetime) -> bool:
        """Take a queued message for sending; False when another worker took it first or
        its deadline has passed."""
        not_after = col(OutboxRow.not_after)
        result = await self.session.execute(
            update(OutboxRow)
            .where(
                col(OutboxRow.id) == message_id,
                col(OutboxRow.status) == OutboxStatus.QUEUED.value,
                or_(not_after.is_(None), not_after > now),
            )
            .values(
                status=OutboxStatus.SENDING.value,
                claimed_at=now,
                attempts=col(OutboxRow.attempts) + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def sent(self, message_id: int, now: datetime, telegram_message_id: int | None) -> None:
        await self._set(
            message_id,
            status=OutboxStatus.SENT.value,
            sent_at=now,
            message_id=telegram_message_id,
            error=None,
        )

    async def retry(self, message_id: int, not_before: datetime, error: str) -> None:
        """Put a claimed message back in the queue, to be tried again from ``not_before``."""
        await self._set(
            message_id,
            status=OutboxStatus.QUEUED.value,
            not_before=not_before,
            lease_until=None,
            error=error[:_ERROR_LENGTH],
        )

    async def give_up(self, message_id: int, status: OutboxStatus, error: str) -> None:
        await self._set(message_id, status=status.value, error=error[:_ERROR_LENGTH])

    async def expire(self, message_id: int, now: datetime) -> bool:
        """Settle a queued message whose deadline has passed as expired, unsent; False when
        it was not queued any more or is still in time."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(
                col(OutboxRow.id) == message_id,
                col(OutboxRow.status) == OutboxStatus.QUEUED.value,
                col(OutboxRow.not_after) <= now,
            )
            .values(
                status=OutboxStatus.EXPIRED.value, error="its deadline passed before it could go"
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def block_chat(self, chat_id: int, error: str) -> int:
        """Stop every queued message to a chat that refused us (403). Returns how many."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(
                col(OutboxRow.chat_id) == chat_id,
                col(OutboxRow.status) == OutboxStatus.QUEUED.value,
            )
            .values(status=OutboxStatus.BLOCKED.value, error=error[:_ERROR_LENGTH])
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def interrupt_stale(self, claimed_before: datetime) -> int:
        """Settle messages a dead worker was sending: they are not sent again."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(
                col(OutboxRow.status) == OutboxStatus.SENDING.value,
                or_(
                    col(OutboxRow.claimed_at).is_(None),
                    col(OutboxRow.claimed_at) < claimed_before,
                ),
            )
            .values(
                status=OutboxStatus.INTERRUPTED.value,
                error="the worker stopped while sending; not repeated to avoid a duplicate",
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    async def counts(self, community_id: int | None = None) -> OutboxCounts:
        """Messages per state (of one community, or all), the oldest waiting, common errors."""
        scope = [] if community_id is None else [col(OutboxRow.community_id) == community_id]
        by_status = {
            OutboxStatus(status): count
            for status, count in await self.session.execute(
                select(col(OutboxRow.status), func.count())
                .where(*scope)
                .group_by(col(OutboxRow.status))
            )
        }
        oldest = await self.session.scalar(
            select(func.min(OutboxRow.created_at)).where(
                *scope, col(OutboxRow.status) == OutboxStatus.QUEUED.value
            )
        )
        errors: Sequence[Any] = (
            await self.session.execute(
                select(col(OutboxRow.kind), col(OutboxRow.error), func.count())
                .where(
                    *scope,
                    col(OutboxRow.status).in_(
                        [OutboxStatus.FAILED.value, OutboxStatus.BLOCKED.value]
                    ),
                )
                .group_by(col(OutboxRow.kind), col(OutboxRow.error))
                .order_by(func.count().desc())
                .limit(5)
            )
        ).all()
        return OutboxCounts(
            by_status=by_status,
            oldest_queued=oldest,
            recent_errors=tuple((kind, error or "", count) for kind, error, count in errors),
        )

    async def status_of(self, dedupe_key: str) -> OutboxStatus | None:
        status = await self.session.scalar(
            select(col(OutboxRow.status)).where(col(OutboxRow.dedupe_key) == dedupe_key)
        )
        return OutboxStatus(status) if status is not None else None

    async def _set(self, outbox_id: int, **values: Any) -> None:
        await self.session.execute(
            update(OutboxRow)
            .where(col(OutboxRow.id) == outbox_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
