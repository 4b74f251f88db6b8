"""The operator console served by aiohttp's test server, beside a wired bot.

Adam administers "Pudong Owners"; Carol administers "Jinqiao Riders" (a community Adam
does not run); Alice and Boris are members. ``sign_in_link`` is the link the bot gave for
/console, pointed at the test server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer

from hearth.bot.console_server import mount_console
from hearth.simulate import updates
from hearth.simulate.clock import VirtualClock
from tests.conftest import BotHarness, make_harness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    GROUP,
    OTHER_GROUP,
    admins,
    bot_added_to,
    members_of,
    says_privately,
)


@dataclass
class Console:
    bot: BotHarness
    server: TestServer

    def url(self, path: str = "/console/") -> str:
        return str(self.server.make_url(path))

    async def sign_in_link(self, person: updates.JsonDict = ADMIN) -> str:
        """What the bot answers ``person``'s /console with: the link, on the test server."""
        self.bot.session.clear()
        await self.bot.feed(says_privately(person, "/console"))
        for message in self.bot.session.messages_to(person["id"]):
            for link in message.button_urls():
                token = parse_qs(urlsplit(link).query)["token"][0]
                return self.url(f"/console/login?token={token}")
        raise AssertionError("the bot gave no sign-in link")


@pytest.fixture
async def console(sqlite_url: str, clock: VirtualClock) -> AsyncIterator[Console]:
    harness = await make_harness(
        sqlite_url, clock, welcome_batch_seconds=0, console_url="http://club.example.com"
    )
    harness.session.admins[int(GROUP["id"])] = admins(ADMIN)
    harness.session.admins[int(OTHER_GROUP["id"])] = admins(CAROL)
    await harness.feed(bot_added_to(GROUP))
    await harness.feed(bot_added_to(OTHER_GROUP))
    await members_of(harness, ADMIN, ALICE, BORIS)
    await members_of(harness, CAROL, chat=OTHER_GROUP)
    for person in (ADMIN, ALICE, CAROL):
        await harness.feed(says_privately(person, "/start"))
    app = web.Application()
    assert mount_console(app, harness.hearth)
    server = TestServer(app)
    await server.start_server()
    yield Console(harness, server)
    await server.close()
    await harness.hearth.on_shutdown()


@asynccontextmanager
async def signed_in(console: Console) -> AsyncIterator[ClientSession]:
    """A browser (an HTTP client keeping cookies) with Adam signed in by the bot's link."""
    link = await console.sign_in_link()
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        async with browser.get(link) as response:
            assert response.status == 200
        yield browser


async def page_of(browser: ClientSession, console: Console, path: str) -> str:
    """The page at ``path``, which must open."""
    async with browser.get(console.url(path)) as response:
        assert response.status == 200, path
        return await response.text()


def form_token(page: str) -> str:
    """The session's token that the page's forms carry."""
    start = page.index('name="form_token" value="') + len('name="form_token" value="')
    return page[start : page.index('"', start)]
