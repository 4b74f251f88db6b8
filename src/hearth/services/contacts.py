"""A member's phone number, shared with the bot so that the club can match the business's
service and purchase records to their membership (``services/conversions``).

It is taken only from Telegram's shared-contact message of that very member
(``domain/phones``); ``/phone off`` and /forget_me delete it, /mydata shows it, and no
export lists it unless an operator asks for phone numbers explicitly.
"""

from __future__ import annotations

from datetime import datetime

from hearth.domain.phones import ContactRefused, ContactVerdict, contact_verdict, normalise_phone
from hearth.services.ports import UnitOfWork


async def share_phone(
    uow: UnitOfWork,
    *,
    member_id: int,
    contact_user_id: int | None,
    relayed: bool,
    phone: str,
    now: datetime,
) -> str:
    """Keep the number of a contact message the member sent: returns it normalised
    ("+8613812345678"). Raises ContactRefused, storing nothing, unless the contact is the
    member's own (``contact_user_id`` is them, and the message was not ``relayed``:
    forwarded or sent through an inline bot)."""
    verdict = contact_verdict(
        sender_id=member_id, contact_user_id=contact_user_id, relayed=relayed, phone=phone
    )
    normalised = normalise_phone(phone)
    if verdict is not ContactVerdict.OWN or normalised is None:
        raise ContactRefused(verdict)
    await uow.member_contacts.save(member_id, normalised, now)
    return normalised


async def phone_of(uow: UnitOfWork, member_id: int) -> str | None:
    """The number the member shared, if they did."""
    return await uow.member_contacts.phone_of(member_id)


async def forget_phone(uow: UnitOfWork, member_id: int) -> bool:
    """Delete the member's number; False when they had shared none."""
    return await uow.member_contacts.delete(member_id) > 0
