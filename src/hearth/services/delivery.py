"""What the delivery engine has done and has still to do, for operators."""

from __future__ import annotations

from hearth.domain.delivery import OutboxCounts
from hearth.services.ports import UnitOfWork


async def outbox_summary(uow: UnitOfWork, community_id: int | None = None) -> OutboxCounts:
    """Messages queued, sent, failed… for one community (or every message, when None)."""
    return await uow.outbox.counts(community_id)
