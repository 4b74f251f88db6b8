"""Start payloads of deep links (t.me/<bot>?start=<payload>)."""

from __future__ import annotations

import re

# Telegram allows [A-Za-z0-9_-], at most 64 characters.
# Canonical (no leading zeros) and within Telegram's 52-bit chat ids, so it fits a BIGINT.
_COMMUNITY_PAYLOAD = re.compile(r"c(-?[1-9][0-9]{0,15})")
# A member's invite: the community, then the member who shares it.
_REFERRAL_PAYLOAD = re.compile(r"r(-?[1-9][0-9]{0,15})_([1-9][0-9]{0,15})")
# A channel's link (a dealer's, a store's): the community, then the channel.
_CHANNEL_PAYLOAD = re.compile(r"k(-?[1-9][0-9]{0,15})_([1-9][0-9]{0,15})")


def community_payload(community_id: int) -> str:
    """The start payload that links a member to a community."""
    return f"c{community_id}"


def parse_community_payload(payload: str | None) -> int | None:
    """The community id in a start payload, or None when the payload is not a community link."""
    if not payload:
        return None
    match = _COMMUNITY_PAYLOAD.fullmatch(payload.strip())
    return int(match.group(1)) if match else None


def referral_payload(community_id: int, member_id: int) -> str:
    """The start payload of a member's personal invite to a community."""
    return f"r{community_id}_{member_id}"


def parse_referral_payload(payload: str | None) -> tuple[int, int] | None:
    """(community id, inviting member id) of an invite's payload, or None for another one."""
    if not payload:
        return None
    match = _REFERRAL_PAYLOAD.fullmatch(payload.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def channel_payload(community_id: int, channel_id: int) -> str:
    """The start payload of a channel's link to a community (its QR code holds it too)."""
    return f"k{community_id}_{channel_id}"


def parse_channel_payload(payload: str | None) -> tuple[int, int] | None:
    """(community id, channel id) of a channel link's payload, or None for another one."""
    if not payload:
        return None
    match = _CHANNEL_PAYLOAD.fullmatch(payload.strip())
    return (int(match.group(1)), int(match.group(2))) if match else None


def start_link(bot_username: str, payload: str) -> str:
    """A t.me deep link that opens a private chat with the bot and sends /start <payload>."""
    return f"https://t.me/{bot_username}?start={payload}"
