"""/phone: a member shares their own phone number, so that the club can match the dealer's
service and purchase records to their membership; ``/phone off`` deletes it.

The number is taken only from Telegram's shared-contact message of that very member (the
button under /phone): a forwarded contact, someone else's card or a card without an account
is refused and nothing is stored (``services/contacts``).
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove

from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.phones import ContactRefused
from hearth.handlers import phone_texts as words
from hearth.handlers.filters import InGroup, InPrivate
from hearth.handlers.personal import start_link_markup
from hearth.services import contacts
from hearth.services.ports import Clock, UnitOfWork


class PhoneDialog(StatesGroup):
    asked = State()  # the share button is on screen


class SharedContact(Filter):
    """A message carrying a contact card (async: kept off aiogram's filter thread)."""

    async def __call__(self, message: Message) -> bool:
        return message.contact is not None


class PlainText(Filter):
    """A text that is not a command (the keyboard's cancel button, or anything typed)."""

    async def __call__(self, message: Message) -> bool:
        return message.text is not None and not message.text.startswith("/")


def build() -> Router:
    router = Router(name="phone")
    router.message.register(phone, Command("phone"), InPrivate())
    router.message.register(in_group, Command("phone"), InGroup())
    router.message.register(contact_shared, SharedContact(), InPrivate())
    router.message.register(cancelled, PhoneDialog.asked, PlainText(), InPrivate())
    return router


def share_keyboard() -> ReplyKeyboardMarkup:
    """The share button (Telegram sends the member's own contact) and a cancel button."""
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=words.share_button(), request_contact=True)],
            [KeyboardButton(text=words.cancel_button())],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


async def phone(
    message: Message,
    command: CommandObject,
    person: Person | None,
    uow: UnitOfWork,
    state: FSMContext,
) -> None:
    if person is None:
        return
    argument = (command.args or "").strip().lower()
    if argument == "off":
        gone = await contacts.forget_phone(uow, person.id)
        await state.clear()
        await message.answer(
            words.deleted() if gone else words.none_to_delete(), reply_markup=ReplyKeyboardRemove()
        )
        return
    if argument:
        raise InvalidArgument(words.usage())
    current = await contacts.phone_of(uow, person.id)
    await state.set_state(PhoneDialog.asked)
    await message.answer(words.explanation(current), reply_markup=share_keyboard())


async def contact_shared(
    message: Message, person: Person | None, uow: UnitOfWork, state: FSMContext, clock: Clock
) -> None:
    assert message.contact is not None
    if person is None:
        return
    await state.clear()
    try:
        shared = await contacts.share_phone(
            uow,
            member_id=person.id,
            contact_user_id=message.contact.user_id,
            relayed=message.forward_origin is not None or message.via_bot is not None,
            phone=message.contact.phone_number,
            now=clock.now(),
        )
    except ContactRefused as refusal:
        await message.answer(words.refused(refusal.verdict), reply_markup=ReplyKeyboardRemove())
        return
    await message.answer(words.saved(shared), reply_markup=ReplyKeyboardRemove())


async def cancelled(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(words.cancelled(), reply_markup=ReplyKeyboardRemove())


async def in_group(message: Message, bot: Bot, community: CommunityProfile | None) -> None:
    markup = await start_link_markup(bot, community) if community is not None else None
    await message.reply(words.in_private(), reply_markup=markup)
