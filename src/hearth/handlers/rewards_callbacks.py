"""The rewards store's buttons: callback data (short, versioned prefixes) and keyboards.

A redemption's Confirm button is signed with a key derived from the bot's token and bound
to the member it was shown to: a forged or copied button is refused before it reaches a
service. Its nonce is the redemption's idempotency key, so pressing it twice redeems once.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.members import CommunityProfile
from hearth.domain.rewards import RedemptionLine, Reward
from hearth.handlers.callbacks import CHAT_ID_LIMIT

ROW_ID_LIMIT = 2**63 - 1  # a BIGINT: anything larger is forged and must never reach SQL
NONCE = r"^[A-Za-z0-9_-]{8}$"
SIGNATURE = r"^[A-Za-z0-9_-]{12}$"


class RewardPick(CallbackData, prefix="rw1p"):
    """A member tapped a reward in /rewards."""

    reward_id: int = Field(ge=1, le=ROW_ID_LIMIT)


class RedeemConfirm(CallbackData, prefix="rw1c"):
    """A member confirmed a redemption; signed for the member it was shown to."""

    reward_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    nonce: str = Field(pattern=NONCE)
    signature: str = Field(pattern=SIGNATURE)


class RedeemKeep(CallbackData, prefix="rw1k"):
    """A member changed their mind on the confirmation."""

    reward_id: int = Field(ge=1, le=ROW_ID_LIMIT)


class NewRewardFor(CallbackData, prefix="rw1n"):
    """An operator of several communities picked where /reward_new belongs."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    nonce: str = Field(pattern=NONCE)


class Settlement(enum.StrEnum):
    FULFIL = "f"
    CANCEL = "c"


class SettleRedemption(CallbackData, prefix="rw1s"):
    """An operator fulfilled or cancelled a redemption in /redemptions."""

    redemption_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    action: Settlement


# -- signing


def new_nonce() -> str:
    """Eight URL-safe characters (48 random bits)."""
    return secrets.token_urlsafe(6)


def _signature(secret: str, member_id: int, reward_id: int, nonce: str) -> str:
    key = hashlib.sha256(secret.encode()).digest()
    mac = hmac.new(key, f"{member_id}:{reward_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:9]).decode()  # 12 characters, no padding


def confirmation(secret: str, member_id: int, reward_id: int) -> RedeemConfirm:
    """A fresh Confirm button for ``member_id``; ``secret`` is the bot's token."""
    nonce = new_nonce()
    return RedeemConfirm(
        reward_id=reward_id, nonce=nonce, signature=_signature(secret, member_id, reward_id, nonce)
    )


def is_genuine(data: RedeemConfirm, secret: str, member_id: int) -> bool:
    """Whether the bot made this button, for this member."""
    expected = _signature(secret, member_id, data.reward_id, data.nonce)
    return hmac.compare_digest(expected, data.signature)


def redemption_key(member_id: int, data: RedeemConfirm) -> str:
    """The idempotency key of the redemption one Confirm button asks for."""
    return f"{member_id}:{data.reward_id}:{data.nonce}"


# -- keyboards


def reward_buttons(rewards: Sequence[Reward]) -> InlineKeyboardMarkup | None:
    """One button per redeemable reward; None when there is none."""
    if not rewards:
        return None
    builder = InlineKeyboardBuilder()
    for reward in rewards:
        builder.button(
            text=_("🎁 {title} · {cost}").format(title=reward.title[:48], cost=reward.cost),
            callback_data=RewardPick(reward_id=reward.id),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def confirm_or_keep(confirm: RedeemConfirm) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Redeem"), callback_data=confirm)
    builder.button(text=_("Not now"), callback_data=RedeemKeep(reward_id=confirm.reward_id))
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export())


def new_reward_picker(communities: Sequence[CommunityProfile], nonce: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for community in communities:
        builder.button(
            text=community.title[:60],
            callback_data=NewRewardFor(community_id=community.id, nonce=nonce),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def settle_buttons(lines: Sequence[RedemptionLine]) -> InlineKeyboardMarkup | None:
    """Fulfil / Cancel for each listed redemption; None when nothing is pending."""
    if not lines:
        return None
    builder = InlineKeyboardBuilder()
    for line in lines:
        number = line.redemption.id
        builder.button(
            text=_("✓ Fulfil #{number}").format(number=number),
            callback_data=SettleRedemption(redemption_id=number, action=Settlement.FULFIL),
        )
        builder.button(
            text=_("✗ Cancel #{number}").format(number=number),
            callback_data=SettleRedemption(redemption_id=number, action=Settlement.CANCEL),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export())
