"""/start in private: consent to private messages, deep links into a community, and the
event check-in link of an attendance QR code."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import Message, Update

from hearth.domain.events import parse_attendance_payload
from hearth.domain.members import CommunityProfile, Person
from hearth.handlers import channels_texts, events, referrals_texts, texts
from hearth.handlers.filters import InPrivate
from hearth.handlers.first_steps import first_steps
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.members import StartResult
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart(), InPrivate())
    return router


async def start(
    message: Message,
    command: CommandObject,
    bot: Bot,
    person: Person | None,
    uow: UnitOfWork,
    directory: Directory,
    clock: Clock,
    event_update: Update,
) -> None:
    if person is None:
        return
    attendance_code = parse_attendance_payload(command.args)
    result = await members.start_bot(
        uow,
        directory,
        person=person,
        payload=None if attendance_code else command.args,
        # When the member pressed start (as for their join): an invite opened before joining
        # counts as such even when the updates are handled late, after a backlog.
        at=message.date,
        update_id=event_update.update_id,
    )
    if attendance_code is not None:  # scanned at an event: check in, greet only newcomers
        if result.first_start:
            await message.answer(
                texts.start_private(
                    name=person.display_name,
                    first_start=True,
                    communities=[community.title for community in result.communities],
                )
            )
        await events.attend_with(
            message, uow, person, attendance_code, clock, event_update.update_id
        )
        return
    await message.answer(
        texts.start_private(
            name=person.display_name,
            first_start=result.first_start,
            communities=[community.title for community in result.communities],
        )
    )
    linked = result.linked_community
    if linked is not None:
        if result.channel is not None:  # a dealer's or partner's link: say whose
            await message.answer(channels_texts.welcome_through(result.channel.name, linked.title))
        else:
            await message.answer(texts.linked_to(linked.title))
        if result.referral is not None:
            inviter = result.inviter.first_name if result.inviter is not None else None
            note = referrals_texts.after_invite(result.referral, inviter, linked.title)
            if note is not None:
                await message.answer(note)
    elif result.unknown_link:
        await message.answer(texts.unknown_link())
    asked = _questionnaire_community(result)
    if asked is not None:
        await first_steps(bot, uow, asked, person.id, clock.now())


def _questionnaire_community(result: StartResult) -> CommunityProfile | None:
    """The community whose questionnaire /start offers (once it is answered, never again):
    the one a link named, if the member belongs to it; on a first start, their only one."""
    if result.linked_community is not None:
        ids = {community.id for community in result.communities}
        return result.linked_community if result.linked_community.id in ids else None
    if result.first_start and len(result.communities) == 1:
        return result.communities[0]
    return None
