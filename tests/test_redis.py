"""Redis, when configured: aiogram's FSM state lives there and survives the process."""

from __future__ import annotations

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.redis import RedisStorage

from hearth.bot.app import build_hearth
from tests.conftest import REDIS_URL, make_settings
from tests.telegram import BOT_ID, RecordingSession

pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="HEARTH_TEST_REDIS_URL is not set")


async def test_with_a_redis_url_dialog_state_is_kept_in_redis(sqlite_url: str) -> None:
    assert REDIS_URL is not None
    hearth = build_hearth(
        make_settings(sqlite_url, redis_url=REDIS_URL), session=RecordingSession()
    )
    storage = hearth.dispatcher.fsm.storage
    assert isinstance(storage, RedisStorage)
    key = StorageKey(bot_id=BOT_ID, chat_id=4242, user_id=4242)
    await FSMContext(storage, key).set_state("event_new:title")

    # Another process (a fresh storage on the same Redis) sees the same state.
    other = RedisStorage.from_url(REDIS_URL)
    try:
        assert await FSMContext(other, key).get_state() == "event_new:title"
        await FSMContext(other, key).clear()
    finally:
        await other.close()
        await storage.close()
        await hearth.engine.dispose()
