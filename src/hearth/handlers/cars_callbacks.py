"""The buttons of /car, of maintenance reminders and of /service_requests: callback data
(short, versioned prefixes, validated) and the keyboards that carry them."""

from __future__ import annotations

import enum
from datetime import date

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import Field

from hearth.domain.cars import CarField, ServiceSettings
from hearth.handlers import cars_texts as words
from hearth.handlers.callbacks import CHAT_ID_LIMIT, ROW_ID_LIMIT
from hearth.services.cars import CarView, RequestsPage

_LAST_DAY = date.max.toordinal()


class CarEdit(CallbackData, prefix="car1"):
    """A member's /car button: type ``field`` anew, or clear it."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    field: CarField
    clear: bool = False


class ServiceAction(enum.StrEnum):
    """What a maintenance reminder's button does (short values: they travel in data)."""

    BOOK = "b"  # ask the team to book a service (no booking link configured)
    SNOOZE = "s"  # remind me in two weeks
    STOP = "x"  # no more maintenance reminders
    RESUME = "o"  # reminders back on (from /car)


class ServiceTap(CallbackData, prefix="sv1"):
    """A press on a maintenance reminder (or the switch in /car). ``member_id`` is whom it
    was sent to: nobody else may press it. ``due`` is the reminder's due day (an ordinal;
    0 for the switch)."""

    action: ServiceAction
    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    member_id: int = Field(ge=1, le=CHAT_ID_LIMIT)
    due: int = Field(default=0, ge=0, le=_LAST_DAY)

    @property
    def due_on(self) -> date | None:
        return date.fromordinal(self.due) if self.due else None


class ServiceRequestDone(CallbackData, prefix="sr1"):
    """An operator marked a service request done in /service_requests."""

    request_id: int = Field(ge=1, le=ROW_ID_LIMIT)


class ServiceRequestPage(CallbackData, prefix="srp1"):
    """A page of a community's open service requests."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    page: int = Field(default=0, ge=0, le=9999)


def card_buttons(shown: CarView, member_id: int) -> InlineKeyboardMarkup:
    """A row per field (set or change it, and clear it when it holds something), then
    the reminders' switch."""
    community_id = shown.community.id
    rows: list[list[InlineKeyboardButton]] = []
    for which in CarField:
        row = [
            InlineKeyboardButton(
                text=words.set_button(which),
                callback_data=CarEdit(community_id=community_id, field=which).pack(),
            )
        ]
        if words.holds(shown, which):
            row.append(
                InlineKeyboardButton(
                    text=words.clear_button(),
                    callback_data=CarEdit(
                        community_id=community_id, field=which, clear=True
                    ).pack(),
                )
            )
        rows.append(row)
    on = shown.profile.reminders_on
    rows.append(
        [
            InlineKeyboardButton(
                text=words.reminders_button(on),
                callback_data=ServiceTap(
                    action=ServiceAction.STOP if on else ServiceAction.RESUME,
                    community_id=community_id,
                    member_id=member_id,
                ).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def reminder_buttons(
    community_id: int,
    member_id: int,
    due_on: date,
    settings: ServiceSettings,
    *,
    snoozes_left: bool,
) -> InlineKeyboardMarkup:
    """Book (the community's link, or a request to its team), snooze while allowed, stop."""
    builder = InlineKeyboardBuilder()

    def tap(action: ServiceAction) -> str:
        return ServiceTap(
            action=action, community_id=community_id, member_id=member_id, due=due_on.toordinal()
        ).pack()

    if settings.booking_url is not None:
        builder.button(text=words.book_button(), url=settings.booking_url)
    else:
        builder.button(text=words.book_button(), callback_data=tap(ServiceAction.BOOK))
    if snoozes_left:
        builder.button(text=words.snooze_button(), callback_data=tap(ServiceAction.SNOOZE))
    builder.button(text=words.stop_button(), callback_data=tap(ServiceAction.STOP))
    return InlineKeyboardMarkup(inline_keyboard=builder.adjust(1).export())


def requests_buttons(page: RequestsPage) -> InlineKeyboardMarkup | None:
    """A Done button per open request, then the pages."""
    rows = [
        [
            InlineKeyboardButton(
                text=words.done_button(line.request.id),
                callback_data=ServiceRequestDone(request_id=line.request.id).pack(),
            )
        ]
        for line in page.lines
    ]
    turns = []
    for label, target in (("‹", page.page - 1), ("›", page.page + 1)):
        if 0 <= target < page.pages:
            turns.append(
                InlineKeyboardButton(
                    text=label,
                    callback_data=ServiceRequestPage(
                        community_id=page.community.id, page=target
                    ).pack(),
                )
            )
    if turns:
        rows.append(turns)
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
