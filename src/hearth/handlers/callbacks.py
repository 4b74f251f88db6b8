"""Callback data: short, versioned prefixes; parsed and validated, never trusted."""

from __future__ import annotations

import enum

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from hearth.domain.nudges import QUIET_HOURS_CHOICES
from hearth.domain.segments import ListKind
from hearth.services.export import ExportFormat, ExportKind

# Telegram chat ids fit in 52 bits; anything larger is forged and must never reach SQL.
CHAT_ID_LIMIT = 2**53
ROW_ID_LIMIT = 2**63 - 1  # a BIGINT: a larger number names no row and must not reach SQL


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


class SegmentsOf(CallbackData, prefix="sgo1"):
    """An operator asked for a community's members per stage and segment (/segments)."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)


class SegmentList(CallbackData, prefix="sgl1"):
    """A page of the members of one stage, segment or tag (a tag, or "#" and its digest)."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    kind: ListKind
    value: str = Field(min_length=1, max_length=32)
    page: int = Field(default=0, ge=0, le=9999)


class SegmentExport(CallbackData, prefix="sgx1"):
    """The members of one stage, segment or tag as a CSV file."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    kind: ListKind
    value: str = Field(min_length=1, max_length=32)


class TagsOf(CallbackData, prefix="tgo1"):
    """An operator asked for a community's tags (/tags)."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)


class ExportOf(CallbackData, prefix="exo1"):
    """An operator picked the community an /export is about."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    what: ExportKind
    file_format: ExportFormat


class ExportWithPhonesOf(ExportOf, prefix="exp1"):
    """The same, for an export the operator asked phone numbers for ("/export … phones")."""


class NudgeAction(enum.StrEnum):
    """What a button on a nudge does (short values: they travel in callback data)."""

    CHECKIN = "checkin"
    EVENT = "event"
    REWARDS = "rewards"
    QUIZ = "quiz"
    CLAIM = "claim"
    STOP = "stop"
    UNDO = "undo"


class NudgeTap(CallbackData, prefix="ng1"):
    """A member pressed a button on a nudge (or the "Undo" under "stopped")."""

    nudge_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    action: NudgeAction


class NudgeSetting(enum.StrEnum):
    ON = "on"
    OFF = "off"
    QUIET = "quiet"


class NudgeChoice(CallbackData, prefix="np1"):
    """A member changed their nudges in /settings: on, off, or quiet hours (``quiet`` is an
    index into ``QUIET_HOURS_CHOICES``)."""

    setting: NudgeSetting
    quiet: int = Field(default=0, ge=0, lt=len(QUIET_HOURS_CHOICES))
