"""The bot's own membership: added to a group, promoted, removed; blocked in private."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberUpdated

from hearth.handlers import texts
from hearth.handlers.filters import InGroup, InPrivate, OperatorDirectory
from hearth.handlers.people import chat_role, is_real_member, person_from
from hearth.services import communities, members
from hearth.services.communities import CommunityDefaults, Placement
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork

log = logging.getLogger(__name__)

_PRESENT = {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.CREATOR}


def build() -> Router:
    router = Router(name="community")
    router.my_chat_member.register(bot_membership_changed, InGroup())
    router.my_chat_member.register(private_chat_changed, InPrivate())
    return router


async def bot_membership_changed(
    event: ChatMemberUpdated,
    bot: Bot,
    uow: UnitOfWork,
    directory: Directory,
    operators: OperatorDirectory,
    defaults: CommunityDefaults,
) -> None:
    status = event.new_chat_member.status
    operators.forget(event.chat.id)
    if status not in _PRESENT:
        await communities.bot_removed(uow, directory, community_id=event.chat.id, now=event.date)
        return
    placement, community = await communities.bot_added(
        uow,
        directory,
        community_id=event.chat.id,
        title=event.chat.title or str(event.chat.id),
        bot_is_admin=status == ChatMemberStatus.ADMINISTRATOR,
        defaults=defaults,
        now=event.date,
    )
    await _register_administrators(bot, uow, directory, operators, community.id, event)
    if placement is Placement.UPDATED and community.bot_is_admin:
        return  # promoted to admin in a group it already serves: nothing to announce
    await bot.send_message(event.chat.id, texts.bot_added(is_admin=community.bot_is_admin))


async def _register_administrators(
    bot: Bot,
    uow: UnitOfWork,
    directory: Directory,
    operators: OperatorDirectory,
    community_id: int,
    event: ChatMemberUpdated,
) -> None:
    """The group's admins become known members, so they can operate it from private chat."""
    try:
        admins = await operators.administrators(bot, community_id)
    except TelegramAPIError as error:
        log.warning("could not read administrators of %s: %s", community_id, error)
        return
    for admin in admins:
        role = chat_role(admin)
        if not is_real_member(admin.user) or role is None:
            continue
        person = person_from(admin.user)
        await members.load_member(uow, directory, person, event.date)
        await members.ensure_membership(uow, directory, community_id, person.id, event.date)
        await members.role_changed(uow, community_id=community_id, member_id=person.id, role=role)


async def private_chat_changed(
    event: ChatMemberUpdated, uow: UnitOfWork, directory: Directory
) -> None:
    """A member blocked the bot (kicked) or unblocked it (member)."""
    reachable = event.new_chat_member.status == ChatMemberStatus.MEMBER
    await members.set_reachable(uow, directory, member_id=event.chat.id, reachable=reachable)
