"""Signing in to the console over HTTP: the one-time link, the cookie, and the refusals —
forged, expired and reused links, no session, another community's id in the URL, and a
member who is no operator asking for a link."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import ClientSession, CookieJar

from tests.console.conftest import Console
from tests.handlers.common import ADMIN, ALICE, GROUP_ID, OTHER_GROUP_ID, said, says_privately

REFUSED_LINK = "This sign-in link does not work"


async def test_the_link_signs_the_operator_in_once_with_a_safe_cookie(console: Console) -> None:
    link = await console.sign_in_link()
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        async with browser.get(link, allow_redirects=False) as response:
            assert response.status == 303
            cookie = response.headers["Set-Cookie"]
            assert "HttpOnly" in cookie
            assert "SameSite=Lax" in cookie
        async with browser.get(link) as again:  # the same link a second time
            assert again.status == 403
            assert REFUSED_LINK in await again.text()


async def test_a_signed_in_operator_lands_on_their_only_community(console: Console) -> None:
    link = await console.sign_in_link()
    async with (
        ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser,
        browser.get(link) as response,
    ):
        page = await response.text()
    assert response.status == 200
    assert str(response.url).endswith(f"/console/{GROUP_ID}/")
    assert "Pudong Owners" in page
    assert "Daily active members" in page


async def test_a_forged_link_is_refused(console: Console) -> None:
    link = await console.sign_in_link()
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    async with (
        ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser,
        browser.get(forged) as response,
    ):
        assert response.status == 403
        assert REFUSED_LINK in await response.text()


async def test_a_link_older_than_ten_minutes_is_refused(console: Console) -> None:
    link = await console.sign_in_link()
    clock = console.bot.hearth.clock
    clock.set(clock.now() + timedelta(minutes=11))  # type: ignore[attr-defined]
    async with (
        ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser,
        browser.get(link) as response,
    ):
        assert response.status == 403


async def test_pages_need_a_session_and_show_nothing_without_one(console: Console) -> None:
    async with (
        ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser,
        browser.get(console.url(f"/console/{GROUP_ID}/")) as response,
    ):
        page = await response.text()
    assert response.status == 401
    assert "Please sign in" in page
    assert "Pudong Owners" not in page


async def test_another_communitys_id_in_the_url_is_not_found(console: Console) -> None:
    link = await console.sign_in_link()
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        async with browser.get(link):
            pass
        async with browser.get(console.url(f"/console/{OTHER_GROUP_ID}/")) as response:
            page = await response.text()
    assert response.status == 404
    assert "Jinqiao Riders" not in page


async def test_a_member_who_runs_no_community_gets_no_link(console: Console) -> None:
    console.bot.session.clear()
    await console.bot.feed(says_privately(ALICE, "/console"))
    [answer] = console.bot.session.messages_to(ALICE["id"])
    assert answer.button_urls() == []
    assert answer.text == "This command is for the community's operators."


async def test_an_operator_asking_in_the_group_is_sent_to_the_private_chat(
    console: Console,
) -> None:
    console.bot.session.clear()
    await console.bot.feed(said(ADMIN, "/console"))

    [answer] = console.bot.session.texts_to(GROUP_ID)
    assert answer == "Send /console to me in private: the sign-in link is yours alone."
    assert console.bot.session.texts_to(ADMIN["id"]) == []  # no link lands in the group
