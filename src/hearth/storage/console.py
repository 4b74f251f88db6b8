"""One-time sign-in links of the operator console. Never commits.

A link names a nonce; the first visit uses it (``used_at``), every later one is refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, String, delete, update
from sqlmodel import Field, SQLModel, col

from hearth.storage.repositories import _Repository
from hearth.storage.types import UTCDateTime


class ConsoleLinkRow(SQLModel, table=True):
    """A sign-in link an operator asked for with /console."""

    __tablename__ = "console_link"

    nonce: str = Field(sa_column=Column(String(32), primary_key=True))
    operator_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)


class SqlConsoleLinkRepository(_Repository):
    """The console's sign-in links."""

    async def add(self, nonce: str, operator_id: int, now: datetime, expires_at: datetime) -> None:
        self.session.add(
            ConsoleLinkRow(
                nonce=nonce, operator_id=operator_id, created_at=now, expires_at=expires_at
            )
        )
        await self.session.flush()

    async def use(self, nonce: str, operator_id: int, now: datetime) -> bool:
        """Use the link once: False when it is unknown, someone else's, expired or used."""
        result = await self.session.execute(
            update(ConsoleLinkRow)
            .where(
                col(ConsoleLinkRow.nonce) == nonce,
                col(ConsoleLinkRow.operator_id) == operator_id,
                col(ConsoleLinkRow.used_at).is_(None),
                col(ConsoleLinkRow.expires_at) > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def prune(self, before: datetime) -> int:
        """Forget links that expired before ``before``."""
        result = await self.session.execute(
            delete(ConsoleLinkRow).where(col(ConsoleLinkRow.expires_at) < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
