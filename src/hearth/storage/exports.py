"""What the export files read besides members: activity, the points ledger and the events of
a community, streamed in batches so that a file of millions of rows never sits in memory
as rows. It never writes and never commits.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Row, Select, select
from sqlmodel import col

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.events import Event
from hearth.domain.exports import LedgerEntry
from hearth.domain.points import EntryKind
from hearth.storage import tables
from hearth.storage.events import _EVENT_COLUMNS, EventRow, _event
from hearth.storage.repositories import _as_date, _Repository


class SqlExportRepository(_Repository):
    """A community's activity, ledger and events, as export rows."""

    async def activity(self, community_id: int, size: int) -> AsyncIterator[list[ActivityRecord]]:
        """Every activity row of the community, oldest first, ``size`` rows at a time."""
        activity = tables.Activity
        statement = (
            select(
                col(activity.member_id),
                col(activity.kind),
                col(activity.occurred_at),
                col(activity.local_day),
            )
            .where(col(activity.community_id) == community_id)
            .order_by(col(activity.occurred_at), col(activity.id))
        )
        async for rows in self._stream(statement, size):
            yield [
                ActivityRecord(
                    community_id=community_id,
                    member_id=int(member_id),
                    kind=ActivityKind(kind),
                    occurred_at=occurred_at,
                    local_day=_as_date(local_day),
                )
                for member_id, kind, occurred_at, local_day in rows
            ]

    async def ledger(self, community_id: int, size: int) -> AsyncIterator[list[LedgerEntry]]:
        """Every points ledger entry of the community, in the order written."""
        entry = tables.PointsEntry
        statement = (
            select(
                col(entry.id),
                col(entry.member_id),
                col(entry.kind),
                col(entry.amount),
                col(entry.reason),
                col(entry.created_at),
                col(entry.expires_at),
                col(entry.remaining),
                col(entry.actor_id),
            )
            .where(col(entry.community_id) == community_id)
            .order_by(col(entry.id))
        )
        async for rows in self._stream(statement, size):
            yield [
                LedgerEntry(
                    id=int(entry_id),
                    member_id=int(member_id),
                    kind=EntryKind(kind),
                    amount=int(amount),
                    reason=str(reason),
                    created_at=created_at,
                    expires_at=expires_at,
                    remaining=None if remaining is None else int(remaining),
                    actor_id=None if actor_id is None else int(actor_id),
                )
                for (
                    entry_id, member_id, kind, amount, reason, created_at, expires_at, remaining,
                    actor_id,
                ) in rows
            ]  # fmt: skip

    async def events(self, community_id: int) -> list[Event]:
        """Every event of the community, cancelled ones too, by start."""
        result = await self.session.execute(
            select(*_EVENT_COLUMNS)
            .where(col(EventRow.community_id) == community_id)
            .order_by(col(EventRow.starts_at), col(EventRow.id))
        )
        return [_event(row) for row in result]

    async def _stream(
        self, statement: Select[*tuple[Any, ...]], size: int
    ) -> AsyncIterator[list[Row[*tuple[Any, ...]]]]:
        """The statement's rows through one cursor, ``size`` at a time."""
        result = await self.session.stream(statement.execution_options(yield_per=size))
        async for partition in result.partitions(size):
            yield list(partition)
