"""Registers the community and the member behind every update, from memory when known."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from hearth.handlers.people import is_group, is_real_member, person_from
from hearth.services import communities, members
from hearth.services.communities import CommunityDefaults
from hearth.services.directory import Directory
from hearth.services.ports import Clock


def _takes_part(update: Update) -> bool:
    """Updates whose sender shows by them that they belong to the group."""
    if update.message is not None:
        return update.message.sender_chat is None
    if update.message_reaction is not None:
        return update.message_reaction.actor_chat is None
    return update.callback_query is not None


class RegistrationMiddleware(BaseMiddleware):
    """Puts ``community``, ``member`` and ``person`` into the handler data."""

    def __init__(self, directory: Directory, defaults: CommunityDefaults, clock: Clock) -> None:
        self.directory = directory
        self.defaults = defaults
        self.clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        chat = data.get("event_chat")
        user = data.get("event_from_user")
        uow = data["uow"]
        now = self.clock.now()
        community = None
        # The bot's own membership changes are handled (and communities created) by their handler.
        if is_group(chat) and event.my_chat_member is None:
            community = await communities.load_community(
                uow, self.directory, chat.id, chat.title or str(chat.id), self.defaults, now
            )
        data["community"] = community
        data["person"] = data["member"] = None
        if is_real_member(user):
            person = person_from(user)
            data["person"] = person
            data["member"] = await members.load_member(uow, self.directory, person, now)
            if community is not None and _takes_part(event):
                await members.ensure_membership(uow, self.directory, community.id, person.id, now)
        return await handler(event, data)
