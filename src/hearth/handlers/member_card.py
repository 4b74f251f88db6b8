"""/member: one member's card for operators, always answered in private.

Named by @username or id, or — in the group — by replying to the member's message. In the
group the card goes to the operator's private chat and the group only hears where to look.
In private, an operator of several communities the member belongs to picks one first.
Whoever is not an operator learns nothing, not even whether the member exists.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from pydantic import Field

from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import member_texts, texts
from hearth.handlers.callbacks import CHAT_ID_LIMIT
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.people import member_reference
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import PrivateAnswer, PrivateRequest
from hearth.handlers.segments_keyboards import community_picker
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.member_card import find_member, member_card
from hearth.services.ports import Clock, UnitOfWork


class MemberCardOf(CallbackData, prefix="mbc1"):
    """An operator of several communities picked the one a member's card is about."""

    community_id: int = Field(ge=-CHAT_ID_LIMIT, le=CHAT_ID_LIMIT)
    member_id: int = Field(ge=1, le=CHAT_ID_LIMIT)


def build() -> Router:
    router = Router(name="member_card")
    # Non-operators' /member reaches the fallback's refusal (it is an operator command).
    router.message.register(show_member, Command("member"), IsOperator())
    router.callback_query.register(show_member_of, MemberCardOf.filter(), InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, MemberCardOf.filter())
    return router


async def show_member(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
    clock: Clock,
) -> None:
    reference = member_reference(message, (command.args or "").strip(), member_texts.usage())
    if community is not None:  # in the group: about this community, answered in private
        shown = await members.member_or_former(uow, community.id, reference)
        text = await _card_text(uow, community, shown, clock)
        request = PrivateRequest(message, bot, community, member, uow, directory)
        await request.deliver("member", PrivateAnswer(text))
        return
    assert message.from_user is not None
    operated = await operators.operated(bot, uow, message.from_user.id)
    shown, where = await find_member(uow, operated, reference)
    if shown is None or len(where) == 1:
        await message.answer(await _card_text(uow, where[0] if where else None, shown, clock))
        return
    await message.answer(
        texts.choose_community(),
        reply_markup=community_picker(
            [(each, MemberCardOf(community_id=each.id, member_id=shown.id)) for each in where]
        ),
    )


async def show_member_of(
    query: CallbackQuery,
    callback_data: MemberCardOf,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, shown_on = chosen
    shown = await members.member_or_former(uow, community.id, str(callback_data.member_id))
    await query.answer()
    await shown_on.answer(await _card_text(uow, community, shown, clock))


async def _card_text(
    uow: UnitOfWork,
    community: CommunityProfile | None,
    shown: MemberProfile | None,
    clock: Clock,
) -> str:
    """The member's card, or "unknown member" when they never were in ``community`` (a
    member who left keeps their card, with the day they left)."""
    if community is None or shown is None:
        return texts.unknown_member()
    found = await member_card(uow, community, shown.id, now=clock.now())
    return texts.unknown_member() if found is None else member_texts.card(found)
