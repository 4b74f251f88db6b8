"""Group welcomes within the group's message budget: a burst of joins gets one message.

A group can take about 20 bot messages a minute. The first newcomer after a quiet spell is
greeted at once; newcomers who follow within the window are greeted together, in one
message, when the window ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n

from hearth.domain.deep_links import community_payload, start_link
from hearth.domain.members import CommunityProfile
from hearth.handlers import keyboards, texts

log = logging.getLogger(__name__)


class GroupWelcomes:
    """Sends group welcomes, at most one per community per ``window`` seconds."""

    def __init__(self, i18n: I18n, window: float) -> None:
        self.i18n = i18n
        self.window = window
        self._last_sent: dict[int, float] = {}
        self._waiting: dict[int, list[str]] = {}
        self._timers: dict[int, asyncio.Task[None]] = {}
        self._targets: dict[int, tuple[Bot, CommunityProfile]] = {}  # who a timer will greet
        self.sent = 0

    async def welcome(self, bot: Bot, community: CommunityProfile, names: list[str]) -> None:
        """Greet ``names`` in the community's group, now or with the next batch."""
        now = time.monotonic()
        last = self._last_sent.get(community.id)
        quiet = last is None or now - last >= self.window
        if quiet and community.id not in self._timers:
            self._last_sent[community.id] = now
            await self._send(bot, community, names)
            return
        self._waiting.setdefault(community.id, []).extend(names)
        if community.id not in self._timers:
            delay = self.window - (now - (last or now))
            self._targets[community.id] = (bot, community)
            self._timers[community.id] = asyncio.create_task(
                self._send_later(bot, community, max(0.0, delay)),
                name=f"hearth-welcome-{community.id}",
            )

    async def drain(self) -> None:
        """At shutdown: greet everyone still waiting, without waiting for the window."""
        timers, self._timers = self._timers, {}
        for task in timers.values():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        targets, self._targets = self._targets, {}
        for community_id, (bot, community) in targets.items():
            names = self._waiting.pop(community_id, [])
            if names:
                await self._send(bot, community, names)

    async def _send_later(self, bot: Bot, community: CommunityProfile, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timers.pop(community.id, None)
        self._targets.pop(community.id, None)
        names = self._waiting.pop(community.id, [])
        self._last_sent[community.id] = time.monotonic()
        if names:
            await self._send(bot, community, names)

    async def _send(self, bot: Bot, community: CommunityProfile, names: list[str]) -> None:
        me = await bot.me()
        link = start_link(me.username or "", community_payload(community.id))
        with self.i18n.context(), self.i18n.use_locale(community.locale):
            text = texts.group_welcome(names)
            markup = keyboards.start_bot(link)
        try:
            await bot.send_message(
                community.id, text, reply_markup=markup, disable_notification=True
            )
            self.sent += 1
        except TelegramAPIError as error:
            log.warning("welcome in %s not delivered: %s", community.id, error)
