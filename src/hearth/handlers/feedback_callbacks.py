"""The feedback box's buttons: callback data (short, versioned prefixes) and keyboards."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.members import CommunityProfile
from hearth.handlers.callbacks import CHAT_ID_LIMIT, ROW_ID_LIMIT
from hearth.handlers.rewards_callbacks import NONCE
from hearth.handlers.segments_keyboards import community_picker
from hearth.services.feedback import Inbox


class FeedbackFor(CallbackData, prefix="fb1f"):
    """A member of several communities picked whose team their feedback is for."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    nonce: str = Field(pattern=NONCE)


class InboxPage(CallbackData, prefix="fb1p"):
    """An operator turned a page of /inbox."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    page: int = Field(ge=0, le=9999)


class ItemAction(enum.StrEnum):
    REPLY = "r"
    CLOSE = "c"
    PHOTO = "p"


class FeedbackAct(CallbackData, prefix="fb1a"):
    """An operator pressed Reply, Close or the photo of an item in /inbox."""

    item_id: int = Field(ge=1, le=ROW_ID_LIMIT)
    action: ItemAction


def community_choice(communities: Sequence[CommunityProfile], nonce: str) -> InlineKeyboardMarkup:
    """One button per community of the member: whose team the feedback goes to."""
    return community_picker(
        [(each, FeedbackFor(community_id=each.id, nonce=nonce)) for each in communities]
    )


def inbox_buttons(inbox: Inbox) -> InlineKeyboardMarkup | None:
    """Reply / Close (and the photo) for each listed item, then the pages; None when empty."""
    if not inbox.lines:
        return None
    builder = InlineKeyboardBuilder()
    widths: list[int] = []
    for line in inbox.lines:
        number = line.item.id
        builder.button(
            text=_("✍️ Reply #{number}").format(number=number),
            callback_data=FeedbackAct(item_id=number, action=ItemAction.REPLY),
        )
        builder.button(
            text=_("✓ Close #{number}").format(number=number),
            callback_data=FeedbackAct(item_id=number, action=ItemAction.CLOSE),
        )
        if line.item.photo is not None:
            builder.button(
                text=f"📷 #{number}",
                callback_data=FeedbackAct(item_id=number, action=ItemAction.PHOTO),
            )
        widths.append(3 if line.item.photo is not None else 2)
    pages = []
    if inbox.page > 0:
        pages.append((_("‹ Newer"), inbox.page - 1))
    if inbox.page + 1 < inbox.pages:
        pages.append((_("Older ›"), inbox.page + 1))
    for label, page in pages:
        builder.button(
            text=label, callback_data=InboxPage(community_id=inbox.community.id, page=page)
        )
    if pages:
        widths.append(len(pages))
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(*widths).export())
