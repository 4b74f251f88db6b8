"""Conversions: business events (service visits, purchases, trade-ins) a community's business
reports about its members, imported from a file. They close the loop from taking part to
buying: attribution compares members who took part with comparable members who did not.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class ConversionKind(enum.StrEnum):
    """What the member did at the business."""

    SERVICE = "service"  # a visit to the service workshop
    PURCHASE = "purchase"  # bought a car (or another product)
    TRADE_IN = "trade_in"  # traded their car in for a new one


@dataclass(frozen=True, slots=True)
class Conversion:
    """One business event of one member, as imported.

    ``amount_minor`` is in the currency's minor unit (cents, fen): 1234.50 is 123450.
    ``key`` is the idempotency key of the row within its community (the file's own
    reference when it has one, else a digest of the row), so a re-import adds nothing.
    """

    community_id: int
    member_id: int
    kind: ConversionKind
    occurred_on: date
    amount_minor: int
    key: str
    id: int | None = None
