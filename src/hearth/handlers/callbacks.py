"""Callback data: short, versioned prefixes; parsed and validated, never trusted."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Telegram chat ids fit in 52 bits; anything larger is forged and must never reach SQL.
CHAT_ID_LIMIT = 2**53


class LanguageChoice(CallbackData, prefix="lang1"):
    """A member picked a language in /settings."""

    locale: str


class StatsChoice(CallbackData, prefix="stats1"):
    """An operator picked which community /stats should describe."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    days: int


class CommunityChoice(CallbackData, prefix="cc1"):
    """A member picked which community a private command is about."""

    action: str  # checkin | points | top_week | top_month | top_all
    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)


class AdjustmentAnswer(CallbackData, prefix="adj1"):
    """An operator confirmed or cancelled a pending grant or deduction."""

    nonce: str = Field(min_length=6, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    confirmed: bool
