"""Callback data: short, versioned prefixes; parsed and validated, never trusted."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class LanguageChoice(CallbackData, prefix="lang1"):
    """A member picked a language in /settings."""

    locale: str


class StatsChoice(CallbackData, prefix="stats1"):
    """An operator picked which community /stats should describe."""

    community_id: int
    days: int
