"""Files the bot sends later through the outbox (digest charts): kept in the database, so
that any worker can send them and a restart loses none. Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, delete, insert, select
from sqlmodel import Field, SQLModel, col

from hearth.storage.repositories import _Repository, _table
from hearth.storage.types import BigId, UTCDateTime


class AttachmentRow(SQLModel, table=True):
    """A file's bytes, its name and when it was made (old ones are purged)."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_created", "created_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    filename: str = Field(max_length=128)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)


class SqlAttachmentRepository(_Repository):
    """Stores files for outbox messages that refer to them by id."""

    async def add(self, filename: str, content: bytes, now: datetime) -> int:
        """Store a file; its id, for an outbox payload's ``attachment``."""
        if len(filename) > 128:
            raise ValueError(f"attachment file name longer than 128 characters: {filename!r}")
        table = _table(AttachmentRow)
        new_id = await self.session.scalar(
            insert(table)
            .values(filename=filename, content=content, created_at=now)
            .returning(table.c.id)
        )
        assert new_id is not None
        return int(new_id)

    async def get(self, attachment_id: int) -> tuple[str, bytes] | None:
        """A stored file's name and bytes; None once it was purged."""
        row = (
            await self.session.execute(
                select(col(AttachmentRow.filename), col(AttachmentRow.content)).where(
                    col(AttachmentRow.id) == attachment_id
                )
            )
        ).first()
        return None if row is None else (str(row[0]), bytes(row[1]))

    async def purge(self, before: datetime) -> int:
        """Delete files made before ``before``; how many went."""
        result = await self.session.execute(
            delete(AttachmentRow).where(col(AttachmentRow.created_at) < before)
        )
        return int(getattr(result, "rowcount", 0))
