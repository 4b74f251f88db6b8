"""Filters: the one operator check used by every operator command and button, and chat kinds."""

from __future__ import annotations

from typing import Protocol

from aiogram import Bot
from aiogram.enums import ChatType
from aiogram.filters import Filter
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberAdministrator,
    ChatMemberOwner,
    Message,
    TelegramObject,
    User,
)

from hearth.domain.members import CommunityProfile
from hearth.handlers.people import is_chatter, is_group
from hearth.services.ports import UnitOfWork


class OperatorDirectory(Protocol):
    """Knows who operates which community (chat admins, cached, plus configured operators)."""

    async def is_operator(self, bot: Bot, community_id: int, user_id: int) -> bool: ...

    async def operated(self, bot: Bot, uow: UnitOfWork, user_id: int) -> list[CommunityProfile]:
        """Active communities this user may operate."""
        ...

    async def administrators(
        self, bot: Bot, community_id: int
    ) -> list[ChatMemberOwner | ChatMemberAdministrator]: ...

    def forget(self, community_id: int) -> None:
        """Drop the cached administrators of a chat (they changed)."""
        ...


class Welcomer(Protocol):
    """Greets newcomers in a group within the group's message budget."""

    async def welcome(self, bot: Bot, community: CommunityProfile, names: list[str]) -> None: ...


class IsOperator(Filter):
    """True for an operator of the group the update comes from, or of any community in private."""

    async def __call__(
        self,
        event: Message | CallbackQuery,
        bot: Bot,
        operators: OperatorDirectory,
        uow: UnitOfWork,
        event_from_user: User | None = None,
        event_chat: Chat | None = None,
    ) -> bool:
        if event_from_user is None:
            return False
        if isinstance(event, Message) and event.sender_chat is not None:
            return False  # anonymous admins cannot be told apart: never authorise them
        if is_group(event_chat):
            assert event_chat is not None
            return await operators.is_operator(bot, event_chat.id, event_from_user.id)
        return bool(await operators.operated(bot, uow, event_from_user.id))


# aiogram runs synchronous filters (magic filters included) in a worker thread, once per
# handler per update; these async filters keep the hot path on the event loop.


class InGroup(Filter):
    """The update comes from a group or supergroup."""

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        return is_group(event_chat)


class InPrivate(Filter):
    """The update comes from a private chat with the bot."""

    async def __call__(self, event: TelegramObject, event_chat: Chat | None = None) -> bool:
        return event_chat is not None and event_chat.type == ChatType.PRIVATE


class NewMembers(Filter):
    """A service message announcing members who joined."""

    async def __call__(self, message: Message) -> bool:
        return bool(message.new_chat_members)


class MemberLeft(Filter):
    """A service message announcing a member who left."""

    async def __call__(self, message: Message) -> bool:
        return message.left_chat_member is not None


class GroupChatter(Filter):
    """A member's ordinary group message: not a command, not a service message.

    Most updates of a lively group are chatter; matching it first spares every update
    the walk through all the command routers.
    """

    async def __call__(self, message: Message) -> bool:
        return is_chatter(message)
