"""The outbox: every message the bot sends on its own initiative. The repository never commits.

A row is written in the transaction that decided the message, under a unique dedupe key,
so that a job that runs twice decides nothing twice. Workers claim a row with one
conditional ``UPDATE`` just before sending it (two workers can never both win), and record
the outcome right after.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index, Text, func, or_, select, update
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

    async def due(self, now: datetime, limit: int) -> list[QueuedMessage]:
        """Queued messages whose time has come, most urgent first."""
        rows = await self.session.scalars(
            select(OutboxRow)
            .where(
                col(OutboxRow.status) == OutboxStatus.QUEUED.value,
                col(OutboxRow.not_before) <= now,
            )
            .order_by(col(OutboxRow.priority), col(OutboxRow.not_before), col(OutboxRow.id))
            .limit(limit)
        )
        return [_queued(row) for row in rows]

    async def next_due_at(self) -> datetime | None:
        """When the earliest queued message becomes due (None: nothing queued)."""
        return await self.session.scalar(
            select(func.min(OutboxRow.not_before)).where(
                col(OutboxRow.status) == OutboxStatus.QUEUED.value
            )
        )

    async def claim(self, message_id: int, now: datetime) -> bool:
        """Take a queued message for sending; False when another worker took it first."""
        result = await self.session.execute(
            update(OutboxRow)
            .where(
                col(OutboxRow.id) == message_id,
                col(OutboxRow.status) == OutboxStatus.QUEUED.value,
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
            error=error[:_ERROR_LENGTH],
        )

    async def give_up(self, message_id: int, status: OutboxStatus, error: str) -> None:
        await self._set(message_id, status=status.value, error=error[:_ERROR_LENGTH])

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
