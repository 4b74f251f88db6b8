"""Rows of the files operators export that no other feature reads in this shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from hearth.domain.points import EntryKind


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One points ledger entry as an export lists it; times in UTC."""

    id: int
    member_id: int
    kind: EntryKind
    amount: int  # positive for credits, negative for debits
    reason: str
    created_at: datetime
    expires_at: datetime | None  # credits only
    remaining: int | None  # credits only: what is left to spend
    actor_id: int | None  # the operator who granted or deducted


@dataclass(frozen=True, slots=True)
class ConversionEntry:
    """One imported conversion as an export lists it; ``phone`` only in an export the
    operator asked phone numbers for (None otherwise, and when the member shared none)."""

    member_id: int
    name: str  # first and last name; only the anonymised first name of a forgotten member
    kind: str  # a ConversionKind
    occurred_on: date
    amount_minor: int
    key: str
    phone: str | None = None
