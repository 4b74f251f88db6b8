"""Acknowledgements sent after the handler returns, within Telegram's limits.

A check-in is acknowledged with a reaction in the group and its details in private. Neither
needs to hold up the update: the handler queues them, and a few background senders deliver
them within the delivery engine's shared ``SendBudget``, ahead of reminders and broadcasts
(they are replies), honouring ``retry_after``. A member who blocked the bot is marked
unreachable. What is still queued at shutdown is sent before the process exits.
Acknowledgements are replies, not worth a crash-proof queue: they skip the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import ReactionTypeEmoji

from hearth.bot.delivery import SendBudget
from hearth.domain.delivery import Priority
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Reaction:
    chat_id: int
    message_id: int
    emoji: str


@dataclass(frozen=True, slots=True)
class _Private:
    member_id: int
    text: str


class Acknowledgements:
    """Queues reactions and private notes; background senders deliver them in order."""

    def __init__(
        self,
        bot: Bot,
        uow_factory: UnitOfWorkFactory,
        directory: Directory,
        budget: SendBudget,
        *,
        senders: int = 4,
    ) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.directory = directory
        self.budget = budget
        self._queue: asyncio.Queue[_Reaction | _Private] = asyncio.Queue()
        self._senders: list[asyncio.Task[None]] = []
        self._count = senders
        self.sent = 0

    def react(self, chat_id: int, message_id: int, emoji: str) -> None:
        self._enqueue(_Reaction(chat_id, message_id, emoji))

    def tell(self, member_id: int, text: str) -> None:
        self._enqueue(_Private(member_id, text))

    def _enqueue(self, item: _Reaction | _Private) -> None:
        self._queue.put_nowait(item)
        if not self._senders:
            self._senders = [
                asyncio.create_task(self._send_forever(), name=f"hearth-ack-{index}")
                for index in range(self._count)
            ]

    async def idle(self) -> None:
        """Wait until everything queued so far has been sent (or given up)."""
        await self._queue.join()

    async def stop(self) -> None:
        """Send what is queued, then stop the senders."""
        if self._senders:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=30)
        for task in self._senders:
            task.cancel()
        for task in self._senders:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._senders = []

    async def _send_forever(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                await self._deliver(item)
            except Exception:  # one bad acknowledgement must not stop the others
                log.exception("acknowledgement failed")
            finally:
                self._queue.task_done()

    async def _deliver(self, item: _Reaction | _Private) -> None:
        chat_id = item.chat_id if isinstance(item, _Reaction) else item.member_id
        # Private chats take one message a second; reactions only count against the total.
        counts_for_chat = isinstance(item, _Private)
        for attempt in range(2):
            async with self.budget.slot(chat_id, Priority.REPLY, counts_for_chat=counts_for_chat):
                try:
                    if isinstance(item, _Reaction):
                        await self.bot.set_message_reaction(
                            item.chat_id, item.message_id, [ReactionTypeEmoji(emoji=item.emoji)]
                        )
                    else:
                        await self.bot.send_message(item.member_id, item.text)
                    self.sent += 1
                    return
                except TelegramRetryAfter as pause:
                    self.budget.pause(pause.retry_after)  # the next slot waits it out
                    if attempt:
                        return
                except TelegramForbiddenError:
                    if isinstance(item, _Private):
                        async with self.uow_factory() as uow:
                            await members.set_reachable(
                                uow, self.directory, member_id=item.member_id, reachable=False
                            )
                            await uow.commit()
                    return
                except TelegramAPIError as error:  # e.g. reactions disabled in the group
                    log.info("acknowledgement to %s not delivered: %s", chat_id, error)
                    return
