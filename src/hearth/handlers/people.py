"""Turning Telegram's users and chats into Hearth's people and facts."""

from __future__ import annotations

import re

from aiogram.enums import ChatMemberStatus, ChatType
from aiogram.types import Chat, ChatMemberUnion, Message, Update, User

from hearth.domain.activity import MessageFacts, is_substantive
from hearth.domain.errors import InvalidArgument
from hearth.domain.members import ChatRole, Person
from hearth.services.members import MEMBER_REFERENCE

GROUP_TYPES = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
# Telegram's placeholder accounts for anonymous admins and channel posts.
PLACEHOLDER_USER_IDS = frozenset({1087968824, 136817688, 777000})
_REFERENCE = re.compile(MEMBER_REFERENCE)


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in GROUP_TYPES


def person_from(user: User) -> Person:
    """The member behind a Telegram user."""
    return Person(
        id=user.id,
        first_name=user.first_name or "",
        last_name=user.last_name,
        username=user.username,
        language_code=user.language_code,
    )


def is_real_member(user: User | None) -> bool:
    """A human account: not a bot, not one of Telegram's placeholder senders."""
    return user is not None and not user.is_bot and user.id not in PLACEHOLDER_USER_IDS


def message_author(message: Message) -> User | None:
    """The member who wrote a message, or None for bots, channels and anonymous admins."""
    if message.sender_chat is not None or not is_real_member(message.from_user):
        return None
    return message.from_user


def member_reference(message: Message, text: str, usage: str) -> str:
    """The member a command names, as "@username" or an id: ``text`` itself, or (when
    ``text`` is empty) the author of the message the command replies to. Raises
    InvalidArgument(usage) otherwise."""
    if _REFERENCE.fullmatch(text):
        return text
    replied = message.reply_to_message
    author = message_author(replied) if replied is not None and not text else None
    if author is None:
        raise InvalidArgument(usage)
    return str(author.id)


def message_facts(message: Message) -> MessageFacts:
    """What Hearth needs to know about a group message, without its content."""
    replied = message.reply_to_message
    replied_author = replied.from_user if replied is not None else None
    # A reply inside a forum topic points at the topic's first message: not a real reply.
    real_reply = replied is not None and not (
        message.is_topic_message and replied.forum_topic_created is not None
    )
    return MessageFacts(
        sender_is_bot=message.from_user is None or message.from_user.is_bot,
        sent_on_behalf_of_chat=message.sender_chat is not None,
        is_service=is_service_message(message),
        replied_to_member_id=(
            replied_author.id
            if real_reply
            and replied_author is not None
            and replied is not None
            and replied.sender_chat is None
            else None
        ),
        replied_to_is_bot=replied_author is not None and replied_author.is_bot,
        substantive=is_substantive(message.text or message.caption, _has_media(message)),
    )


_MEDIA_FIELDS = frozenset(
    {
        "photo",
        "video",
        "animation",
        "document",
        "audio",
        "voice",
        "video_note",
        "sticker",
        "poll",
        "location",
        "venue",
        "contact",
    }
)


def _has_media(message: Message) -> bool:
    # A sticker alone says as little as an emoji; everything else shared counts.
    return not (_MEDIA_FIELDS - {"sticker"}).isdisjoint(message.model_fields_set)


_SERVICE_FIELDS = frozenset(
    {
        "new_chat_members",
        "left_chat_member",
        "new_chat_title",
        "new_chat_photo",
        "delete_chat_photo",
        "group_chat_created",
        "supergroup_chat_created",
        "migrate_to_chat_id",
        "migrate_from_chat_id",
        "pinned_message",
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
        "general_forum_topic_hidden",
        "general_forum_topic_unhidden",
        "video_chat_started",
        "video_chat_ended",
        "video_chat_scheduled",
        "video_chat_participants_invited",
        "message_auto_delete_timer_changed",
        "boost_added",
        "chat_background_set",
        "users_shared",
        "chat_shared",
        "write_access_allowed",
        "proximity_alert_triggered",
    }
)


def is_service_message(message: Message) -> bool:
    """Service messages (joins, pins, title changes, …) are not something a member said."""
    return not _SERVICE_FIELDS.isdisjoint(message.model_fields_set)


def is_chatter(message: Message) -> bool:
    """A member's ordinary group message: not a command, not a service message."""
    if not is_group(message.chat) or is_service_message(message):
        return False
    text = message.text or message.caption or ""
    return not text.startswith("/")


def is_passive(update: Update) -> bool:
    """Updates Hearth only records, never answers: group chatter and reactions."""
    if update.message is not None:
        return is_chatter(update.message)
    return update.message_reaction is not None


def chat_role(member: ChatMemberUnion) -> ChatRole | None:
    """The role a chat member update describes, or None when they are not in the chat."""
    status = member.status
    if status == ChatMemberStatus.CREATOR:
        return ChatRole.CREATOR
    if status == ChatMemberStatus.ADMINISTRATOR:
        return ChatRole.ADMINISTRATOR
    if status == ChatMemberStatus.MEMBER:
        return ChatRole.MEMBER
    if status == ChatMemberStatus.RESTRICTED:
        return ChatRole.MEMBER if getattr(member, "is_member", False) else None
    return None  # left or kicked
