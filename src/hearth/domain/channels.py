"""Channels: dealers, stores and partners that bring members to a community.

Each channel has its own invite link (and QR code). Opening it is a *touch*; a member is
attributed to the channel of their first touch, later touches are kept as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Channel:
    """A dealer, store or partner of a community. ``contact_id``: the member given a
    read-only view of this channel's own figures, if any."""

    id: int
    community_id: int
    name: str
    created_at: datetime
    contact_id: int | None = None
    archived: bool = False


@dataclass(frozen=True, slots=True)
class ChannelTouch:
    """Someone opened a channel's link (or joined through it)."""

    community_id: int
    member_id: int
    channel_id: int
    touched_at: datetime
