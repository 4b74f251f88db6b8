"""The members pages over HTTP: the roster narrowed by stage, tag and search, sorted and paged
in SQL with the filter in the URL; the same roster as a CSV file; one member's story; and the
refusals — no session, and a member of another community (or nobody) by id."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from html.parser import HTMLParser

from aiohttp import ClientSession, CookieJar

from hearth.domain.lifecycle import LifecycleRules
from hearth.services.engagement_recompute import recompute
from hearth.services.export import COLUMNS, ExportKind
from hearth.simulate import updates
from hearth.storage.events import EventRow
from tests.console.conftest import Console, page_of, signed_in
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    DAVE,
    GROUP,
    GROUP_ID,
    NOW,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    at,
    credits,
    members_of,
    presses,
    rows,
    said,
    says_privately,
)

ADAM_ID, ALICE_ID, BORIS_ID, CAROL_ID, DAVE_ID = (
    int(person["id"]) for person in (ADMIN, ALICE, BORIS, CAROL, DAVE)
)
MEMBERS = f"/console/{GROUP_ID}/members"


class Tables(HTMLParser):
    """The rows of a page's tables: per table id, (the row's data attributes, its cells)."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.rows: dict[str, list[tuple[dict[str, str], list[str]]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "table":
            self._table = values.get("id", "")
            self.rows[self._table] = []
        elif tag == "tr" and self._table is not None and "data-" in " ".join(values):
            self.rows[self._table].append((values, []))
        elif tag == "td" and self._table is not None and self.rows[self._table]:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._table is not None:
            self.rows[self._table][-1][1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def listed(page: str) -> list[int]:
    """The member ids of the members table, in order."""
    return [int(values["data-member-id"]) for values, _ in Tables(page).rows["members-table"]]


def cells(page: str, table: str) -> list[list[str]]:
    return [row for _, row in Tables(page).rows.get(table, [])]


async def recomputed(console: Console) -> None:
    """The nightly recompute of Pudong Owners, run for today."""
    async with console.bot.uow() as uow:
        community = await uow.communities.get(GROUP_ID)
        assert community is not None
        await recompute(uow, community, NOW.date(), LifecycleRules())
        await uow.commit()


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


async def dave_went_quiet(console: Console) -> None:
    """Dave talked from 70 to 50 days ago and not since: dormant after the recompute (Adam,
    Alice and Boris first spoke today: new)."""
    for back in range(70, 49, -1):
        await at(console.bot, days_ago(back), said(DAVE, "hi", days_ago(back)))
    console.bot.hearth.clock.set(NOW)  # type: ignore[attr-defined]
    await console.bot.flush()
    await recomputed(console)


# -- the roster


async def test_the_roster_lists_the_communitys_current_members_and_nobody_elses(
    console: Console,
) -> None:
    async with signed_in(console) as browser:
        page = await page_of(browser, console, MEMBERS)
        # before any recompute (no roll-up of activity yet): all active today, then by name
        by_activity = await page_of(browser, console, f"{MEMBERS}?sort=active&dir=desc")

    assert sorted(listed(page)) == [ADAM_ID, ALICE_ID, BORIS_ID]
    assert listed(by_activity) == [ADAM_ID, ALICE_ID, BORIS_ID]
    assert "Carol" not in page  # she is in Jinqiao Riders only
    [alice] = [row for row in cells(page, "members-table") if row[0].startswith("Alice")]
    assert alice[0] == "Alice @alice"
    assert alice[-1] == NOW.date().isoformat()  # joined today
    assert "Shown 1–3 of 3" in page
    assert 'aria-current="page"' in page.split(">Member list<")[0].rsplit("<a", 1)[1]


async def test_the_stage_filter_narrows_the_roster_to_that_stage(console: Console) -> None:
    await dave_went_quiet(console)
    async with signed_in(console) as browser:
        dormant = await page_of(browser, console, f"{MEMBERS}?stage=dormant")
        new = await page_of(browser, console, f"{MEMBERS}?stage=new")
        everyone = await page_of(browser, console, MEMBERS)

    assert listed(dormant) == [DAVE_ID]
    assert sorted(listed(new)) == [ADAM_ID, ALICE_ID, BORIS_ID]
    assert '<option value="dormant" selected>Dormant</option>' in dormant
    assert '<option value="dormant">Dormant</option>' in everyone  # a stage members have


async def test_the_tag_filter_narrows_the_roster_to_the_tagged_members(console: Console) -> None:
    await console.bot.feed(said(ADMIN, "/tag @alice vip"))
    async with signed_in(console) as browser:
        page = await page_of(browser, console, f"{MEMBERS}?tag=vip")
        untagged = await page_of(browser, console, f"{MEMBERS}?tag=nobody-has-it")

    assert listed(page) == [ALICE_ID]
    assert cells(page, "members-table")[0][3] == "vip"
    assert listed(untagged) == []
    assert "No current member matches this filter." in untagged


async def test_a_search_finds_members_by_name_username_or_id(console: Console) -> None:
    async with signed_in(console) as browser:
        by_name = await page_of(browser, console, f"{MEMBERS}?q=ali")
        by_username = await page_of(browser, console, f"{MEMBERS}?q=%40ADA")
        by_id = await page_of(browser, console, f"{MEMBERS}?q={BORIS_ID}")
        nobody = await page_of(browser, console, f"{MEMBERS}?q=carol")
        huge = await page_of(browser, console, f"{MEMBERS}?q={10**30}&page=99999999999")

    assert listed(by_name) == [ALICE_ID]
    assert listed(by_username) == [ADAM_ID]
    assert listed(by_id) == [BORIS_ID]
    assert listed(nobody) == []
    assert listed(huge) == []  # no id is that large, and no page that far


async def test_the_roster_sorts_by_name_points_and_last_active_either_way(
    console: Console,
) -> None:
    await dave_went_quiet(console)
    await credits(console.bot, ALICE, 50)
    await credits(console.bot, BORIS, 20)
    async with signed_in(console) as browser:
        by_name = await page_of(browser, console, MEMBERS)
        by_name_back = await page_of(browser, console, f"{MEMBERS}?sort=name&dir=desc")
        by_points = await page_of(browser, console, f"{MEMBERS}?sort=points&dir=desc")
        least_active = await page_of(browser, console, f"{MEMBERS}?sort=active")
        joined_first = await page_of(browser, console, f"{MEMBERS}?sort=joined")

    assert listed(by_name) == [ADAM_ID, ALICE_ID, BORIS_ID, DAVE_ID]
    assert listed(by_name_back) == [DAVE_ID, BORIS_ID, ALICE_ID, ADAM_ID]
    assert listed(by_points) == [ALICE_ID, BORIS_ID, ADAM_ID, DAVE_ID]  # ties by name
    assert [row[5] for row in cells(by_points, "members-table")] == ["50", "20", "0", "0"]
    assert listed(least_active)[0] == DAVE_ID
    assert cells(least_active, "members-table")[0][6] == days_ago(50).date().isoformat()
    assert listed(joined_first)[0] == DAVE_ID


async def test_sixty_members_come_fifty_a_page_with_links_that_keep_the_filter(
    console: Console,
) -> None:
    newcomers = [updates.user(1000 + n, f"New{n:02d}") for n in range(57)]
    await members_of(console.bot, *newcomers)
    async with signed_in(console) as browser:
        first = await page_of(browser, console, f"{MEMBERS}?sort=joined&dir=desc")
        [next_link] = [part.split('"')[0] for part in first.split('rel="next" href="')[1:]]
        second = await page_of(browser, console, next_link.replace("&amp;", "&"))

    assert len(listed(first)) == 50
    assert "Shown 1–50 of 60" in first
    assert 'rel="prev"' not in first
    assert next_link == f"{MEMBERS}?sort=joined&amp;dir=desc&amp;page=2"  # the filter kept
    assert len(listed(second)) == 10
    assert "Shown 51–60 of 60" in second
    assert 'rel="next"' not in second
    assert set(listed(first)).isdisjoint(listed(second))
    assert len(set(listed(first)) | set(listed(second))) == 60


# -- the file


async def test_the_csv_holds_exactly_the_filtered_members_with_a_header_and_no_phone(
    console: Console,
) -> None:
    await console.bot.feed(said(ADMIN, "/tag @alice vip"))
    await console.bot.feed(said(ADMIN, "/tag @adam vip"))
    async with signed_in(console) as browser:
        page = await page_of(browser, console, f"{MEMBERS}?tag=vip&sort=name&dir=desc&page=1")
        [link] = [part.split('"')[0] for part in page.split('href="')[1:] if ".csv" in part[:60]]
        assert link == f"{MEMBERS}.csv?tag=vip&amp;dir=desc"  # (by name is the default)
        async with browser.get(console.url(link.replace("&amp;", "&"))) as response:
            assert response.status == 200
            body = await response.read()
            disposition = response.headers["Content-Disposition"]

    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS[ExportKind.MEMBERS]
    assert not any("phone" in column for column in rows[0])
    assert [(row[0], row[1], row[2]) for row in rows[1:]] == [
        (str(ALICE_ID), "Alice", "alice"),
        (str(ADAM_ID), "Adam", "adam"),
    ]
    assert disposition.startswith("attachment;")
    assert f'filename="pudong-owners-members-{NOW.date().isoformat()}.csv"' in disposition


# -- one member


async def test_a_members_page_tells_their_checkin_and_points(console: Console) -> None:
    await console.bot.feed(said(ALICE, "/checkin"))
    await console.bot.flush()
    async with signed_in(console) as browser:
        roster = await page_of(browser, console, MEMBERS)
        assert f'href="{MEMBERS}/{ALICE_ID}"' in roster
        page = await page_of(browser, console, f"{MEMBERS}/{ALICE_ID}")

    assert '<h1 id="member-name" data-member-id="101">Alice <span class="handle">@alice</span>' in (
        page
    )
    timeline = cells(page, "timeline")
    assert [NOW.date().isoformat(), "Check-in"] in [row[:2] for row in timeline]
    assert [NOW.date().isoformat(), "Message in the group"] in [row[:2] for row in timeline]
    ledger = cells(page, "ledger")
    assert ["Earned", "+10", "check-in"] in [row[1:] for row in ledger]
    balance = sum(int(row[2]) for row in ledger)
    assert f'id="member-balance">{balance}<' in page
    assert balance > 0
    assert 'id="member-reachable">Yes<' in page  # she started the bot


async def test_the_members_pages_speak_the_operators_language(console: Console) -> None:
    await console.bot.feed(said(ALICE, "/checkin"))
    async with signed_in(console) as browser:
        async with browser.get(console.url(f"/console/lang/zh_Hans?back={MEMBERS}")) as switched:
            roster = await switched.text()
        page = await page_of(browser, console, f"{MEMBERS}/{ALICE_ID}")

    assert str(switched.url).endswith(MEMBERS)
    assert "普通会员" in roster  # the Member tier
    assert ["+10", "签到"] in [row[2:] for row in cells(page, "ledger")]  # a check-in


async def publishes(console: Console, operator: updates.JsonDict, title: str, when: str) -> int:
    """The operator walks /event_new through the bot and publishes; the event's id."""
    bot = console.bot
    for answer in ("/event_new", title, "/skip", "Lakeside car park", when, "/skip"):
        await bot.feed(says_privately(operator, answer))
    for answer in ("/skip", "/skip", "/skip"):  # registration deadline, points, photo
        await bot.feed(says_privately(operator, answer))
    publish, _discard = bot.session.messages_to(operator["id"])[-1].button_data()
    await bot.feed(presses(operator, publish))
    return max(int(row.id) for row in await rows(bot, EventRow))


async def test_a_members_page_lists_their_events_with_answer_attendance_and_rating(
    console: Console,
) -> None:
    bot = console.bot
    coffee = await publishes(console, ADMIN, "Morning coffee", "2026-03-02 09:30-11:00")
    drive = await publishes(console, ADMIN, "Spring drive", "2026-03-10 14:00-17:00")
    riders = await publishes(console, CAROL, "Riders night", "2026-03-05 19:00-22:00")
    await publishes(console, ADMIN, "Nobody's picnic", "2026-03-12 12:00-14:00")
    await bot.feed(updates.callback_query(ALICE, f"ev1r:{coffee}:g", NOW, chat=GROUP))
    await bot.feed(updates.callback_query(ALICE, f"ev1r:{drive}:m", NOW, chat=GROUP))
    await bot.feed(updates.callback_query(CAROL, f"ev1r:{riders}:g", NOW, chat=OTHER_GROUP))
    [code] = [row.code for row in await rows(bot, EventRow) if row.id == coffee]
    await bot.feed(says_privately(ALICE, f"/attend {code}"))
    await bot.feed(presses(ALICE, f"ev1s:{coffee}:5"))
    await bot.flush()
    async with signed_in(console) as browser:
        page = await page_of(browser, console, f"{MEMBERS}/{ALICE_ID}")

    assert cells(page, "member-events") == [
        ["Spring drive", "2026-03-10 14:00", "Maybe", "No", "–"],
        ["Morning coffee", "2026-03-02 09:30", "Going", "Yes", "5"],
    ]
    assert "Riders night" not in page
    assert ["Earned", "+20", "event attendance"] in [row[1:] for row in cells(page, "ledger")]
    kinds = [row[1] for row in cells(page, "timeline")]
    assert "Attended an event" in kinds
    assert "Answered an event" in kinds


async def test_a_member_of_another_community_or_nobody_is_not_found(console: Console) -> None:
    async with signed_in(console) as browser:
        for path in (
            f"{MEMBERS}/{CAROL_ID}",  # Carol is in Jinqiao Riders only
            f"{MEMBERS}/999999",
            f"{MEMBERS}/{2**63}",
            f"/console/{OTHER_GROUP_ID}/members/{CAROL_ID}",
            f"/console/{OTHER_GROUP_ID}/members",
            f"/console/{OTHER_GROUP_ID}/members.csv",
        ):
            async with browser.get(console.url(path)) as response:
                page = await response.text()
            assert response.status == 404, path
            assert "Carol" not in page
            assert "Jinqiao Riders" not in page


async def test_the_members_pages_need_a_session(console: Console) -> None:
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        for path in (MEMBERS, f"{MEMBERS}.csv", f"{MEMBERS}/{ALICE_ID}"):
            async with browser.get(console.url(path)) as response:
                page = await response.text()
            assert response.status == 401, path
            assert "Alice" not in page
            assert "Please sign in" in page
