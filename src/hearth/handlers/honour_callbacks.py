"""Honour boards' buttons: callback data (short, versioned prefixes) and keyboards."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.honour import HonourMetric
from hearth.handlers.callbacks import ROW_ID_LIMIT

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class BoardOf(CallbackData, prefix="hn1b"):
    """Someone asked for a metric's board of one month."""

    metric_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    month: str = Field(pattern=MONTH)


class ReportDecision(CallbackData, prefix="hn1d"):
    """An operator approved or rejected a member's report."""

    report_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    approve: bool


def board_buttons(boards: Sequence[tuple[HonourMetric, str]]) -> InlineKeyboardMarkup | None:
    """One button per (metric, month): the metric's board of that month; None for none."""
    if not boards:
        return None
    builder = InlineKeyboardBuilder()
    for metric, month in boards:
        builder.button(
            text=f"🏆 {metric.name}", callback_data=BoardOf(metric_id=metric.id, month=month)
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def decision_buttons(report_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("✓ Approve"), callback_data=ReportDecision(report_id=report_id, approve=True)
    )
    builder.button(
        text=_("✗ Reject"), callback_data=ReportDecision(report_id=report_id, approve=False)
    )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(2).export())
