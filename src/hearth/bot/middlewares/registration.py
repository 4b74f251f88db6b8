"""Registers the community and the member behind every update, from memory when known.

Passive updates (group chatter and reactions, most of the traffic) register a new member
through the write-behind buffer, in the same batch as their activity. Every other update
first lets the buffer write what it holds, then registers in its own transaction, so that
a handler always finds its member in the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Chat, TelegramObject, Update, User

from hearth.domain.members import CommunityProfile, Person
from hearth.handlers.people import (
    is_group,
    is_passive,
    is_real_member,
    is_service_message,
    person_from,
)
from hearth.services import communities, members
from hearth.services.communities import CommunityDefaults
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork
from hearth.storage.activity_buffer import ActivityBuffer


def _takes_part(update: Update) -> bool:
    """Updates whose sender shows by them that they belong to the group.

    Service messages do not: the sender of "X joined" is the newcomer, whose join the
    membership handler records (and welcomes) itself.
    """
    if update.message is not None:
        return update.message.sender_chat is None and not is_service_message(update.message)
    if update.message_reaction is not None:
        return update.message_reaction.actor_chat is None
    return update.callback_query is not None


class RegistrationMiddleware(BaseMiddleware):
    """Puts ``community``, ``member`` and ``person`` into the handler data."""

    def __init__(
        self,
        directory: Directory,
        buffer: ActivityBuffer,
        defaults: CommunityDefaults,
        clock: Clock,
    ) -> None:
        self.directory = directory
        self.buffer = buffer
        self.defaults = defaults
        self.clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        person = person_from(user) if user is not None and is_real_member(user) else None
        data["person"] = person
        data["member"] = None
        data["community"] = None
        known = self.directory.community(chat.id) if chat is not None else None
        if known is not None and person is not None and is_passive(event):
            data["community"] = known
            if _takes_part(event):
                self._register_passively(known, person)
            data["member"] = self.directory.member(person.id)
            return await handler(event, data)
        if self.buffer.has_registrations:
            await self.buffer.flush()
        await self._register(event, data, chat, person)
        return await handler(event, data)

    def _register_passively(self, community: CommunityProfile, person: Person) -> None:
        if self.directory.knows_membership(community.id, person.id):
            return
        self.buffer.register(community.id, person, self.clock.now())
        self.directory.remember_seen(person.id)
        self.directory.remember_membership(community.id, person.id)

    async def _register(
        self, event: Update, data: dict[str, Any], chat: Chat | None, person: Person | None
    ) -> None:
        uow: UnitOfWork = data["uow"]
        now = self.clock.now()
        community = None
        # The bot's own membership changes are handled (and communities created) by their handler.
        if chat is not None and is_group(chat) and event.my_chat_member is None:
            community = await communities.load_community(
                uow, self.directory, chat.id, chat.title or str(chat.id), self.defaults, now
            )
        data["community"] = community
        if person is not None:
            data["member"] = await members.load_member(uow, self.directory, person, now)
            if community is not None and _takes_part(event):
                await members.ensure_membership(uow, self.directory, community.id, person.id, now)
