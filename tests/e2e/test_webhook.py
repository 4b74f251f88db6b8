"""Webhook mode: the secret token is checked and updates reach the dispatcher."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hearth.bot.app import Hearth, build_hearth
from hearth.bot.runner import build_webhook_app
from hearth.simulate import updates
from hearth.simulate.clock import VirtualClock
from tests.conftest import fresh_schema, make_settings
from tests.telegram import RecordingSession

SECRET = "s3cret-token"
ALICE = updates.user(4001, "Alice")


@pytest.fixture
async def webhook(sqlite_url: str, clock: VirtualClock) -> AsyncIterator[tuple[Hearth, TestClient]]:
    session = RecordingSession()
    settings = make_settings(
        sqlite_url, webhook_url="https://bot.example.org/tg/hook", webhook_secret=SECRET
    )
    hearth = build_hearth(settings, clock=clock, session=session)
    await fresh_schema(hearth.engine)
    client = TestClient(TestServer(build_webhook_app(hearth)))
    await client.start_server()
    yield hearth, client
    await client.close()


def start_update(update_id: int) -> dict[str, object]:
    raw = updates.message(updates.private(ALICE), ALICE, "/start", datetime.now(UTC))
    return {**raw, "update_id": update_id}


async def test_the_webhook_is_registered_with_the_secret_and_the_needed_update_types(
    webhook: tuple[Hearth, TestClient],
):
    hearth, _ = webhook
    session = hearth.bot.session
    assert isinstance(session, RecordingSession)
    [registration] = session.of("setWebhook")
    assert registration.params["url"] == "https://bot.example.org/tg/hook"
    assert registration.params["secret_token"] == SECRET
    assert {"chat_member", "message_reaction", "poll_answer"} <= set(
        registration.params["allowed_updates"]
    )


async def test_a_request_without_the_secret_is_refused_and_changes_nothing(
    webhook: tuple[Hearth, TestClient],
):
    hearth, client = webhook
    response = await client.post(
        "/tg/hook", json=start_update(1), headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
    )
    assert response.status == 401
    session = hearth.bot.session
    assert isinstance(session, RecordingSession)
    assert session.messages_to(ALICE["id"]) == []


async def test_an_update_with_the_secret_is_answered(webhook: tuple[Hearth, TestClient]):
    hearth, client = webhook
    response = await client.post(
        "/tg/hook", json=start_update(2), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status == 200
    session = hearth.bot.session
    assert isinstance(session, RecordingSession)
    for _ in range(100):  # the handler runs in the background after the 200
        if session.messages_to(ALICE["id"]):
            break
        await asyncio.sleep(0.02)
    assert "Welcome, Alice!" in session.texts_to(ALICE["id"])[0]
