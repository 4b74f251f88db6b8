"""Raw Bot API update payloads (plain dicts, as Telegram sends them).

Shared by the simulator, the benchmarks and the tests, so that all three feed the bot
exactly what Telegram would.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

JsonDict = dict[str, Any]


def user(
    user_id: int,
    first_name: str = "Member",
    *,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = "en",
    is_bot: bool = False,
) -> JsonDict:
    payload: JsonDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name:
        payload["last_name"] = last_name
    if username:
        payload["username"] = username
    if language_code:
        payload["language_code"] = language_code
    return payload


def group(chat_id: int, title: str = "Owners Club", *, forum: bool = False) -> JsonDict:
    payload: JsonDict = {"id": chat_id, "type": "supergroup", "title": title}
    if forum:
        payload["is_forum"] = True
    return payload


def private(person: JsonDict) -> JsonDict:
    return {"id": person["id"], "type": "private", "first_name": person["first_name"]}


def timestamp(at: datetime) -> int:
    return int(at.timestamp())


def message(
    chat: JsonDict,
    sender: JsonDict | None,
    text: str | None,
    at: datetime,
    *,
    message_id: int = 1,
    update_id: int | None = None,
    reply_to: JsonDict | None = None,
    **extra: Any,
) -> JsonDict:
    """A ``message`` update; ``extra`` adds fields such as sender_chat, photo, new_chat_members."""
    body: JsonDict = {"message_id": message_id, "date": timestamp(at), "chat": chat}
    if sender is not None:
        body["from"] = sender
    if text is not None:
        body["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if reply_to is not None:
        body["reply_to_message"] = reply_to
    body.update(extra)
    return _update("message", body, update_id)


def edited_message(
    chat: JsonDict, sender: JsonDict, text: str, at: datetime, *, update_id: int | None = None
) -> JsonDict:
    body = {
        "message_id": 1,
        "date": timestamp(at),
        "edit_date": timestamp(at),
        "chat": chat,
        "from": sender,
        "text": text,
    }
    return _update("edited_message", body, update_id)


def channel_post(
    chat_id: int, text: str, at: datetime, *, update_id: int | None = None
) -> JsonDict:
    chat = {"id": chat_id, "type": "channel", "title": "Brand news"}
    body = {"message_id": 1, "date": timestamp(at), "chat": chat, "sender_chat": chat, "text": text}
    return _update("channel_post", body, update_id)


def chat_member_status(person: JsonDict, status: str) -> JsonDict:
    """A ChatMember object for ``status``: member, left, kicked, administrator, creator."""
    payload: JsonDict = {"status": status, "user": person}
    if status == "kicked":
        payload["until_date"] = 0
    elif status == "creator":
        payload["is_anonymous"] = False
    elif status == "administrator":
        payload.update(
            {
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_send_welcome_messages": False,
            }
        )
    return payload


def chat_member_update(
    chat: JsonDict,
    person: JsonDict,
    old_status: str,
    new_status: str,
    at: datetime,
    *,
    actor: JsonDict | None = None,
    update_id: int | None = None,
    kind: str = "chat_member",
) -> JsonDict:
    """A ``chat_member`` (or ``my_chat_member``) update: ``person`` went from old to new."""
    body = {
        "chat": chat,
        "from": actor or person,
        "date": timestamp(at),
        "old_chat_member": chat_member_status(person, old_status),
        "new_chat_member": chat_member_status(person, new_status),
    }
    return _update(kind, body, update_id)


def reaction(
    chat: JsonDict,
    person: JsonDict,
    at: datetime,
    *,
    message_id: int = 1,
    added: bool = True,
    update_id: int | None = None,
) -> JsonDict:
    emoji = [{"type": "emoji", "emoji": "👍"}]
    body = {
        "chat": chat,
        "message_id": message_id,
        "user": person,
        "date": timestamp(at),
        "old_reaction": [] if added else emoji,
        "new_reaction": emoji if added else [],
    }
    return _update("message_reaction", body, update_id)


def callback_query(
    person: JsonDict,
    data: str,
    at: datetime,
    *,
    chat: JsonDict | None = None,
    update_id: int | None = None,
    query_id: str = "1",
    message: JsonDict | None = None,
) -> JsonDict:
    """A button press; ``message`` is the message the button sits on (default: a stub)."""
    chat = chat or private(person)
    body = {
        "id": query_id,
        "from": person,
        "chat_instance": "1",
        "data": data,
        "message": message
        or {
            "message_id": 1,
            "date": timestamp(at),
            "chat": chat,
            "from": user(1, "Hearth", is_bot=True),
            "text": "…",
        },
    }
    return _update("callback_query", body, update_id)


def poll_answer(
    person: JsonDict, poll_id: str, option_ids: list[int], *, update_id: int | None = None
) -> JsonDict:
    """A vote on a non-anonymous poll (an empty ``option_ids`` retracts the vote)."""
    body = {
        "poll_id": poll_id,
        "user": person,
        "option_ids": option_ids,
        "option_persistent_ids": [str(option) for option in option_ids],
    }
    return _update("poll_answer", body, update_id)


def sender_of(payload: JsonDict) -> int | None:
    """Who sent a message update, or who joined or left in a chat_member one."""
    for kind in ("message", "chat_member"):
        body = payload.get(kind)
        if body is not None:
            person = body.get("from") or {}
            if kind == "chat_member":
                person = body.get("new_chat_member", {}).get("user", person)
            return int(person["id"]) if "id" in person else None
    return None


def text_of(payload: JsonDict) -> str:
    """The text of a message update (empty for other updates)."""
    return str((payload.get("message") or {}).get("text") or "")


def joins(payload: JsonDict) -> bool:
    """Whether the update is someone joining the group."""
    change = payload.get("chat_member") or {}
    return bool(change.get("new_chat_member", {}).get("status") == "member")


def _update(kind: str, body: JsonDict, update_id: int | None) -> JsonDict:
    payload: JsonDict = {kind: body}
    if update_id is not None:
        payload["update_id"] = update_id
    return payload
