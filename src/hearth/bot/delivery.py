"""The delivery engine: sends what the outbox holds, within Telegram's limits, exactly once.

One ``SendBudget`` is shared by everything that writes to Telegram on the bot's own
initiative or in the background (acknowledgements too): about 30 messages a second overall,
one a second per private chat, 20 a minute per group, and a pause for everyone when
Telegram answers 429. Waiting senders go in priority order: replies to members, then
reminders, then broadcasts.

The worker claims each message with one conditional ``UPDATE`` right before sending it and
records the outcome right after, so that a crash leaves at most the messages in flight in
doubt; those are settled as ``interrupted`` and not repeated (a duplicate is worse than
the rare lost message), everything still queued is sent after the restart. A message with
a deadline (``not_after``) that a backed-up queue kept past it is settled as ``expired``,
never sent late.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message

from hearth.bot.nudges import NUDGE_KIND, nudge_expired
from hearth.bot.shared_limits import SharedLimits
from hearth.domain.delivery import (
    SENDING_LEASE,
    Method,
    OutboxStatus,
    Priority,
    QueuedMessage,
    gives_up,
    retry_at,
)
from hearth.services import members
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from hearth.storage.outbox import DEFAULT_LEASE

log = logging.getLogger(__name__)

FAILED = OutboxStatus.FAILED
SWEEP_EVERY = timedelta(minutes=1)  # how often rows left by dead workers are settled
_BUCKETS_KEPT = 10_000  # per-chat buckets remembered before idle ones are forgotten


class WindowLimiter:
    """At most ``limit`` acquisitions in any ``period`` seconds, first come first served.

    This is how Telegram counts ("20 messages per minute to a group"). A token bucket that
    starts full (``aiolimiter.AsyncLimiter(20, 60)``) lets a burst of 20 through and then
    refills at 20 a minute, so a first minute can see close to 40 — and every pause empties
    the bucket for another burst.
    """

    def __init__(self, limit: float, period: float) -> None:
        if limit < 1:  # e.g. 0.5 a second: one every two seconds
            limit, period = 1, period / limit
        self.limit = int(limit)
        self.period = period
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()  # fair: waiters are served in order

    async def acquire(
        self,
        hold: Callable[[], Awaitable[None]] | None = None,
        admit: Callable[[], Awaitable[None]] | None = None,
    ) -> float:
        """Wait for room in the window; returns the loop time the acquisition counts at.

        ``hold`` (e.g. a 429 pause) is awaited in turn, before the room is counted, so that
        nobody takes room in a window that will be over when they may go. ``admit`` (the
        window all workers share) is awaited in turn once there is room here; it returns
        when it took room there too.
        """
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                if hold is not None:
                    await hold()
                now = loop.time()
                # (a microsecond early is as good as on time, and never spins on rounding)
                while self._stamps and self._stamps[0] + self.period <= now + 1e-6:
                    self._stamps.popleft()
                if len(self._stamps) < self.limit:
                    if admit is not None:
                        await admit()
                        now = loop.time()
                    self._stamps.append(now)
                    return now
                await asyncio.sleep(self._stamps[0] + self.period - now)

    def restamp(self, stamp: float) -> float:
        """Count the acquisition made at ``stamp`` as made now (its message left later)."""
        with contextlib.suppress(ValueError):
            self._stamps.remove(stamp)
        now = asyncio.get_running_loop().time()
        self._stamps.append(now)
        return now

    def idle(self) -> bool:
        """Nothing acquired within the last period: as good as a new limiter."""
        last = self._stamps[-1] if self._stamps else None
        quiet = last is None or last <= asyncio.get_running_loop().time() - self.period
        return quiet and not self._lock.locked()


class SendBudget:
    """Telegram's limits as sliding windows, with a priority gate and a shared 429 pause.

    With ``shared`` (Redis), every worker of the bot spends one budget: a slot is granted
    when this worker's windows and the shared ones both have room, and a 429 pauses all.
    """

    def __init__(
        self,
        *,
        per_second: float = 30,
        per_private_chat_per_second: float = 1,
        per_group_per_minute: float = 20,
        shared: SharedLimits | None = None,
    ) -> None:
        self._overall = WindowLimiter(per_second, 1)
        self._private: defaultdict[int, WindowLimiter] = defaultdict(
            lambda: WindowLimiter(per_private_chat_per_second, 1)
        )
        self._groups: defaultdict[int, WindowLimiter] = defaultdict(
            lambda: WindowLimiter(per_group_per_minute, 60)
        )
        self._waiting: Counter[Priority] = Counter()
        self._turn = asyncio.Condition()
        self._resume_at = 0.0
        self.pauses = 0  # how many 429s paused sending
        self._shared = shared
        self._admit_overall = (
            None if shared is None else partial(shared.admit_overall, self._sit_out_pause)
        )
        self._announcing: set[asyncio.Task[None]] = set()  # pauses on their way to Redis

    @contextlib.asynccontextmanager
    async def slot(
        self,
        chat_id: int,
        priority: Priority,
        *,
        counts_for_chat: bool = True,
        shared_at_departure: bool = False,
    ) -> AsyncIterator[Callable[[], None]]:
        """Wait until a message to ``chat_id`` may go out (reactions count only overall).

        The priority gate is for the overall budget only: a reply waiting for its own
        chat's budget (a busy group) must not hold up messages to other chats. Yields a
        function to call right before the request if some work comes first (the worker's
        claim), so that the windows count the message when it really leaves.

        With ``shared_at_departure`` the caller takes room in the window all workers share
        itself, with :meth:`departing`, right before the request: a database round trip
        between the two (the claim) would otherwise let messages of two workers arrive
        closer together than the shared window counted them.
        """
        await self._sit_out_pause()
        per_chat = self._chat_bucket(chat_id) if counts_for_chat else None
        chat_stamp = await per_chat.acquire(admit=self._admit_chat(chat_id)) if per_chat else 0.0
        self._waiting[priority] += 1
        try:
            async with self._turn:
                await self._turn.wait_for(lambda: not self._more_urgent_than(priority))
            await self._sit_out_pause()
            # A 429 that comes while waiting holds everyone in the queue too.
            admit = None if shared_at_departure else self._admit_overall
            overall_stamp = await self._overall.acquire(self._sit_out_pause, admit)
        finally:
            self._waiting[priority] -= 1
            async with self._turn:
                self._turn.notify_all()

        def leaving_now() -> None:  # count it in both windows when it leaves, not when granted
            nonlocal overall_stamp, chat_stamp
            overall_stamp = self._overall.restamp(overall_stamp)
            if per_chat is not None:
                chat_stamp = per_chat.restamp(chat_stamp)

        leaving_now()
        yield leaving_now

    async def departing(self) -> None:
        """Take room in the shared overall window now (after ``slot(shared_at_departure=…)``)."""
        if self._admit_overall is not None:
            await self._admit_overall()

    def _chat_bucket(self, chat_id: int) -> WindowLimiter:
        buckets = self._private if chat_id > 0 else self._groups
        if chat_id not in buckets and len(buckets) >= _BUCKETS_KEPT:
            # Forget chats that sent nothing for a whole window: they are as good as new.
            for idle in [chat for chat, bucket in buckets.items() if bucket.idle()]:
                del buckets[idle]
        return buckets[chat_id]

    def _admit_chat(self, chat_id: int) -> Callable[[], Awaitable[None]] | None:
        return None if self._shared is None else partial(self._shared.admit_chat, chat_id)

    def pause(self, seconds: float) -> None:
        """Telegram asked for a pause (429): nobody sends until it is over (no worker)."""
        loop = asyncio.get_running_loop()
        self._resume_at = max(self._resume_at, loop.time() + seconds)
        self.pauses += 1
        if self._shared is not None:
            announcing = loop.create_task(self._shared.pause(seconds))
            self._announcing.add(announcing)
            announcing.add_done_callback(self._announcing.discard)

    async def settle(self) -> None:
        """Wait until the pauses this worker announced have reached the other workers."""
        if self._announcing:
            await asyncio.gather(*self._announcing)

    def _more_urgent_than(self, priority: Priority) -> bool:
        return any(self._waiting[other] for other in Priority if other < priority)

    async def _sit_out_pause(self) -> None:
        delay = self._resume_at - asyncio.get_running_loop().time()
        if delay > 0:  # (checked again after every other wait)
            await asyncio.sleep(delay)
        if self._shared is not None:  # another worker's 429 holds this one too
            # (the pause lives in Redis and may be extended: no local Event can tell)
            while (left := await self._shared.paused_for()) > 0:  # noqa: ASYNC110
                await asyncio.sleep(left)


@dataclass
class DeliveryStats:
    """What the worker did since it started (for benchmarks, logs and metrics)."""

    sent: int = 0
    retried: int = 0
    rate_limited: int = 0  # 429s received
    blocked: int = 0
    failed: int = 0
    expired: int = 0  # past their deadline before they could go: not sent


class DeliveryWorker:
    """Sends due outbox messages; several may be in flight, one per chat at a time."""

    def __init__(
        self,
        bot: Bot,
        uow_factory: UnitOfWorkFactory,
        directory: Directory,
        budget: SendBudget,
        clock: Clock,
        *,
        concurrency: int = 16,
        poll_seconds: float = 1.0,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self.bot = bot
        self.uow_factory = uow_factory
        self.directory = directory
        self.budget = budget
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.lease = lease  # how long a batch taken from the queue is this worker's alone
        self.stats = DeliveryStats()
        self._slots = asyncio.Semaphore(concurrency)
        # Rows leased per look at the queue: enough to keep every slot busy for a while,
        # few enough that a worker that dies holds back little until its lease runs out.
        self.batch = max(16, 4 * concurrency)
        self._busy_chats: set[int] = set()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._wakeup = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        """Something was queued: look at the queue now rather than at the next poll."""
        self._wakeup.set()

    async def start(self) -> None:
        """Settle what a dead worker left in flight, then start sending."""
        await self.sweep()
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name="hearth-delivery")

    async def stop(self, timeout: float = 30) -> None:
        """Stop taking new messages; let those in flight finish (up to ``timeout`` seconds)."""
        self._stopping = True
        self._wakeup.set()
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=timeout)

    async def sweep(self) -> int:
        """Settle messages claimed by a worker that died while sending them."""
        async with self.uow_factory() as uow:
            settled = await uow.outbox.interrupt_stale(self.clock.now() - SENDING_LEASE)
            await uow.commit()
        if settled:
            log.warning("%d outbox messages were in flight when a worker stopped", settled)
        return settled

    async def drain(self) -> None:
        """Send everything due now and wait until it is done (tests, simulation, CLI)."""
        while await self._take_due():
            if self._in_flight:
                await asyncio.wait(set(self._in_flight))
        if self._in_flight:
            await asyncio.wait(set(self._in_flight))

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + SWEEP_EVERY.total_seconds()
        while not self._stopping:
            self._wakeup.clear()
            try:
                taken = await self._take_due()
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + SWEEP_EVERY.total_seconds()
                    await self.sweep()
            except Exception:  # the database may be briefly away: try again shortly
                log.exception("delivery loop failed; retrying")
                taken = 0
            if taken:
                continue
            await self._idle()

    async def _idle(self) -> None:
        """Wait for something new: a wake-up, a message in flight finishing, or the next due."""
        waker = asyncio.create_task(self._wakeup.wait())
        try:
            # Due messages whose chats are busy cannot start before a send in flight ends.
            timeout = self.poll_seconds if self._in_flight else await self._idle_seconds()
            await asyncio.wait(
                {waker, *self._in_flight}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            waker.cancel()

    async def _idle_seconds(self) -> float:
        async with self.uow_factory() as uow:
            due_at = await uow.outbox.next_due_at()
        if due_at is None:
            return self.poll_seconds
        wait = (due_at - self.clock.now()).total_seconds()
        return min(max(wait, 0.01), self.poll_seconds)

    async def _take_due(self) -> int:
        """Start sending due messages (at most one per chat at a time) and settle those past
        their deadline; how many started or expired."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            due = await uow.outbox.due(now, limit=self.batch, lease=self.lease)
            await uow.commit()
        late = [message for message in due if message.expired(now)]
        if late:
            await self._expire(late, now)
        started = len(late)
        left: list[int] = []  # leased but not started: given back for any worker to take
        for message in due:
            if message.expired(now):
                continue
            if self._stopping or message.chat_id in self._busy_chats:
                left.append(message.id)
                continue
            await self._slots.acquire()
            self._busy_chats.add(message.chat_id)
            task = asyncio.create_task(self._deliver(message), name=f"hearth-send-{message.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)
            started += 1
        if left:
            async with self.uow_factory() as uow:
                await uow.outbox.release(left)
                await uow.commit()
        return started

    async def _expire(self, messages: list[QueuedMessage], now: datetime) -> None:
        """Settle messages whose deadline passed while they waited, and what they were for."""
        expired = 0
        async with self.uow_factory() as uow:
            for message in messages:
                if not await uow.outbox.expire(message.id, now):
                    continue  # settled meanwhile by another worker
                expired += 1
                if message.kind == NUDGE_KIND:
                    await nudge_expired(uow, message.dedupe_key)
            await uow.commit()
        self.stats.expired += expired
        if expired:
            log.info("%d outbox messages expired before they could go", expired)

    async def _deliver(self, message: QueuedMessage) -> None:
        try:
            async with self.budget.slot(
                message.chat_id, message.priority, shared_at_departure=True
            ) as leaving_now:
                async with self.uow_factory() as uow:
                    claimed = await uow.outbox.claim(message.id, self.clock.now())
                    await uow.commit()
                if claimed:
                    await self.budget.departing()
                    leaving_now()
                    await self._send_and_record(message)
        except Exception:  # one message must never stop the others
            log.exception("delivery of outbox message %d failed", message.id)
        finally:
            self._busy_chats.discard(message.chat_id)
            self._slots.release()

    async def _send_and_record(self, message: QueuedMessage) -> None:
        attempts = message.attempts + 1
        outbox_id = message.id
        try:
            telegram_message_id = await self._call(message)
        except TelegramRetryAfter as pause:
            self.stats.rate_limited += 1
            self.budget.pause(pause.retry_after)
            log.warning("Telegram asked to pause %d s (outbox %d)", pause.retry_after, outbox_id)
            later = self.clock.now() + timedelta(seconds=pause.retry_after)
            reason = pause.message
            await self._record(lambda uow: uow.outbox.retry(outbox_id, later, reason))
        except TelegramForbiddenError as refusal:
            self.stats.blocked += 1
            await self._blocked(message, refusal.message)
        except TelegramBadRequest as refusal:
            reason = refusal.message
            if "message is not modified" in reason:  # an edit that changes nothing
                await self._record(lambda uow: uow.outbox.sent(outbox_id, self.clock.now(), None))
                return
            self.stats.failed += 1
            log.info("outbox %d refused: %s", outbox_id, reason)
            await self._record(lambda uow: uow.outbox.give_up(outbox_id, FAILED, reason))
        except (TelegramNetworkError, TelegramServerError, TelegramAPIError, OSError) as error:
            await self._transient(message, attempts, f"{type(error).__name__}: {error}")
        except Exception as error:  # e.g. a payload aiogram refuses: never tried again
            self.stats.failed += 1
            log.exception("outbox %d could not be sent", outbox_id)
            reason = f"{type(error).__name__}: {error}"
            await self._record(lambda uow: uow.outbox.give_up(outbox_id, FAILED, reason))
        else:
            self.stats.sent += 1
            now = self.clock.now()
            await self._record(lambda uow: uow.outbox.sent(outbox_id, now, telegram_message_id))

    async def _call(self, message: QueuedMessage) -> int | None:
        payload: dict[str, Any] = dict(message.payload)
        if "reply_markup" in payload:
            payload["reply_markup"] = InlineKeyboardMarkup.model_validate(payload["reply_markup"])
        result: Message | bool
        if message.method is Method.SEND_PHOTO:
            if "attachment" in payload:  # a stored file (a digest chart): upload its bytes
                payload["photo"] = await self._attachment(int(payload.pop("attachment")))
            result = await self.bot.send_photo(message.chat_id, **payload)
        elif message.method is Method.EDIT_MESSAGE_TEXT:
            result = await self.bot.edit_message_text(chat_id=message.chat_id, **payload)
        else:
            result = await self.bot.send_message(message.chat_id, **payload)
        return result.message_id if isinstance(result, Message) else None

    async def _attachment(self, attachment_id: int) -> BufferedInputFile:
        """The stored file to upload; LookupError (the message fails) once it was purged."""
        async with self.uow_factory() as uow:
            stored = await uow.attachments.get(attachment_id)
        if stored is None:
            raise LookupError(f"attachment {attachment_id} is no longer stored")
        filename, content = stored
        return BufferedInputFile(content, filename=filename)

    async def _blocked(self, message: QueuedMessage, reason: str) -> None:
        async with self.uow_factory() as uow:
            await uow.outbox.give_up(message.id, OutboxStatus.BLOCKED, reason)
            if message.chat_id > 0:  # a member: no more private messages until /start
                await uow.outbox.block_chat(message.chat_id, reason)
                await members.set_reachable(
                    uow, self.directory, member_id=message.chat_id, reachable=False
                )
            await uow.commit()

    async def _transient(self, message: QueuedMessage, attempts: int, error: str) -> None:
        if gives_up(attempts):
            self.stats.failed += 1
            log.warning(
                "outbox %d failed for good after %d attempts: %s", message.id, attempts, error
            )
            await self._record(
                lambda uow: uow.outbox.give_up(message.id, OutboxStatus.FAILED, error)
            )
            return
        self.stats.retried += 1
        later = retry_at(self.clock.now(), attempts)
        await self._record(lambda uow: uow.outbox.retry(message.id, later, error))

    async def _record(self, change: Callable[[UnitOfWork], Awaitable[object]]) -> None:
        async with self.uow_factory() as uow:
            await change(uow)
            await uow.commit()
