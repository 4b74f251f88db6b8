"""End to end: `hearth run` as a subprocess, talking HTTP to the local Bot API stand-in."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiohttp import ClientSession, CookieJar

from hearth.simulate import updates
from hearth.simulate.botapi import BotApiStandIn

TOKEN = "777001:END-TO-END"
GROUP = updates.group(-1002000000001, "E2E Owners")
ALICE = updates.user(3001, "Alice")
OPERATOR = updates.user(3002, "Olga")


def hearth_env(api: BotApiStandIn, database: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEARTH_")}
    env.update(
        HEARTH_BOT_TOKEN=TOKEN,
        HEARTH_TELEGRAM_API_BASE=api.base_url,
        HEARTH_DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        HEARTH_ACTIVITY_FLUSH_SECONDS="30",  # only the shutdown drain may write the activity
        **extra,
    )
    return env


async def test_hearth_run_serves_members_over_http_and_drains_on_sigterm(tmp_path: Path):
    database = tmp_path / "e2e.db"
    async with BotApiStandIn(token=TOKEN, unsupported={"setMyCommands"}) as api:
        api.set_chat(GROUP)
        api.set_admins(GROUP["id"], [{**OPERATOR, "status": "creator"}])
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hearth",
            "run",
            env=hearth_env(api, database),
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            now = datetime.now(UTC)
            api.add_update(
                updates.chat_member_update(
                    GROUP,
                    api.bot_user,
                    "left",
                    "administrator",
                    now,
                    actor=OPERATOR,
                    kind="my_chat_member",
                )
            )
            api.add_update(updates.message(updates.private(ALICE), ALICE, "/start", now))
            welcome = await api.wait_for_call(
                "sendMessage", lambda call: call.params.get("chat_id") == ALICE["id"], timeout=60
            )
            api.add_update(updates.message(GROUP, ALICE, "Morning, everyone!", now))
            api.add_update(updates.reaction(GROUP, ALICE, now))
            await api.wait_until_consumed(timeout=30)
            await asyncio.sleep(0.5)  # let the last handler finish before stopping
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
        allowed = set(api.allowed_updates or [])

    log = stderr.decode()
    assert process.returncode == 0, log
    assert "Welcome, Alice!" in welcome.params["text"]
    assert {"chat_member", "message_reaction", "poll_answer", "my_chat_member"} <= allowed
    assert "setMyCommands is not available" in log  # a missing method does not stop the bot
    with sqlite3.connect(database) as connection:
        kinds = sorted(row[0] for row in connection.execute("SELECT kind FROM activity"))
        community = connection.execute("SELECT title, bot_is_admin FROM community").fetchone()
    assert kinds == ["message", "reaction"]  # written by the shutdown drain
    assert community == ("E2E Owners", 1)


async def test_hearth_run_without_a_token_says_so_in_one_line(tmp_path: Path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("HEARTH_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hearth",
        "run",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    message = stderr.decode().strip()
    assert process.returncode == 2
    assert "HEARTH_BOT_TOKEN is not set" in message
    assert "Traceback" not in message
    assert len(message.splitlines()) == 1


async def test_hearth_run_serves_the_operator_console_beside_polling(tmp_path: Path):
    """With HEARTH_CONSOLE_URL set, `hearth run` (polling) serves the console on
    HEARTH_CONSOLE_LISTEN: the link the bot gives the operator for /console signs them in."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with BotApiStandIn(token=TOKEN, unsupported={"setMyCommands"}) as api:
        api.set_chat(GROUP)
        api.set_admins(GROUP["id"], [{**OPERATOR, "status": "creator"}])
        env = hearth_env(
            api,
            tmp_path / "e2e.db",
            HEARTH_CONSOLE_URL="https://club.example.com",
            HEARTH_CONSOLE_LISTEN=f"127.0.0.1:{port}",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "hearth",
            "run",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            now = datetime.now(UTC)
            api.add_update(
                updates.chat_member_update(
                    GROUP,
                    api.bot_user,
                    "left",
                    "administrator",
                    now,
                    actor=OPERATOR,
                    kind="my_chat_member",
                )
            )
            api.add_update(updates.message(GROUP, OPERATOR, "Hello, club!", now))
            api.add_update(updates.message(updates.private(OPERATOR), OPERATOR, "/start", now))
            api.add_update(updates.message(updates.private(OPERATOR), OPERATOR, "/console", now))
            answer = await api.wait_for_call(
                "sendMessage",
                lambda call: (
                    call.params.get("chat_id") == OPERATOR["id"]
                    and "reply_markup" in call.params
                    and "login" in str(call.params["reply_markup"])
                ),
                timeout=60,
            )
            markup = answer.params["reply_markup"]
            markup = markup if isinstance(markup, dict) else json.loads(markup)
            link = markup["inline_keyboard"][0][0]["url"]
            assert link.startswith("https://club.example.com/console/login?token=")
            token = parse_qs(urlsplit(link).query)["token"][0]
            async with (
                ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser,
                browser.get(
                    f"http://127.0.0.1:{port}/console/login?token={token}", allow_redirects=False
                ) as response,
            ):
                assert response.status == 303
                assert "HttpOnly" in response.headers["Set-Cookie"]
                assert "Secure" in response.headers["Set-Cookie"]  # the console's URL is https
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert f"operator console on http://127.0.0.1:{port}/console/" in stderr.decode()
