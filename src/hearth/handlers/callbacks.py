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
