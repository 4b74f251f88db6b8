"""Passive engagement tracking: member messages, replies and reactions in groups.

Chatter is matched first (it is most of the traffic); commands and service messages go on
to their features.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message, MessageReactionUpdated, Update

from hearth.domain.members import CommunityProfile
from hearth.handlers.filters import GroupChatter, InGroup
from hearth.handlers.people import message_author, message_facts
from hearth.services import engagement
from hearth.services.ports import ActivitySink


def build() -> Router:
    router = Router(name="activity")
    router.message.register(group_message, GroupChatter())
    router.message_reaction.register(reaction, InGroup())
    return router


async def group_message(
    message: Message,
    event_update: Update,
    community: CommunityProfile | None,
    activity: ActivitySink,
) -> None:
    author = message_author(message)
    if community is None or author is None:
        return
    engagement.record_message(
        activity,
        community=community,
        member_id=author.id,
        facts=message_facts(message),
        at=message.date,
        update_id=event_update.update_id,
    )


async def reaction(
    event: MessageReactionUpdated,
    event_update: Update,
    community: CommunityProfile | None,
    activity: ActivitySink,
) -> None:
    if community is None or event.user is None or event.user.is_bot or event.actor_chat:
        return
    engagement.record_reaction(
        activity,
        community=community,
        member_id=event.user.id,
        old_count=len(event.old_reaction),
        new_count=len(event.new_reaction),
        at=event.date,
        update_id=event_update.update_id,
    )
