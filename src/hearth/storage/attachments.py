"""Files the bot sends later through the outbox (digest charts): kept in the database, so
that any worker can send them and a restart loses none. Never commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary
from sqlmodel import Field, SQLModel

from hearth.storage.types import BigId, UTCDateTime


class AttachmentRow(SQLModel, table=True):
    """A file's bytes, its name and when it was made (old ones are purged)."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_created", "created_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    filename: str = Field(max_length=128)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
