"""The lucky draws' buttons: callback data (short, versioned prefixes) and keyboards.

An Enter button carries only the draw's number: who pressed it, whether they belong to
the draw's community and may enter, is checked on every press.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.draws import Draw
from hearth.domain.members import CommunityProfile
from hearth.handlers import draws_texts
from hearth.handlers.callbacks import CHAT_ID_LIMIT, ROW_ID_LIMIT
from hearth.handlers.rewards_callbacks import NONCE


class DrawEnter(CallbackData, prefix="dw1e"):
    """A member pressed Enter under a draw (in the group, or in /draws)."""

    draw_id: int = Field(ge=1, le=ROW_ID_LIMIT)


class NewDrawFor(CallbackData, prefix="dw1n"):
    """An operator of several communities picked where /draw_new belongs."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    nonce: str = Field(pattern=NONCE)


def enter_button(draw: Draw) -> InlineKeyboardMarkup:
    """The Enter button under a draw's announcement."""
    builder = InlineKeyboardBuilder()
    builder.button(text=draws_texts.enter_label(draw), callback_data=DrawEnter(draw_id=draw.id))
    return InlineKeyboardMarkup(inline_keyboard=builder.export())


def enter_buttons(draws: Sequence[Draw]) -> InlineKeyboardMarkup | None:
    """One Enter button per draw the member can still enter; None when there is none."""
    if not draws:
        return None
    builder = InlineKeyboardBuilder()
    for draw in draws:
        builder.button(
            text=draws_texts.enter_listed_label(draw), callback_data=DrawEnter(draw_id=draw.id)
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def new_draw_picker(communities: Sequence[CommunityProfile], nonce: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for community in communities:
        builder.button(
            text=community.title[:60],
            callback_data=NewDrawFor(community_id=community.id, nonce=nonce),
        )
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())
