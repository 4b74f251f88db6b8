"""A nudge kept in a backed-up outbox past its deadline is never sent late: the delivery
worker lets it expire, and the nudge ends skipped as late. Against the local Bot API
stand-in over real HTTP, as in ``test_delivery``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from hearth.bot.notifier import OutboxWriter
from hearth.bot.nudges import OutboxNudges, nudge_key
from hearth.domain.delivery import OutboxStatus
from hearth.domain.nudges import NudgeKind, NudgeStatus, SkipReason
from hearth.i18n import build_i18n
from hearth.scheduler import jobs
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.clock import VirtualClock
from hearth.storage.unit_of_work import UnitOfWorkFactory
from tests.bot.test_delivery import ANN, news, queue, row, texts_to, worker_for
from tests.services.test_nudges import DAY, GROUP, community, decisions, drifting, local
from tests.telegram import TOKEN

MEMBER = 1  # dormant, usually active at 20:00, quiet hours from 21:00 (the default)


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn(token=TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
async def telegram(api: BotApiStandIn) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api.base_url)))
    yield bot
    await bot.session.close()


async def nudge_queued(uow_factory: UnitOfWorkFactory, clock: VirtualClock) -> str:
    """The day's plan at 04:05 and the sender at 20:35 queue the member's nudge; its key."""
    await community(uow_factory)
    await drifting(uow_factory, MEMBER, habit=20)
    sender = OutboxNudges(OutboxWriter(build_i18n(), clock))
    clock.set(local(DAY, 4, 5))
    await jobs.plan_nudges(uow_factory, clock)
    clock.set(local(DAY, 20, 35))
    assert await jobs.send_nudges(uow_factory, sender, clock) == 1
    async with uow_factory() as uow:
        [record] = await uow.nudges.history(GROUP, MEMBER)
    return nudge_key(record.id)


async def test_a_nudge_kept_past_its_deadline_is_not_sent_and_ends_late(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    key = await nudge_queued(uow_factory, clock)
    # Due at 20:30: at the latest by 21:00, when the member's quiet hours begin.
    assert (await row(uow_factory, key)).not_after == local(DAY, 21)
    api.rate_limit(retry_after=1, chat_id=MEMBER)
    worker = worker_for(telegram, uow_factory, clock)
    await worker.drain()  # 429: the nudge waits in the queue
    assert (await row(uow_factory, key)).status == OutboxStatus.QUEUED

    clock.set(local(DAY, 21, 5))  # the queue is only worked off after 21:00
    await queue(uow_factory, clock, news(ANN))  # a message without a deadline
    await worker.drain()

    assert api.delivered_to(MEMBER) == []
    assert texts_to(api, ANN) == [f"News for {ANN}"]
    assert (await row(uow_factory, key)).status == OutboxStatus.EXPIRED
    assert await decisions(uow_factory, MEMBER) == [
        (DAY, NudgeStatus.SKIPPED, 1, NudgeKind.LIGHT, SkipReason.LATE)
    ]
    assert worker.stats.expired == 1

    await worker.drain()  # nothing is left to send, or to expire
    assert api.delivered_to(MEMBER) == []
    assert worker.stats.expired == 1


async def test_a_nudge_sent_before_its_deadline_reaches_the_member(
    api: BotApiStandIn, telegram: Bot, uow_factory: UnitOfWorkFactory, clock: VirtualClock
):
    key = await nudge_queued(uow_factory, clock)
    clock.set(local(DAY, 20, 55))
    worker = worker_for(telegram, uow_factory, clock)

    await worker.drain()

    assert len(api.delivered_to(MEMBER)) == 1
    assert (await row(uow_factory, key)).status == OutboxStatus.SENT
    [(_, status, _, _, reason)] = await decisions(uow_factory, MEMBER)
    assert (status, reason) == (NudgeStatus.SENT, None)
