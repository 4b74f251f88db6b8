"""The console in a real browser: headless Chromium (Debian's package, launched through
``executable_path``) driven by Playwright. Screenshots of the pages go to
``test-output/console/`` for a reviewer to look at (not committed)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hearth.domain.lifecycle import LifecycleRules
from hearth.services.engagement_recompute import recompute
from hearth.simulate import updates
from tests.console.conftest import Console
from tests.console.test_rewards_events import redeems, status_of, stocks
from tests.handlers.common import (
    ADMIN,
    ALICE,
    GROUP,
    GROUP_ID,
    NOW,
    OTHER_GROUP_ID,
    at,
    credits,
    joins,
    said,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "console"
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine: install Debian's chromium package (.ci/run does)",
)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        await chromium.close()


async def six_weeks_of_club_life(console: Console) -> None:
    """Twenty members join over six weeks; most talk and check in, some fade; the nightly
    recompute runs every night — so the charts and the heat map have something to show."""
    bot = console.bot
    people = [updates.user(500 + n, f"Member{n}") for n in range(20)]
    for day in range(42, 0, -1):
        moment = NOW - timedelta(days=day)
        for n, person in enumerate(people):
            joined_on = 42 - 2 * n
            if day > joined_on:
                continue
            if day == joined_on:
                await at(bot, moment, joins(person, moment))
            fades = n % 4 == 0 and day < 20
            if not fades and (day + n) % 3 != 0:
                await at(bot, moment, said(person, "Morning, drivers!", moment))
            if not fades and (day + n) % 2 == 0:
                await at(bot, moment, said(person, "/checkin", moment))
        await bot.flush()  # then the nightly recompute
        async with bot.uow() as uow:
            community = await uow.communities.get(int(GROUP["id"]))
            await recompute(uow, community, moment.date(), LifecycleRules())
            await uow.commit()
    bot.hearth.clock.set(NOW)  # type: ignore[attr-defined]
    await bot.flush()


async def signed_in(browser: Any, console: Console, **context: Any) -> Any:
    """A new browser tab, signed in through the link the bot gave Adam."""
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(await console.sign_in_link())
    return page


async def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_the_overview_shows_figures_charts_and_cohorts(
    browser: Any, console: Console
) -> None:
    await six_weeks_of_club_life(console)
    page = await signed_in(browser, console, viewport={"width": 1280, "height": 900})

    assert page.url.endswith(f"/console/{GROUP_ID}/")
    await page.wait_for_selector("#active-chart[data-drawn='yes']")
    await page.wait_for_selector("#stage-chart[data-drawn='yes']")
    assert await page.locator("#headline .card").count() >= 8
    assert "Pudong Owners" in await page.locator("header").inner_text()
    joined = page.locator("#headline .card", has_text="Members who joined").locator(".value")
    assert int(await joined.inner_text()) > 0
    assert await page.locator("#cohorts tbody tr").count() >= 4
    await shot(page, "overview")


async def test_the_overview_fits_a_phone_screen(browser: Any, console: Console) -> None:
    page = await signed_in(browser, console, viewport=PHONE, is_mobile=True)

    await page.wait_for_selector("#active-chart[data-drawn='yes']")
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1  # nothing wider than the screen: tables scroll inside their box
    await shot(page, "overview-phone")


async def test_the_console_speaks_chinese_after_switching(browser: Any, console: Console) -> None:
    page = await signed_in(browser, console)

    await page.click("text=简体中文")
    await page.wait_for_selector("#active-chart[data-drawn='yes']")
    assert "概览" in await page.locator("h1").inner_text()
    await shot(page, "overview-zh")


async def test_a_reused_forged_or_expired_link_is_refused(browser: Any, console: Console) -> None:
    link = await console.sign_in_link()
    first = await (await browser.new_context()).new_page()
    await first.goto(link)
    assert first.url.endswith(f"/console/{GROUP_ID}/")

    again = await (await browser.new_context()).new_page()
    await again.goto(link)
    assert "This sign-in link does not work" in await again.locator("h1").inner_text()

    forged = await (await browser.new_context()).new_page()
    await forged.goto((await console.sign_in_link()).replace("token=", "token=x"))
    assert "This sign-in link does not work" in await forged.locator("h1").inner_text()

    late = await console.sign_in_link()
    clock = console.bot.hearth.clock
    clock.set(clock.now() + timedelta(minutes=11))  # type: ignore[attr-defined]
    expired = await (await browser.new_context()).new_page()
    await expired.goto(late)
    assert "This sign-in link does not work" in await expired.locator("h1").inner_text()


async def test_another_communitys_id_in_the_address_bar_is_not_found(
    browser: Any, console: Console
) -> None:
    page = await signed_in(browser, console)

    response = await page.goto(console.url(f"/console/{OTHER_GROUP_ID}/"))

    assert response.status == 404
    assert "Not found" in await page.locator("h1").inner_text()
    assert "Jinqiao Riders" not in await page.content()


async def test_every_page_opens_from_the_navigation(browser: Any, console: Console) -> None:
    await six_weeks_of_club_life(console)
    page = await signed_in(browser, console, viewport={"width": 1280, "height": 900})

    labels = await page.locator("nav.pages a").all_inner_texts()
    assert labels == [
        "Overview",
        "Member list",
        "Points and rewards",
        "Events",
        "Schedule",
        "Nudges",
    ]
    for label in labels[1:]:
        link = await page.locator("nav.pages a", has_text=label).get_attribute("href")
        response = await page.goto(console.url(link))
        assert response.status == 200
        assert await page.locator("nav.pages a[aria-current='page']").inner_text() == label
        await shot(page, label.lower().replace(" ", "-"))


async def test_filtering_members_opening_one_and_exporting_the_filter(
    browser: Any, console: Console
) -> None:
    await six_weeks_of_club_life(console)
    await console.bot.feed(said(ADMIN, "/tag vip", reply_to=said(ALICE, "hi")["message"]))
    page = await signed_in(browser, console, viewport={"width": 1280, "height": 900})
    await page.goto(console.url(f"/console/{GROUP_ID}/members"))
    everyone = await page.locator("#members-table tbody tr[data-member-id]").count()

    await page.select_option("select[name='tag']", "vip")
    await page.click("#member-filter button[type='submit']")

    rows = page.locator("#members-table tbody tr[data-member-id]")
    assert everyone > 20
    assert await rows.count() == 1
    assert await rows.first.get_attribute("data-member-id") == str(ALICE["id"])
    async with page.expect_download() as download:
        await page.click("#export-csv")
    saved = await (await download.value).path()
    exported = await asyncio.to_thread(Path(saved).read_text, encoding="utf-8-sig")
    lines = exported.strip().splitlines()
    assert len(lines) == 2  # the header and Alice
    assert "Alice" in lines[1]
    assert "phone" not in lines[0].lower()

    await rows.first.locator("a").first.click()
    await page.wait_for_selector("#timeline")
    assert "Alice" in await page.locator("h1").inner_text()
    await shot(page, "member")


async def test_an_operator_fulfils_a_redemption_from_the_browser(
    browser: Any, console: Console
) -> None:
    await credits(console.bot, ALICE, 100)
    await stocks(console, ADMIN, "/reward_new 30 5 Club mug limit=3")
    redemption = await redeems(console, ALICE)
    page = await signed_in(browser, console)
    await page.goto(console.url(f"/console/{GROUP_ID}/rewards"))

    await page.click(f"#redemption-{redemption} button.fulfil")

    assert "is marked as fulfilled" in await page.locator("#notice").inner_text()
    assert await page.locator(f"#redemption-{redemption}").count() == 0
    assert await status_of(console, redemption) == "fulfilled"
