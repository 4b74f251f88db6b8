"""A local stand-in for the Telegram Bot API server.

The real aiogram bot talks to it over real HTTP on 127.0.0.1 (point the bot at it with
``TelegramAPIServer.from_base(api.base_url)``). It records every call, serves injected
updates through ``getUpdates`` long polling, keeps a small store of sent messages and polls,
and can inject faults (rate limits, blocked users, missing methods) so tests and the
simulator can exercise the bot's error handling without touching Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import os
import re
import signal
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import BodyPartReader, web

__all__ = [
    "DEFAULT_EXCLUDED_UPDATE_TYPES",
    "BotApiStandIn",
    "RateLimits",
    "RecordedCall",
    "SentPoll",
]

JsonDict = dict[str, Any]
_Handler = Callable[[JsonDict], Awaitable[Any]]

#: Update types Telegram leaves out unless a bot asks for them in ``allowed_updates``.
DEFAULT_EXCLUDED_UPDATE_TYPES = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)

# Form-encoded requests carry every value as a string; these fields are integers in the Bot
# API, so they are converted back to make recorded params comparable with plain ints.
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "sender_chat_id",
        "offset",
        "limit",
        "timeout",
        "open_period",
        "close_date",
        "correct_option_id",
        "until_date",
        "max_connections",
        "cache_time",
        "duration",
        "width",
        "height",
        "expire_date",
        "member_limit",
        "direct_messages_topic_id",
        "video_start_timestamp",
    }
)

# Free-text fields are never JSON-decoded or turned into booleans: a message text of
# "[1, 2]" or "true" must arrive exactly as the bot sent it.
_TEXT_FIELDS = frozenset(
    {
        "text",
        "caption",
        "question",
        "explanation",
        "description",
        "short_description",
        "name",
        "title",
        "payload",
        "start_parameter",
        "url",
        "secret_token",
        "query",
        "emoji",
        "custom_title",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "business_connection_id",
        "message_effect_id",
    }
)

_INTEGER_RE = re.compile(r"-?\d+")

# Keys of a Telegram User object; everything else in an admin spec describes membership.
_USER_KEYS = frozenset(
    {
        "id",
        "is_bot",
        "first_name",
        "last_name",
        "username",
        "language_code",
        "is_premium",
        "added_to_attachment_menu",
    }
)

# Keys of a Telegram Chat object; a registered chat may carry ChatFullInfo extras that do
# not belong in Message.chat.
_CHAT_KEYS = frozenset(
    {"id", "type", "title", "username", "first_name", "last_name", "is_forum", "is_direct_messages"}
)

# Every boolean ChatMemberAdministrator requires (aiogram 3.31), with plausible values for a
# moderator that is not allowed to promote others.
_DEFAULT_ADMIN_RIGHTS: JsonDict = {
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
    "can_pin_messages": True,
    "can_manage_topics": False,
}

# Message keys that describe the envelope rather than the content; copy/forward skip them.
_ENVELOPE_KEYS = frozenset(
    {
        "message_id",
        "date",
        "chat",
        "from",
        "reply_markup",
        "edit_date",
        "message_thread_id",
        "reply_to_message",
        "forward_origin",
    }
)

# Sending into a chat whose user blocked the bot fails with 403 for all of these.
_DELIVERY_METHODS = frozenset({"copymessage", "copymessages", "forwardmessage", "forwardmessages"})


@dataclass(frozen=True)
class RecordedCall:
    """One Bot API call as the stand-in received it.

    ``method`` is spelled the way Telegram documents it (``"sendMessage"``) whatever case the
    client used; ``params`` are decoded (JSON values parsed, integer ids converted, uploaded
    files reduced to ``{"filename": ..., "size": ...}``); ``at`` comes from the stand-in clock.
    ``uploads`` holds the bytes of each uploaded file by its param (``"photo"``, ...), so that
    a test or the simulation can look at exactly what Telegram would have shown.
    """

    method: str
    params: dict[str, Any]
    at: float
    uploads: dict[str, bytes] = field(default_factory=dict)


@dataclass
class SentPoll:
    """Where a poll sent through ``sendPoll`` lives, so a driver can craft answers to it."""

    poll_id: str
    chat_id: int
    message_id: int
    correct_option_ids: list[int]


@dataclass
class _Fault:
    method: str  # lower-cased
    error_code: int
    description: str
    retry_after: int | None
    chat_id: int | None
    remaining: int


@dataclass
class RateLimits:
    """Telegram's flood limits, as the stand-in enforces them (see ``enforce_limits``).

    Each limit is "at most N accepted calls in any window of T seconds" (None: not enforced).
    ``tolerance`` shortens every window by that fraction, so that requests the bot spaced
    exactly right but that arrive a few milliseconds early over HTTP are not punished.
    """

    per_second: float | None = 30  # all chats together
    per_chat_per_second: float | None = 1  # one private chat
    per_group_per_minute: float | None = 20  # one group or channel
    retry_after: int = 1  # what a 429 asks for
    tolerance: float = 0.05
    _overall: deque[float] = field(default_factory=deque, repr=False)
    _chats: dict[int, deque[float]] = field(default_factory=dict, repr=False)

    def admits(self, chat_id: int | None, now: float, *, per_chat: bool) -> bool:
        """Whether a call now keeps within every limit; an admitted call is counted."""
        checks: list[tuple[deque[float], float, float]] = []
        if self.per_second is not None:
            checks.append((self._overall, self.per_second, 1.0))
        if per_chat and chat_id is not None:
            window, limit = (1.0, self.per_chat_per_second)
            if chat_id < 0:
                window, limit = (60.0, self.per_group_per_minute)
            if limit is not None:
                checks.append((self._chats.setdefault(chat_id, deque()), limit, window))
        for stamps, limit, window in checks:
            horizon = now - window * (1 - self.tolerance)
            while stamps and stamps[0] <= horizon:
                stamps.popleft()
            if len(stamps) >= limit:
                return False
        for stamps, _, _ in checks:
            stamps.append(now)
        return True


class _ApiError(Exception):
    """Raised by handlers to answer with a Bot API error object."""

    def __init__(self, error_code: int, description: str, parameters: JsonDict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        body: JsonDict = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        # aiogram classifies errors by HTTP status, so the status must match error_code.
        return web.json_response(body, status=self.error_code)


class _Signal:
    """A level-free notification: waiters re-check their condition after every ``notify``.

    Unlike ``asyncio.Condition`` it can be notified from synchronous code (``add_update``).
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait_for(self, predicate: Callable[[], bool], seconds: float) -> None:
        async with asyncio.timeout(seconds):
            while not predicate():
                await self._event.wait()


class BotApiStandIn:
    """An in-process fake of ``api.telegram.org`` for one bot token.

    Start it (``await api.start()`` or ``async with BotApiStandIn() as api``), point an aiogram
    ``Bot`` at ``TelegramAPIServer.from_base(api.base_url)``, then inject updates with
    :meth:`add_update` and inspect what the bot did through :attr:`calls`.
    """

    def __init__(
        self,
        *,
        token: str = "123456:SIMULATED",
        bot_username: str = "hearth_sim_bot",
        bot_first_name: str = "Hearth",
        unsupported: set[str] | frozenset[str] = frozenset(),
        first_update_id: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        bot_id, sep, secret = token.partition(":")
        if not sep or not bot_id.isdigit() or not secret:
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(bot_id)
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        #: Method names (any case) answered with 404, as a server lacking them would.
        self.unsupported: set[str] = set(unsupported)
        self._clock = clock

        #: Every call made with the right token, oldest first.
        self.calls: list[RecordedCall] = []
        self._calls_signal = _Signal()

        self._queue: list[JsonDict] = []
        self._next_update_id = first_update_id
        self._delivered: dict[int, None] = {}  # insertion-ordered set
        self._dropped: list[int] = []
        self._updates_signal = _Signal()
        #: The last ``allowed_updates`` list a client sent (None until one does).
        self.allowed_updates: list[str] | None = None

        #: Webhook settings from the last ``setWebhook`` ("" when none is set).
        self.webhook_url = ""
        self.webhook_secret_token: str | None = None
        self.webhook_allowed_updates: list[str] | None = None

        self._chats: dict[int, JsonDict] = {}
        self._users: dict[int, JsonDict] = {}
        self._admins: dict[int, list[JsonDict]] = {}
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._limits: RateLimits | None = None
        #: How many calls were answered 429 because they broke the enforced limits.
        self.limit_violations = 0
        #: Every call answered with an error, with its ``error_code``, oldest first.
        self.errors: list[tuple[RecordedCall, int]] = []
        #: Messages the stand-in accepted from ``send*`` and forwards (not edits), oldest first.
        self.delivered: list[JsonDict] = []
        self._on_delivered: Callable[[JsonDict], None] | None = None

        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._last_message_id: dict[int, int] = {}
        #: Polls sent by the bot, by poll id.
        self.polls: dict[str, SentPoll] = {}
        self._poll_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        #: Files members "uploaded" (``add_file``), by file id: (file path, content).
        self._files: dict[str, tuple[str, bytes]] = {}

        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._menu_buttons: dict[int | None, JsonDict] = {}
        self._descriptions: dict[tuple[str, str], str] = {}

        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = False

        handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "sendPoll": self._send_poll,
            "sendChatAction": self._true,
            "copyMessage": self._copy_message,
            "forwardMessage": self._forward_message,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "deleteMessages": self._delete_messages,
            "stopPoll": self._stop_poll,
            "answerCallbackQuery": self._true,
            "setMessageReaction": self._true,
            "pinChatMessage": self._true,
            "unpinChatMessage": self._true,
            "unpinAllChatMessages": self._true,
            "leaveChat": self._true,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "setMyDescription": self._set_text_setting("description"),
            "getMyDescription": self._get_text_setting("description"),
            "setMyShortDescription": self._set_text_setting("short_description"),
            "getMyShortDescription": self._get_text_setting("short_description"),
            "setMyName": self._set_text_setting("name"),
            "getMyName": self._get_text_setting("name"),
            "getChat": self._get_chat,
            "getChatAdministrators": self._get_chat_administrators,
            "getChatMember": self._get_chat_member,
            "getFile": self._get_file,
        }
        # Telegram matches method names case-insensitively.
        self._handlers = {name.lower(): handler for name, handler in handlers.items()}
        self._spelling = {name.lower(): name for name in handlers}

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start serving and return the base URL for ``TelegramAPIServer.from_base``."""
        if self._runner is not None:
            raise RuntimeError("the stand-in is already running")
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._serve_file)
        # A short shutdown timeout: stop() already wakes long polls, nothing else lingers.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._closing = False
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._base_url = f"http://{bound_host}:{bound_port}"
        return self._base_url

    async def stop(self) -> None:
        """Stop serving; pending long polls are answered with an empty list first."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._closing = True
        self._updates_signal.notify()
        await runner.cleanup()
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The ``http://host:port`` the stand-in listens on (only while running)."""
        if self._base_url is None:
            raise RuntimeError("the stand-in is not running")
        return self._base_url

    @property
    def bot_user(self) -> JsonDict:
        """The bot's own User object, as ``getMe`` reports it."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ------------------------------------------------------------------------ recorded calls

    def calls_of(self, method: str) -> list[RecordedCall]:
        """Recorded calls of one method (any case), oldest first."""
        wanted = method.lower()
        return [call for call in self.calls if call.method.lower() == wanted]

    def sent_messages(self, chat_id: int | None = None) -> list[JsonDict]:
        """Params of every ``sendMessage`` call, optionally only those to ``chat_id``."""
        return [
            call.params
            for call in self.calls_of("sendMessage")
            if chat_id is None or call.params.get("chat_id") == chat_id
        ]

    def clear_calls(self) -> None:
        """Forget the recorded calls (state such as messages and updates is kept)."""
        self.calls.clear()

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        # A plain timeout argument keeps driver code short; asyncio.timeout works as well.
        timeout: float = 5.0,
        *,
        since: int = 0,
    ) -> RecordedCall:
        """Wait for a call of ``method`` matching ``predicate`` and return it.

        Calls already recorded count too, starting at index ``since`` of :attr:`calls`; pass
        ``since=len(api.calls)`` taken before triggering the bot to only see new calls.
        Raises ``TimeoutError`` when none arrives within ``timeout`` seconds.
        """
        wanted = method.lower()
        found: list[RecordedCall] = []

        def matched() -> bool:
            for call in self.calls[since:]:
                if call.method.lower() == wanted and (predicate is None or predicate(call)):
                    found.append(call)
                    return True
            return False

        await self._calls_signal.wait_for(matched, timeout)
        return found[0]

    # ------------------------------------------------------------------------------ updates

    def add_update(self, payload: JsonDict) -> int:
        """Queue an update for ``getUpdates`` and wake long polls; returns its ``update_id``.

        The id is taken from the payload when present, otherwise the next free one is given.
        """
        update = copy.deepcopy(payload)
        if "update_id" in update:
            update_id = int(update["update_id"])
        else:
            update_id = self._next_update_id
            update["update_id"] = update_id
        self._next_update_id = max(self._next_update_id, update_id + 1)
        self._queue.append(update)
        self._queue.sort(key=lambda item: int(item["update_id"]))
        self._updates_signal.notify()
        return update_id

    def add_updates(self, payloads: Iterable[JsonDict]) -> list[int]:
        """Queue several updates in order; returns their ids."""
        return [self.add_update(payload) for payload in payloads]

    @property
    def pending_updates(self) -> int:
        """Updates added but not yet confirmed by a later ``getUpdates`` offset."""
        return len(self._queue)

    @property
    def delivered_update_ids(self) -> list[int]:
        """Ids of updates returned by ``getUpdates`` at least once, in delivery order."""
        return list(self._delivered)

    @property
    def max_delivered_update_id(self) -> int | None:
        """The highest update id the bot has been given, or None before the first one."""
        return max(self._delivered, default=None)

    @property
    def dropped_update_ids(self) -> list[int]:
        """Ids of updates discarded because their type was not in ``allowed_updates``."""
        return list(self._dropped)

    async def wait_until_consumed(self, timeout: float = 10.0) -> None:
        """Wait until every added update is confirmed (fetched, then a later offset passed).

        Confirmation means the bot asked for the next batch, not that its handlers finished.
        Raises ``TimeoutError`` after ``timeout`` seconds.
        """
        await self._updates_signal.wait_for(lambda: not self._queue, timeout)

    # -------------------------------------------------------------------------------- faults

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``, if given) with an error.

        For ``error_code`` 429 the answer carries ``parameters.retry_after`` (1 when not given),
        which aiogram turns into ``TelegramRetryAfter``.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        self._faults.append(
            _Fault(method.lower(), error_code, description, retry_after, chat_id, times)
        )

    def block_chat(self, chat_id: int) -> None:
        """Make every send to ``chat_id`` fail with 403, as if the user blocked the bot."""
        self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        """Undo :meth:`block_chat`."""
        self._blocked.discard(chat_id)

    def rate_limit(
        self,
        *,
        retry_after: int = 1,
        chat_id: int | None = None,
        times: int = 1,
        method: str = "sendMessage",
    ) -> None:
        """Answer the next ``times`` calls (to ``chat_id``, if given) with 429 ``retry_after``."""
        self.fail_next(
            method,
            error_code=429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
            chat_id=chat_id,
            times=times,
        )

    def bad_request(
        self,
        *,
        description: str = "Bad Request: chat not found",
        chat_id: int | None = None,
        times: int = 1,
        method: str = "sendMessage",
    ) -> None:
        """Answer the next ``times`` calls (to ``chat_id``, if given) with 400 ``description``."""
        self.fail_next(
            method, error_code=400, description=description, chat_id=chat_id, times=times
        )

    def enforce_limits(self, limits: RateLimits | None = None) -> RateLimits:
        """Answer 429 to every send or edit that breaks Telegram's limits (None: the defaults).

        Violations are counted in :attr:`limit_violations`; a rejected call does not use up
        any budget. Reactions count against the overall limit only. Returns the limits in force.
        """
        self._limits = limits if limits is not None else RateLimits()
        return self._limits

    def stop_enforcing_limits(self) -> None:
        self._limits = None

    def on_delivered(self, hook: Callable[[JsonDict], None] | None) -> None:
        """Call ``hook(message)`` right after a message is accepted, before the bot hears back."""
        self._on_delivered = hook

    def kill_after_delivering(self, count: int, pid: int, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to process ``pid`` right after the ``count``-th accepted message.

        The message is recorded (the member got it) but the bot never sees the answer: a
        deterministic "crash while sending" for crash tests.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        target = len(self.delivered) + count

        def hook(message: JsonDict) -> None:
            if len(self.delivered) == target:
                os.kill(pid, sig)
                self._on_delivered = None

        self._on_delivered = hook

    def delivered_to(self, chat_id: int) -> list[JsonDict]:
        """The messages the stand-in accepted for ``chat_id`` (sends and forwards), oldest first."""
        return [message for message in self.delivered if message["chat"]["id"] == chat_id]

    # --------------------------------------------------------------------- chats and members

    def set_chat(self, chat: JsonDict) -> None:
        """Register a chat object (``id``, ``type``, ``title``...) used in replies."""
        self._chats[int(chat["id"])] = copy.deepcopy(chat)

    def set_user(self, user: JsonDict) -> None:
        """Register a user object, used by ``getChatMember`` and for private chats."""
        stored = {"is_bot": False, "first_name": "User", **copy.deepcopy(user)}
        self._users[int(stored["id"])] = stored

    def set_admins(self, chat_id: int, admins: list[JsonDict]) -> None:
        """Set the administrators of a chat.

        Each item is a user dict with an optional ``status`` (``"creator"`` or
        ``"administrator"``, the default) and optional right overrides (``can_*``,
        ``is_anonymous``, ``custom_title``); a ChatMember-shaped ``{"user": ...}`` works too.
        """
        self._admins[chat_id] = [self._admin_entry(item) for item in admins]

    def message(self, chat_id: int, message_id: int) -> JsonDict | None:
        """The current state of a message the bot sent (after edits), or None."""
        stored = self._messages.get((chat_id, message_id))
        return copy.deepcopy(stored) if stored is not None else None

    def add_file(self, content: bytes, file_name: str, mime_type: str | None = None) -> JsonDict:
        """Store a file as if a user had uploaded it; returns the ``Document`` to put in a
        message. The bot gets it as Telegram serves files: ``getFile``, then a download."""
        serial = next(self._file_ids)
        file_id = f"SIMFILE{serial}"
        self._files[file_id] = (f"documents/file_{serial}_{file_name}", bytes(content))
        document: JsonDict = {
            "file_id": file_id,
            "file_unique_id": f"SIMUNIQUE{serial}",
            "file_name": file_name,
            "file_size": len(content),
        }
        if mime_type is not None:
            document["mime_type"] = mime_type
        return document

    def my_commands(self, scope: JsonDict | None = None, language_code: str = "") -> list[JsonDict]:
        """The command list last set for ``scope`` (default scope when None) and language."""
        return copy.deepcopy(self._commands.get((_scope_key(scope), language_code), []))

    # ------------------------------------------------------------------------- HTTP handling

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _ApiError(401, "Unauthorized").response()
        sent_name = request.match_info["method"]
        method = self._spelling.get(sent_name.lower(), sent_name)
        try:
            params, uploads = await _read_params(request)
        except _ApiError as exc:
            return exc.response()
        call = RecordedCall(method, params, self._clock(), uploads)
        self.calls.append(call)
        self._calls_signal.notify()
        try:
            result = await self._dispatch(method.lower(), params)
        except _ApiError as exc:
            self.errors.append((call, exc.error_code))
            return exc.response()
        if _is_new_message(method.lower(), result):
            self.delivered.append(result)
            if self._on_delivered is not None:
                self._on_delivered(result)
        return web.json_response({"ok": True, "result": result})

    async def _serve_file(self, request: web.Request) -> web.StreamResponse:
        """A file download (``/file/bot<token>/<file_path>``), as ``getFile`` described it."""
        if request.match_info["token"] != self.token:
            return _ApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        for file_path, content in self._files.values():
            if file_path == path:
                return web.Response(body=content, content_type="application/octet-stream")
        return _ApiError(404, "Not Found").response()

    async def _dispatch(self, method: str, params: JsonDict) -> Any:
        fault = self._take_fault(method, params)
        if fault is not None:
            parameters = {"retry_after": fault.retry_after} if fault.retry_after else None
            raise _ApiError(fault.error_code, fault.description, parameters)
        handler = self._handlers.get(method)
        if handler is None or method in {name.lower() for name in self.unsupported}:
            raise _ApiError(404, "Not Found: method not found")
        if (method.startswith("send") or method in _DELIVERY_METHODS) and self._blocked:
            chat_id = params.get("chat_id")
            if isinstance(chat_id, int) and chat_id in self._blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if self._limits is not None:
            self._enforce(method, params, self._limits)
        return await handler(params)

    def _enforce(self, method: str, params: JsonDict, limits: RateLimits) -> None:
        counted = method in _DELIVERY_METHODS or method.startswith(("send", "editmessage"))
        if method == "sendchataction" or not (counted or method == "setmessagereaction"):
            return
        chat_id = params.get("chat_id")
        chat = chat_id if isinstance(chat_id, int) else None
        if not limits.admits(chat, time.monotonic(), per_chat=counted):
            self.limit_violations += 1
            raise _ApiError(
                429,
                f"Too Many Requests: retry after {limits.retry_after}",
                {"retry_after": limits.retry_after},
            )

    def _take_fault(self, method: str, params: JsonDict) -> _Fault | None:
        for fault in self._faults:
            if fault.method != method:
                continue
            if fault.chat_id is not None and params.get("chat_id") != fault.chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self._faults.remove(fault)
            return fault
        return None

    # ------------------------------------------------------------------------------ handlers

    async def _true(self, params: JsonDict) -> bool:
        return True

    async def _get_me(self, params: JsonDict) -> JsonDict:
        return self.bot_user

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset"), 0)
        if offset:
            self._confirm(offset)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        timeout = max(_as_int(params.get("timeout"), 0), 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(item) for item in allowed]

        def deliverable() -> bool:
            self._drop_unwanted()
            return bool(self._queue) or self._closing

        if not deliverable() and timeout > 0:
            # An empty answer after the poll timeout is exactly what Telegram does.
            with contextlib.suppress(TimeoutError):
                await self._updates_signal.wait_for(deliverable, timeout)
        if self._closing:
            return []
        batch = self._queue[:limit]
        for update in batch:
            self._delivered[int(update["update_id"])] = None
        return copy.deepcopy(batch)

    def _confirm(self, offset: int) -> None:
        before = len(self._queue)
        if offset > 0:
            self._queue = [u for u in self._queue if int(u["update_id"]) >= offset]
        else:
            # A negative offset keeps only the last -offset updates, like Telegram.
            self._queue = self._queue[offset:]
        if len(self._queue) != before:
            self._updates_signal.notify()

    def _drop_unwanted(self) -> None:
        # Telegram never creates updates of types the bot opted out of; dropping them here
        # keeps pending_updates and wait_until_consumed meaningful.
        kept: list[JsonDict] = []
        for update in self._queue:
            if self._wants(_update_type(update)):
                kept.append(update)
            else:
                self._dropped.append(int(update["update_id"]))
        if len(kept) != len(self._queue):
            self._queue = kept
            self._updates_signal.notify()

    def _wants(self, update_type: str | None) -> bool:
        if update_type is None:
            return True
        if self.allowed_updates:
            return update_type in self.allowed_updates
        return update_type not in DEFAULT_EXCLUDED_UPDATE_TYPES

    async def _set_webhook(self, params: JsonDict) -> bool:
        url = params.get("url")
        self.webhook_url = url if isinstance(url, str) else ""
        secret = params.get("secret_token")
        self.webhook_secret_token = secret if isinstance(secret, str) else None
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self.webhook_allowed_updates = [str(item) for item in allowed]
            self.allowed_updates = list(self.webhook_allowed_updates)
        if params.get("drop_pending_updates") is True:
            self._drop_all_pending()
        return True

    async def _delete_webhook(self, params: JsonDict) -> bool:
        self.webhook_url = ""
        self.webhook_secret_token = None
        if params.get("drop_pending_updates") is True:
            self._drop_all_pending()
        return True

    def _drop_all_pending(self) -> None:
        self._dropped.extend(int(update["update_id"]) for update in self._queue)
        self._queue = []
        self._updates_signal.notify()

    async def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook_url:
            info["max_connections"] = 40
        if self.allowed_updates is not None:
            info["allowed_updates"] = list(self.allowed_updates)
        return info

    # Sending ------------------------------------------------------------------------------

    async def _send_message(self, params: JsonDict) -> JsonDict:
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        content: JsonDict = {"text": text}
        if isinstance(params.get("entities"), list):
            content["entities"] = params["entities"]
        return self._store_new_message(params, content)

    async def _send_photo(self, params: JsonDict) -> JsonDict:
        file_id, unique_id, size, _ = self._file_ref(params.get("photo"))
        photo: JsonDict = {
            "file_id": file_id,
            "file_unique_id": unique_id,
            "width": 320,
            "height": 320,
        }
        if size is not None:
            photo["file_size"] = size
        return self._store_new_message(params, {"photo": [photo], **_caption(params)})

    async def _send_document(self, params: JsonDict) -> JsonDict:
        file_id, unique_id, size, filename = self._file_ref(params.get("document"))
        document: JsonDict = {"file_id": file_id, "file_unique_id": unique_id}
        if filename is not None:
            document["file_name"] = filename
        if size is not None:
            document["file_size"] = size
        return self._store_new_message(params, {"document": document, **_caption(params)})

    async def _send_poll(self, params: JsonDict) -> JsonDict:
        question = params.get("question")
        raw_options = params.get("options")
        if not isinstance(question, str) or not question:
            raise _ApiError(400, "Bad Request: poll question must be non-empty")
        if not isinstance(raw_options, list) or len(raw_options) < 2:
            raise _ApiError(400, "Bad Request: poll must have at least 2 option")
        poll_id = f"{self.bot_id}{next(self._poll_ids):08d}"
        options = [
            {
                "persistent_id": str(index),
                "text": str(option.get("text", "")) if isinstance(option, dict) else str(option),
                "voter_count": 0,
            }
            for index, option in enumerate(raw_options)
        ]
        poll_type = params.get("type") if params.get("type") in {"regular", "quiz"} else "regular"
        correct = _correct_option_ids(params)
        poll: JsonDict = {
            "id": poll_id,
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": params.get("is_closed") is True,
            "is_anonymous": params.get("is_anonymous", True) is not False,
            "type": poll_type,
            "allows_multiple_answers": params.get("allows_multiple_answers") is True,
            "allows_revoting": params.get("allows_revoting") is True,
            "members_only": params.get("members_only") is True,
        }
        if poll_type == "quiz" and correct:
            poll["correct_option_ids"] = correct
            poll["correct_option_id"] = correct[0]
        for key in ("explanation", "explanation_entities", "question_entities", "open_period"):
            if key in params:
                poll[key] = params[key]
        if isinstance(params.get("close_date"), int):
            poll["close_date"] = params["close_date"]
        elif isinstance(params.get("open_period"), int):
            poll["close_date"] = int(self._clock()) + params["open_period"]
        message = self._store_new_message(params, {"poll": poll})
        self.polls[poll_id] = SentPoll(
            poll_id, message["chat"]["id"], message["message_id"], list(correct)
        )
        return message

    async def _copy_message(self, params: JsonDict) -> JsonDict:
        source = self._source_message(params, "message to copy not found")
        content = {k: copy.deepcopy(v) for k, v in source.items() if k not in _ENVELOPE_KEYS}
        if "caption" in params:
            content.update(_caption(params))
        message = self._store_new_message(params, content)
        return {"message_id": message["message_id"]}

    async def _forward_message(self, params: JsonDict) -> JsonDict:
        source = self._source_message(params, "message to forward not found")
        content = {k: copy.deepcopy(v) for k, v in source.items() if k not in _ENVELOPE_KEYS}
        content["forward_origin"] = {
            "type": "user",
            "date": source["date"],
            "sender_user": copy.deepcopy(source.get("from", self._short_bot_user())),
        }
        return self._store_new_message({**params, "reply_markup": None}, content)

    def _source_message(self, params: JsonDict, not_found: str) -> JsonDict:
        from_chat = self._resolve_chat_id(params.get("from_chat_id"))
        source = self._messages.get((from_chat, _as_int(params.get("message_id"), 0)))
        if source is None:
            raise _ApiError(400, f"Bad Request: {not_found}")
        return source

    # Editing ------------------------------------------------------------------------------

    async def _edit_message_text(self, params: JsonDict) -> JsonDict | bool:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if "text" not in message:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        text = params.get("text")
        if not isinstance(text, str) or not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        entities = params.get("entities") if isinstance(params.get("entities"), list) else None
        markup = _inline_markup(params.get("reply_markup"))
        if (
            text == message["text"]
            and entities == message.get("entities")
            and markup == message.get("reply_markup")
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        _set_or_pop(message, "entities", entities)
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        _set_or_pop(message, "reply_markup", markup)
        message["edit_date"] = int(self._clock())
        return copy.deepcopy(message)

    async def _edit_message_caption(self, params: JsonDict) -> JsonDict | bool:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if "text" in message or "poll" in message:
            raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
        new = _caption(params)
        markup = _inline_markup(params.get("reply_markup"))
        if new.get("caption") == message.get("caption") and markup == message.get("reply_markup"):
            raise _ApiError(400, _NOT_MODIFIED)
        _set_or_pop(message, "caption", new.get("caption"))
        _set_or_pop(message, "caption_entities", new.get("caption_entities"))
        _set_or_pop(message, "reply_markup", markup)
        message["edit_date"] = int(self._clock())
        return copy.deepcopy(message)

    async def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict | bool:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        markup = _inline_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise _ApiError(400, _NOT_MODIFIED)
        _set_or_pop(message, "reply_markup", markup)
        message["edit_date"] = int(self._clock())
        return copy.deepcopy(message)

    def _message_to_edit(self, params: JsonDict) -> JsonDict:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        message = self._messages.get((chat_id, _as_int(params.get("message_id"), 0)))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return message

    async def _delete_message(self, params: JsonDict) -> bool:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if self._messages.pop((chat_id, _as_int(params.get("message_id"), 0)), None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    async def _delete_messages(self, params: JsonDict) -> bool:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        ids = params.get("message_ids")
        for message_id in ids if isinstance(ids, list) else []:
            self._messages.pop((chat_id, _as_int(message_id, 0)), None)
        return True

    async def _stop_poll(self, params: JsonDict) -> JsonDict:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        message = self._messages.get((chat_id, _as_int(params.get("message_id"), 0)))
        if message is None or "poll" not in message:
            raise _ApiError(400, "Bad Request: message with poll to stop not found")
        poll: JsonDict = message["poll"]
        if poll["is_closed"]:
            raise _ApiError(400, "Bad Request: poll has already been closed")
        poll["is_closed"] = True
        _set_or_pop(message, "reply_markup", _inline_markup(params.get("reply_markup")))
        return copy.deepcopy(poll)

    # Bot settings -------------------------------------------------------------------------

    async def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands[key] = list(commands) if isinstance(commands, list) else []
        return True

    async def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        return copy.deepcopy(self._commands.get(key, []))

    async def _delete_my_commands(self, params: JsonDict) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        self._commands.pop(key, None)
        return True

    async def _set_chat_menu_button(self, params: JsonDict) -> bool:
        button = params.get("menu_button")
        chat_id = params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        self._menu_buttons[key] = button if isinstance(button, dict) else {"type": "default"}
        return True

    async def _get_chat_menu_button(self, params: JsonDict) -> JsonDict:
        chat_id = params.get("chat_id")
        key = chat_id if isinstance(chat_id, int) else None
        button = self._menu_buttons.get(key) or self._menu_buttons.get(None)
        return copy.deepcopy(button) if button else {"type": "default"}

    def _set_text_setting(self, field: str) -> _Handler:
        async def handler(params: JsonDict) -> bool:
            value = params.get(field)
            language = str(params.get("language_code") or "")
            self._descriptions[(field, language)] = value if isinstance(value, str) else ""
            return True

        return handler

    def _get_text_setting(self, field: str) -> _Handler:
        async def handler(params: JsonDict) -> JsonDict:
            language = str(params.get("language_code") or "")
            value = self._descriptions.get((field, language))
            if value is None:
                value = self._descriptions.get((field, ""), "")
            if field == "name" and not value:
                value = self.bot_first_name
            return {field: value}

        return handler

    # Chats --------------------------------------------------------------------------------

    async def _get_file(self, params: JsonDict) -> JsonDict:
        file_id = params.get("file_id")
        stored = self._files.get(file_id) if isinstance(file_id, str) else None
        if stored is None or not isinstance(file_id, str):
            raise _ApiError(400, "Bad Request: invalid file_id")
        file_path, content = stored
        return {
            "file_id": file_id,
            "file_unique_id": f"SIMUNIQUE{file_id.removeprefix('SIMFILE')}",
            "file_size": len(content),
            "file_path": file_path,
        }

    async def _get_chat(self, params: JsonDict) -> JsonDict:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        registered = self._chats.get(chat_id, self._default_chat(chat_id))
        # ChatFullInfo requires these in aiogram 3.31; registered values take precedence.
        defaults: JsonDict = {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        return {**defaults, **copy.deepcopy(registered)}

    async def _get_chat_administrators(self, params: JsonDict) -> list[JsonDict]:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        if self._chat_type(chat_id) == "private":
            raise _ApiError(400, "Bad Request: there are no administrators in the private chat")
        return copy.deepcopy(self._admins.get(chat_id, []))

    async def _get_chat_member(self, params: JsonDict) -> JsonDict:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        user_id = _as_int(params.get("user_id"), 0)
        for entry in self._admins.get(chat_id, []):
            if entry["user"]["id"] == user_id:
                return copy.deepcopy(entry)
        return {"status": "member", "user": self._user(user_id)}

    # ------------------------------------------------------------------------------ helpers

    def _store_new_message(self, params: JsonDict, content: JsonDict) -> JsonDict:
        chat_id = self._resolve_chat_id(params.get("chat_id"))
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        message: JsonDict = {
            "message_id": message_id,
            "date": int(self._clock()),
            "chat": self._message_chat(chat_id),
            "from": self._short_bot_user(),
        }
        thread_id = params.get("message_thread_id")
        if isinstance(thread_id, int):
            message["message_thread_id"] = thread_id
        reply_to = self._reply_target(chat_id, params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update(copy.deepcopy(content))
        markup = _inline_markup(params.get("reply_markup"))
        if markup is not None:
            message["reply_markup"] = markup
        self._messages[(chat_id, message_id)] = message
        return copy.deepcopy(message)

    def _reply_target(self, chat_id: int, params: JsonDict) -> JsonDict | None:
        target_id = params.get("reply_to_message_id")
        target_chat = chat_id
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            target_id = reply.get("message_id")
            if "chat_id" in reply:
                target_chat = self._resolve_chat_id(reply["chat_id"])
        if not isinstance(target_id, int) or target_chat != chat_id:
            return None
        target = self._messages.get((chat_id, target_id))
        if target is None:
            return None
        # Telegram never nests replies more than one level deep.
        return {k: copy.deepcopy(v) for k, v in target.items() if k != "reply_to_message"}

    def _file_ref(self, ref: Any) -> tuple[str, str, int | None, str | None]:
        """file_id, file_unique_id, size and file name for a file param (id, URL or upload)."""
        serial = next(self._file_ids)
        unique_id = f"SIMUNIQUE{serial}"
        if isinstance(ref, dict):
            size = ref.get("size")
            filename = ref.get("filename")
            return (
                f"SIMFILE{serial}",
                unique_id,
                size if isinstance(size, int) else None,
                filename if isinstance(filename, str) else None,
            )
        if isinstance(ref, str) and ref and not ref.startswith(("http://", "https://")):
            return ref, unique_id, None, None
        return f"SIMFILE{serial}", unique_id, None, None

    def _resolve_chat_id(self, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            if _INTEGER_RE.fullmatch(value):
                return int(value)
            username = value.removeprefix("@").lower()
            for chat_id, chat in self._chats.items():
                if str(chat.get("username", "")).lower() == username:
                    return chat_id
        raise _ApiError(400, "Bad Request: chat not found")

    def _chat_type(self, chat_id: int) -> str:
        return str(self._chats.get(chat_id, self._default_chat(chat_id))["type"])

    def _default_chat(self, chat_id: int) -> JsonDict:
        if chat_id > 0:
            user = self._user(chat_id)
            chat: JsonDict = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
            for key in ("last_name", "username"):
                if key in user:
                    chat[key] = user[key]
            return chat
        return {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}

    def _message_chat(self, chat_id: int) -> JsonDict:
        chat = self._chats.get(chat_id, self._default_chat(chat_id))
        return {k: copy.deepcopy(v) for k, v in chat.items() if k in _CHAT_KEYS}

    def _user(self, user_id: int) -> JsonDict:
        if user_id == self.bot_id:
            return self._short_bot_user()
        known = self._users.get(user_id)
        if known is not None:
            return copy.deepcopy(known)
        return {"id": user_id, "is_bot": False, "first_name": "User"}

    def _short_bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _admin_entry(self, item: JsonDict) -> JsonDict:
        spec = copy.deepcopy(item)
        if isinstance(spec.get("user"), dict):
            user: JsonDict = spec.pop("user")
        else:
            user = {key: spec.pop(key) for key in list(spec) if key in _USER_KEYS}
        user = {"is_bot": False, "first_name": "User", **user}
        if "id" not in user:
            raise ValueError("an admin needs a user id")
        self._users.setdefault(int(user["id"]), copy.deepcopy(user))
        status = spec.pop("status", "administrator")
        entry: JsonDict
        if status == "creator":
            entry = {"status": "creator", "user": user, "is_anonymous": False}
        elif status == "administrator":
            entry = {"status": "administrator", "user": user, **_DEFAULT_ADMIN_RIGHTS}
        else:
            raise ValueError(f"admin status must be 'creator' or 'administrator', not {status!r}")
        entry.update(spec)
        return entry


_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


async def _read_params(request: web.Request) -> tuple[JsonDict, dict[str, bytes]]:
    """Collect query, JSON, urlencoded or multipart parameters into one decoded dict, and the
    uploaded files' bytes by the param they fill."""
    raw: JsonDict = dict(request.query)
    files: dict[str, JsonDict] = {}
    contents: dict[str, bytes] = {}
    if request.body_exists:
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise _ApiError(400, "Bad Request: can't parse JSON object") from exc
            if not isinstance(body, dict):
                raise _ApiError(400, "Bad Request: parameters must be a JSON object")
            raw.update(body)
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    content = bytes(await part.read())
                    files[part.name] = {"filename": part.filename, "size": len(content)}
                    contents[part.name] = content
                else:
                    raw[part.name] = await part.text()
        elif content_type == "application/x-www-form-urlencoded":
            form = await request.post()
            raw.update((key, value) for key, value in form.items() if isinstance(value, str))
    params = {key: _decode_value(key, value) for key, value in raw.items()}
    # aiogram sends a file param as "attach://<part name>"; fold the part into the param.
    uploads = dict(contents)
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            part_name = value.removeprefix("attach://")
            if part_name in files:
                params[key] = files.pop(part_name)
                uploads[key] = uploads.pop(part_name)
    params.update(files)
    return params, uploads


def _decode_value(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in _TEXT_FIELDS:
        return value
    stripped = value.strip()
    if (stripped.startswith("{") and stripped.endswith("}")) or (
        stripped.startswith("[") and stripped.endswith("]")
    ):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    if key in _INT_FIELDS and _INTEGER_RE.fullmatch(stripped):
        return int(stripped)
    if value in ("true", "false"):
        return value == "true"
    return value


def _as_int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _INTEGER_RE.fullmatch(value.strip()):
        return int(value)
    return default


def _is_new_message(method: str, result: Any) -> bool:
    return (
        (method.startswith("send") or method in {"copymessage", "forwardmessage"})
        and isinstance(result, dict)
        and "chat" in result
    )


def _update_type(update: JsonDict) -> str | None:
    return next((key for key in update if key != "update_id"), None)


def _inline_markup(markup: Any) -> JsonDict | None:
    # Message.reply_markup only ever holds an inline keyboard; reply keyboards and removals
    # are not echoed back, and an empty inline keyboard means "no keyboard".
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return copy.deepcopy(markup)
    return None


def _caption(params: JsonDict) -> JsonDict:
    content: JsonDict = {}
    caption = params.get("caption")
    if isinstance(caption, str) and caption:
        content["caption"] = caption
        if isinstance(params.get("caption_entities"), list):
            content["caption_entities"] = params["caption_entities"]
    return content


def _correct_option_ids(params: JsonDict) -> list[int]:
    ids = params.get("correct_option_ids")
    if isinstance(ids, list):
        return [_as_int(item, 0) for item in ids]
    single = params.get("correct_option_id")
    if isinstance(single, int):
        return [single]
    return []


def _scope_key(scope: Any) -> str:
    return json.dumps(scope if isinstance(scope, dict) else {"type": "default"}, sort_keys=True)


def _set_or_pop(message: JsonDict, key: str, value: Any) -> None:
    if value is None:
        message.pop(key, None)
    else:
        message[key] = value
