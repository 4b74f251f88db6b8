"""Telegram for tests: real aiogram ``Update`` objects and a session that records Bot API calls.

Tests feed updates through the real dispatcher and assert on the calls that came out,
the way aiogram's own tests do (see its ``tests/mocked_bot.py``).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageText,
    GetChatAdministrators,
    GetFile,
    GetMe,
    SendMessage,
    SendPoll,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, File, InputFile, Message, Update, User

from hearth.simulate import updates
from tests.telegram_html import CAPTION_LIMIT, MESSAGE_LIMIT, html_problem, shown_length

BOT_ID = 42
BOT_USERNAME = "hearth_test_bot"
TOKEN = f"{BOT_ID}:TEST-TOKEN"


@dataclass(frozen=True)
class Call:
    """One Bot API request the bot made."""

    method: str
    params: dict[str, Any]
    uploads: dict[str, bytes] = field(default_factory=dict)  # files sent, by parameter

    @property
    def text(self) -> str:
        return str(self.params.get("text", ""))

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    def button_urls(self) -> list[str]:
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        return [button["url"] for row in rows for button in row if button.get("url")]

    def button_data(self) -> list[str]:
        markup = self.params.get("reply_markup") or {}
        rows = markup.get("inline_keyboard", [])
        return [b["callback_data"] for row in rows for b in row if b.get("callback_data")]


@dataclass
class Failure:
    """A Bot API error to answer with instead of a result."""

    status_code: int
    description: str
    retry_after: int | None = None


# What Telegram would have refused in the messages of the running test (see conftest).
REFUSED_TEXTS: list[str] = []


def _check_text(method: str, params: dict[str, Any]) -> None:
    """Note a text or caption Telegram would refuse: HTML it cannot parse (the bot sends
    HTML by default) or longer than its limits."""
    for key, limit in (("text", MESSAGE_LIMIT), ("caption", CAPTION_LIMIT)):
        text = params.get(key)
        if not isinstance(text, str):
            continue
        if params.get("parse_mode") == "HTML" and (problem := html_problem(text)):
            REFUSED_TEXTS.append(f"{method} {key}: {problem}: {text[:200]!r}")
        elif shown_length(text) > limit:
            REFUSED_TEXTS.append(f"{method} {key}: {shown_length(text)} > {limit} characters")


class RecordingSession(BaseSession):
    """Answers every Bot API call locally, records it, and can fail on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[Call] = []
        self.admins: dict[int, list[dict[str, Any]]] = {}
        self.failures: dict[tuple[str, int | None], Failure] = {}
        self.files: dict[str, bytes] = {}  # file_id -> content members sent to the bot
        self.poll_ids: list[str] = []  # of the polls posted, in order
        self._message_ids = itertools.count(1000)
        self.me = User(
            id=BOT_ID,
            is_bot=True,
            first_name="Hearth",
            username=BOT_USERNAME,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=False,
        )

    def fail(self, method: str, chat_id: int | None, failure: Failure) -> None:
        """Answer ``method`` (for ``chat_id``, or any chat when None) with an error."""
        self.failures[(method, chat_id)] = failure

    async def close(self) -> None:
        return None

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        """The content of a file served with ``serve_file`` (its path is its id)."""
        content = self.files[url.rsplit("/", 1)[-1]]
        for start in range(0, len(content), chunk_size):
            yield content[start : start + chunk_size]

    def serve_file(self, file_id: str, content: bytes) -> None:
        """A file a member sent: ``getFile`` and the download return it."""
        self.files[file_id] = content

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        name = type(method).__api_method__
        # The same preparation aiogram's HTTP session does, without JSON-encoding the values.
        files: dict[str, InputFile] = {}
        params = {
            key: prepared
            for key, value in method.model_dump(warnings=False).items()
            if (prepared := self.prepare_value(value, bot=bot, files=files, _dumps_json=False))
            is not None
        }
        uploads = {
            key: b"".join(
                [chunk async for chunk in files[value.removeprefix("attach://")].read(bot)]
            )
            for key, value in params.items()
            if isinstance(value, str) and value.startswith("attach://")
        }
        self.calls.append(Call(name, params, uploads))
        _check_text(name, params)
        chat_id = params.get("chat_id")
        failure = self.failures.get((name, chat_id)) or self.failures.get((name, None))
        if failure is not None:
            content: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status_code,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                content["parameters"] = {"retry_after": failure.retry_after}
            self.check_response(bot, method, failure.status_code, json.dumps(content))
        return self._result(bot, method, params)  # type: ignore[return-value]

    def _result(self, bot: Bot, method: TelegramMethod[Any], params: dict[str, Any]) -> Any:
        if isinstance(method, GetMe):
            return self.me
        if isinstance(method, SendMessage | EditMessageText):
            chat_id = int(params["chat_id"])
            chat = Chat(id=chat_id, type="private" if chat_id > 0 else "supergroup")
            return Message.model_validate(
                {
                    "message_id": params.get("message_id") or next(self._message_ids),
                    "date": int(datetime.now(UTC).timestamp()),
                    "chat": chat.model_dump(),
                    "from": self.me.model_dump(),
                    "text": params.get("text", ""),
                },
                context={"bot": bot},
            )
        if isinstance(method, GetFile):
            content = self.files[params["file_id"]]
            return File(
                file_id=params["file_id"],
                file_unique_id=params["file_id"],
                file_size=len(content),
                file_path=params["file_id"],
            )
        if isinstance(method, SendPoll):
            return self._poll_message(bot, params)
        if isinstance(method, GetChatAdministrators):
            return [_admin(bot, entry) for entry in self.admins.get(int(params["chat_id"]), [])]
        return True

    def _poll_message(self, bot: Bot, params: dict[str, Any]) -> Message:
        """A posted poll whose id is ``poll-<message id>``."""
        chat_id = int(params["chat_id"])
        message_id = next(self._message_ids)
        options = [
            {"text": option["text"], "voter_count": 0, "persistent_id": str(index)}
            for index, option in enumerate(params["options"])
        ]
        self.poll_ids.append(f"poll-{message_id}")
        poll = {
            "id": f"poll-{message_id}",
            "question": params["question"],
            "options": options,
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": params.get("is_anonymous", True),
            "type": params.get("type", "regular"),
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
            "persistent_id": f"p{message_id}",
            "correct_option_ids": params.get("correct_option_ids"),
        }
        return Message.model_validate(
            {
                "message_id": message_id,
                "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": self.me.model_dump(),
                "poll": poll,
            },
            context={"bot": bot},
        )

    def polls_to(self, chat_id: int) -> list[Call]:
        return [call for call in self.of("sendPoll") if call.chat_id == chat_id]

    # -- reading what was sent

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def messages_to(self, chat_id: int) -> list[Call]:
        return [call for call in self.of("sendMessage") if call.chat_id == chat_id]

    def texts_to(self, chat_id: int) -> list[str]:
        return [call.text for call in self.messages_to(chat_id)]

    def clear(self) -> None:
        self.calls.clear()
        self.poll_ids.clear()


def _admin(bot: Bot, person: dict[str, Any]) -> Any:
    from aiogram.types import ChatMemberAdministrator, ChatMemberOwner

    status = person.get("status", "administrator")
    payload = updates.chat_member_status({k: v for k, v in person.items() if k != "status"}, status)
    model = ChatMemberOwner if status == "creator" else ChatMemberAdministrator
    return model.model_validate(payload, context={"bot": bot})


@dataclass
class UpdateFeed:
    """Assigns update ids and turns raw payloads into real aiogram updates."""

    bot: Bot
    next_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def build(self, raw: dict[str, Any]) -> Update:
        payload = dict(raw)
        payload.setdefault("update_id", next(self.next_id))
        return Update.model_validate(payload, context={"bot": self.bot})
