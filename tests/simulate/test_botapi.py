"""The Bot API stand-in answers a real aiogram bot the way Telegram would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputPollOption,
    Message,
)

from hearth.simulate.botapi import BotApiStandIn

TOKEN = "123456:SIMULATED"
USER_ID = 4242
GROUP_ID = -100777


def _bot(base_url: str, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base_url)))


def _message_update(text: str, chat_id: int = USER_ID) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "Ann"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Ann"},
            "text": text,
        }
    }


@pytest.fixture
async def api() -> AsyncIterator[BotApiStandIn]:
    async with BotApiStandIn(unsupported={"setMyCommands"}) as stand_in:
        yield stand_in


@pytest.fixture
async def bot(api: BotApiStandIn) -> AsyncIterator[Bot]:
    client = _bot(api.base_url)
    yield client
    await client.session.close()


async def test_get_me_returns_the_simulated_bot_user(bot: Bot) -> None:
    me = await bot.get_me()

    assert me.id == 123456
    assert me.is_bot
    assert me.username == "hearth_sim_bot"
    assert me.can_join_groups
    assert me.has_main_web_app is False


async def test_a_sent_message_is_returned_and_recorded(api: BotApiStandIn, bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="yes")]]
    )

    first = await bot.send_message(USER_ID, "Hello", reply_markup=keyboard)
    second = await bot.send_message(USER_ID, "[1, 2]", message_thread_id=7)

    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == USER_ID
    assert first.chat.type == "private"
    assert first.from_user is not None
    assert first.from_user.id == api.bot_id
    assert first.reply_markup is not None
    assert first.reply_markup.model_dump() == keyboard.model_dump()
    assert second.message_thread_id == 7
    sent = api.sent_messages(USER_ID)
    assert [params["text"] for params in sent] == ["Hello", "[1, 2]"]
    assert sent[0]["chat_id"] == USER_ID
    assert sent[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert sent[1]["message_thread_id"] == 7
    assert api.calls_of("sendMessage")[0].method == "sendMessage"
    stored = api.message(USER_ID, 1)
    assert stored is not None
    assert stored["text"] == "Hello"


async def test_long_polling_delivers_an_injected_update_and_the_next_offset_confirms_it(
    api: BotApiStandIn, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_for_call("getUpdates")
    update_id = api.add_update(_message_update("/start"))

    updates = await asyncio.wait_for(poll, 2)

    assert update_id == 1
    assert [update.update_id for update in updates] == [1]
    assert updates[0].message is not None
    assert updates[0].message.text == "/start"
    assert api.pending_updates == 1
    assert api.delivered_update_ids == [1]
    assert api.max_delivered_update_id == 1

    assert await bot.get_updates(offset=update_id + 1) == []
    assert api.pending_updates == 0
    await api.wait_until_consumed(timeout=0.1)


async def test_a_long_poll_without_updates_answers_an_empty_list_after_its_timeout(
    bot: Bot,
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()

    assert await bot.get_updates(timeout=1) == []
    assert loop.time() - started >= 0.9


async def test_updates_of_types_the_bot_did_not_ask_for_are_dropped(
    api: BotApiStandIn, bot: Bot
) -> None:
    reaction = {
        "message_reaction": {
            "chat": {"id": GROUP_ID, "type": "supergroup", "title": "Hearth"},
            "message_id": 3,
            "date": 1_700_000_000,
            "old_reaction": [],
            "new_reaction": [],
        }
    }
    api.add_updates([reaction, _message_update("hi")])

    updates = await bot.get_updates()

    assert [update.update_id for update in updates] == [2]
    assert api.dropped_update_ids == [1]

    api.add_update(reaction)
    updates = await bot.get_updates(offset=3, allowed_updates=["message_reaction"])

    assert [update.update_id for update in updates] == [3]
    assert api.allowed_updates == ["message_reaction"]


async def test_editing_a_message_changes_it_and_an_identical_edit_is_rejected_as_not_modified(
    api: BotApiStandIn, bot: Bot
) -> None:
    sent = await bot.send_message(USER_ID, "Draft")

    edited = await bot.edit_message_text(text="Final", chat_id=USER_ID, message_id=sent.message_id)

    assert isinstance(edited, Message)
    assert edited.text == "Final"
    assert edited.edit_date is not None
    stored = api.message(USER_ID, sent.message_id)
    assert stored is not None
    assert stored["text"] == "Final"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text="Final", chat_id=USER_ID, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="Other", chat_id=USER_ID, message_id=999)


async def test_an_inline_keyboard_can_be_replaced_and_removed(api: BotApiStandIn, bot: Bot) -> None:
    sent = await bot.send_message(USER_ID, "Vote")
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Go", callback_data="go")]]
    )

    edited = await bot.edit_message_reply_markup(
        chat_id=USER_ID, message_id=sent.message_id, reply_markup=keyboard
    )
    assert isinstance(edited, Message)
    assert edited.reply_markup is not None
    assert edited.reply_markup.model_dump() == keyboard.model_dump()

    cleared = await bot.edit_message_reply_markup(chat_id=USER_ID, message_id=sent.message_id)
    assert isinstance(cleared, Message)
    assert cleared.reply_markup is None
    with pytest.raises(TelegramBadRequest, match="not modified"):
        await bot.edit_message_reply_markup(chat_id=USER_ID, message_id=sent.message_id)


async def test_an_injected_rate_limit_raises_retry_after_with_its_delay(
    api: BotApiStandIn, bot: Bot
) -> None:
    api.fail_next(
        "sendMessage",
        error_code=429,
        description="Too Many Requests: retry after 7",
        retry_after=7,
        chat_id=USER_ID,
    )

    other = await bot.send_message(USER_ID + 1, "not this chat")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER_ID, "slow down")
    retried = await bot.send_message(USER_ID, "again")

    assert other.message_id == 1
    assert caught.value.retry_after == 7
    assert retried.text == "again"


async def test_sending_to_a_blocked_chat_is_forbidden(api: BotApiStandIn, bot: Bot) -> None:
    api.block_chat(USER_ID)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "anyone there?")

    api.unblock_chat(USER_ID)
    assert (await bot.send_message(USER_ID, "welcome back")).message_id == 1


async def test_an_unsupported_method_is_not_found_but_other_methods_keep_working(
    api: BotApiStandIn, bot: Bot
) -> None:
    with pytest.raises(TelegramNotFound, match="method not found"):
        await bot.set_my_commands([BotCommand(command="start", description="Start")])

    assert await bot.delete_my_commands()
    assert (await bot.get_me()).id == api.bot_id
    assert [call.method for call in api.calls] == ["setMyCommands", "deleteMyCommands", "getMe"]


async def test_a_sent_quiz_poll_is_a_valid_poll_and_can_be_stopped(
    api: BotApiStandIn, bot: Bot
) -> None:
    sent = await bot.send_poll(
        GROUP_ID,
        "2 + 2?",
        [InputPollOption(text="3"), InputPollOption(text="4")],
        type="quiz",
        correct_option_ids=[1],
        is_anonymous=False,
    )

    assert sent.poll is not None
    assert sent.chat.type == "supergroup"
    assert [option.text for option in sent.poll.options] == ["3", "4"]
    assert sent.poll.type == "quiz"
    assert sent.poll.is_anonymous is False
    recorded = api.polls[sent.poll.id]
    assert (recorded.chat_id, recorded.message_id, recorded.correct_option_ids) == (
        GROUP_ID,
        sent.message_id,
        [1],
    )

    stopped = await bot.stop_poll(GROUP_ID, sent.message_id)
    assert stopped.is_closed
    with pytest.raises(TelegramBadRequest, match="already been closed"):
        await bot.stop_poll(GROUP_ID, sent.message_id)


async def test_uploaded_files_are_recorded_by_name_and_size(api: BotApiStandIn, bot: Bot) -> None:
    photo = await bot.send_photo(
        USER_ID, BufferedInputFile(b"\x89PNG" * 10, filename="chart.png"), caption="Weekly"
    )
    document = await bot.send_document(
        USER_ID, BufferedInputFile(b"a,b\n1,2\n", filename="points.csv")
    )

    assert photo.photo is not None
    assert photo.caption == "Weekly"
    assert document.document is not None
    assert document.document.file_name == "points.csv"
    assert api.calls_of("sendPhoto")[0].params["photo"] == {"filename": "chart.png", "size": 40}
    assert api.calls_of("sendPhoto")[0].params["chat_id"] == USER_ID
    assert api.calls_of("sendDocument")[0].params["document"] == {
        "filename": "points.csv",
        "size": 8,
    }
    assert api.calls_of("sendDocument")[0].uploads == {"document": b"a,b\n1,2\n"}


async def test_a_file_a_member_sent_can_be_fetched_and_downloaded(
    api: BotApiStandIn, bot: Bot
) -> None:
    document = Document.model_validate(api.add_file(b"questions: []\n", "bank.yaml"))

    downloaded = await bot.download(document)
    info = await bot.get_file(document.file_id)

    assert downloaded is not None
    assert downloaded.read() == b"questions: []\n"
    assert info.file_size == 14
    assert info.file_path is not None
    assert info.file_path.endswith("bank.yaml")
    with pytest.raises(TelegramBadRequest):
        await bot.get_file("no-such-file")
    async with aiohttp.ClientSession() as session:
        wrong_token = f"{api.base_url}/file/bot1:WRONG/{info.file_path}"
        async with session.get(wrong_token) as response:
            assert response.status == 401
        async with session.get(f"{api.base_url}/file/bot{TOKEN}/documents/nothing") as response:
            assert response.status == 404


async def test_chat_administrators_are_parsed_by_aiogram(api: BotApiStandIn, bot: Bot) -> None:
    api.set_chat({"id": GROUP_ID, "type": "supergroup", "title": "Hearth Circle"})
    api.set_admins(
        GROUP_ID,
        [
            {"id": 1, "first_name": "Olga", "status": "creator"},
            {"id": 2, "first_name": "Max", "can_pin_messages": False},
        ],
    )

    admins = await bot.get_chat_administrators(GROUP_ID)
    owner, moderator = admins

    assert isinstance(owner, ChatMemberOwner)
    assert owner.user.first_name == "Olga"
    assert isinstance(moderator, ChatMemberAdministrator)
    assert moderator.can_delete_messages
    assert moderator.can_pin_messages is False
    assert isinstance(await bot.get_chat_member(GROUP_ID, 2), ChatMemberAdministrator)
    member = await bot.get_chat_member(GROUP_ID, 3)
    assert isinstance(member, ChatMemberMember)
    assert member.user.id == 3
    chat = await bot.get_chat(GROUP_ID)
    assert chat.title == "Hearth Circle"
    assert chat.max_reaction_count == 11


async def test_a_webhook_is_stored_and_blocks_get_updates_until_deleted(
    api: BotApiStandIn, bot: Bot
) -> None:
    api.add_update(_message_update("queued"))

    assert await bot.set_webhook("https://example.invalid/hook", secret_token="s3cret")
    info = await bot.get_webhook_info()
    assert info.url == "https://example.invalid/hook"
    assert info.pending_update_count == 1
    assert api.webhook_secret_token == "s3cret"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()

    assert await bot.delete_webhook(drop_pending_updates=True)
    assert api.pending_updates == 0
    assert await bot.get_updates() == []


async def test_a_wrong_token_is_unauthorized(api: BotApiStandIn) -> None:
    intruder = _bot(api.base_url, token="999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await intruder.get_me()
    finally:
        await intruder.session.close()

    assert api.calls == []


async def test_json_bodies_and_any_method_case_are_accepted(api: BotApiStandIn) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{api.base_url}/bot{TOKEN}/SENDMESSAGE"
        async with http.post(url, json={"chat_id": str(USER_ID), "text": "hi"}) as response:
            body = await response.json()
        async with http.get(f"{api.base_url}/bot{TOKEN}/noSuchMethod") as response:
            missing = await response.json()

    assert body["ok"] is True
    assert body["result"]["text"] == "hi"
    assert api.calls[0].method == "sendMessage"
    assert api.calls[0].params == {"chat_id": USER_ID, "text": "hi"}
    assert missing == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


async def test_wait_for_call_times_out_when_nothing_matches(api: BotApiStandIn) -> None:
    with pytest.raises(TimeoutError):
        await api.wait_for_call("sendMessage", timeout=0.05)


async def test_a_polling_dispatcher_handles_an_injected_message(
    api: BotApiStandIn, bot: Bot
) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        api.add_update(_message_update("ping"))
        reply = await api.wait_for_call("sendMessage", timeout=5)
        await api.wait_until_consumed(timeout=15)
    finally:
        await dispatcher.stop_polling()
        await asyncio.wait_for(polling, 15)

    assert reply.params == {"chat_id": USER_ID, "text": "echo: ping"}


async def test_enforced_limits_answer_429_only_to_sends_beyond_them(
    api: BotApiStandIn, bot: Bot
) -> None:
    from hearth.simulate.botapi import RateLimits

    api.enforce_limits(RateLimits(per_second=3, per_chat_per_second=1, retry_after=2))
    await bot.send_message(USER_ID, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER_ID, "same chat, same second")
    await bot.send_message(USER_ID + 1, "two")
    await bot.send_message(USER_ID + 2, "three")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER_ID + 3, "a fourth in one second")

    assert caught.value.retry_after == 2
    assert api.limit_violations == 2
    assert [code for _, code in api.errors] == [429, 429]
    assert [m["text"] for m in api.delivered] == ["one", "two", "three"]


async def test_a_process_can_be_killed_right_after_a_given_message(
    api: BotApiStandIn, bot: Bot
) -> None:
    sleeper = await asyncio.create_subprocess_exec("sleep", "30")
    api.kill_after_delivering(2, sleeper.pid)
    await bot.send_message(USER_ID, "one")
    assert sleeper.returncode is None
    await bot.send_message(USER_ID, "two")
    assert await asyncio.wait_for(sleeper.wait(), timeout=10) == -9
    api.bad_request(description="Bad Request: chat not found")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER_ID, "three")
    assert len(api.delivered_to(USER_ID)) == 2
