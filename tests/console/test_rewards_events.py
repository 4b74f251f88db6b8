"""The points and rewards page and the events page over HTTP, with data made through the
bot: redemptions confirmed with the member's buttons and settled from the console (the
database, the audit log and the member's note), refusals of a form without its token and
of another community's redemption; events with RSVPs, check-ins and feedback."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select

from hearth.domain.rewards import RedemptionStatus
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.events import EventRow
from hearth.storage.rewards import RedemptionRow
from tests.console.conftest import Console, form_token, page_of, signed_in
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    GROUP,
    GROUP_ID,
    NOW,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    balance,
    credits,
    delivered,
    presses,
    rows,
    says_privately,
)

REWARDS = f"/console/{GROUP_ID}/rewards"
EVENTS = f"/console/{GROUP_ID}/events"


class Rows(HTMLParser):
    """Every table row of a page: its attributes and the text of its cells."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.rows: list[tuple[dict[str, str], list[str]]] = []
        self._cells: list[str] | None = None
        self._in_cell = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self._cells = []
            self.rows.append(({name: value or "" for name, value in attrs}, self._cells))
        elif tag in ("td", "th") and self._cells is not None:
            self._cells.append("")
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell and self._cells:
            self._cells[-1] = " ".join((self._cells[-1] + " " + data).split())

    def cells(self, **wanted: str) -> list[str]:
        """The cells of the one row whose attributes are ``wanted`` (data_x for data-x)."""
        found = [
            cells
            for attrs, cells in self.rows
            if all(attrs.get(name.replace("_", "-")) == value for name, value in wanted.items())
        ]
        assert len(found) == 1, f"{len(found)} rows match {wanted}"
        return found[0]

    def having(self, attribute: str) -> list[str]:
        return [attrs[attribute] for attrs, _ in self.rows if attribute in attrs]


def card(page: str, card_id: str) -> str:
    """The value shown in one of the page's figure cards."""
    start = page.index(f'id="{card_id}"')
    value = page.index('class="value">', start) + len('class="value">')
    return page[value : page.index("</div>", value)].strip()


# -- the rewards store, through the bot


async def stocks(console: Console, operator: updates.JsonDict, command: str) -> None:
    """An operator adds a reward with /reward_new in private."""
    await console.bot.feed(says_privately(operator, command))
    assert "Added reward" in console.bot.session.texts_to(operator["id"])[-1]


async def redeems(console: Console, member: updates.JsonDict) -> int:
    """``member`` opens /rewards, taps the first reward and confirms; the redemption's id."""
    bot = console.bot
    await bot.feed(says_privately(member, "/rewards"))
    pick = bot.session.messages_to(member["id"])[-1].button_data()[0]
    await bot.feed(presses(member, pick))
    confirm, _keep = bot.session.messages_to(member["id"])[-1].button_data()
    await bot.feed(presses(member, confirm))
    redemptions = [row for row in await rows(bot, RedemptionRow) if row.member_id == member["id"]]
    return max(row.id for row in redemptions)


async def status_of(console: Console, redemption_id: int) -> str:
    [row] = [row for row in await rows(console.bot, RedemptionRow) if row.id == redemption_id]
    return str(row.status)


async def audit_actions(console: Console) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with console.bot.uow() as uow:
        entries = await uow.session.scalars(select(tables.AuditLog))
        return [(entry.action, entry.actor_id, dict(entry.details)) for entry in entries]


async def two_stores(console: Console) -> tuple[int, int, int]:
    """Adam stocks a mug in Pudong Owners and Alice redeems two; Carol stocks a cap in
    Jinqiao Riders and redeems one. (Alice's first, Alice's second, Carol's)."""
    await credits(console.bot, ALICE, 100)
    await credits(console.bot, CAROL, 100, community_id=OTHER_GROUP_ID)
    await stocks(console, ADMIN, "/reward_new 30 5 Club <mug> limit=3")
    await stocks(console, CAROL, "/reward_new 40 unlimited Riders cap")
    first = await redeems(console, ALICE)
    second = await redeems(console, ALICE)
    carols = await redeems(console, CAROL)
    return first, second, carols


async def test_the_page_shows_the_economy_the_shelf_and_what_waits_to_be_fulfilled(
    console: Console,
) -> None:
    first, second, carols = await two_stores(console)
    async with signed_in(console) as browser:
        page = await page_of(browser, console, REWARDS)
    table = Rows(page)
    assert card(page, "points-redeemed") == "60"
    async with console.bot.uow() as uow:
        outstanding = await uow.points.outstanding(GROUP_ID)
    assert card(page, "points-outstanding") == str(outstanding)
    assert table.cells(data_tier="member")[1] == "3"  # Adam, Alice and Boris
    [reward_id] = table.having("data-reward-id")
    shelf = table.cells(data_reward_id=reward_id)
    assert shelf[:4] == ["#1 Club <mug>", "30 points", "3", "3 per member"]
    assert "Club &lt;mug&gt;" in page  # a title is text, never markup
    assert table.having("data-redemption-id") == [str(first), str(second)]
    row = table.cells(id=f"redemption-{first}")
    assert row[1:4] == ["Alice", "Club <mug>", "30"]
    assert row[5] == "2026-03-02 09:00"
    assert f'action="/console/{GROUP_ID}/rewards/redemptions/{first}/fulfil"' in page
    # Carol's store and redemption belong to another community.
    assert "Riders cap" not in page
    assert f"redemption-{carols}" not in page


async def test_fulfilling_settles_the_redemption_audits_it_and_tells_the_member(
    console: Console,
) -> None:
    first, second, _ = await two_stores(console)
    async with signed_in(console) as browser:
        token = form_token(await page_of(browser, console, REWARDS))
        console.bot.session.clear()
        async with browser.post(
            console.url(f"{REWARDS}/redemptions/{first}/fulfil"),
            data={"form_token": token},
            allow_redirects=False,
        ) as response:
            assert response.status == 303
            location = response.headers["Location"]
        assert location == f"{REWARDS}?done=fulfilled&redemption={first}"
        page = await page_of(browser, console, location)
    assert f"Redemption #{first} is marked as fulfilled." in page
    assert Rows(page).having("data-redemption-id") == [str(second)]
    assert await status_of(console, first) == RedemptionStatus.FULFILLED
    assert await status_of(console, second) == RedemptionStatus.PENDING
    assert (
        "redemption.fulfil",
        ADMIN["id"],
        {"redemption_id": first, "reward_id": 1},
    ) in await audit_actions(console)
    await delivered(console.bot)
    [note] = console.bot.session.texts_to(ALICE["id"])
    assert note == (
        f"Pudong Owners: the team marked your redemption #{first} of <b>Club &lt;mug&gt;</b> "
        "as handed over. Enjoy!"
    )


async def test_cancelling_refunds_the_member_and_a_settled_one_stays_settled(
    console: Console,
) -> None:
    first, second, _ = await two_stores(console)
    before = await balance(console.bot, ALICE)
    async with signed_in(console) as browser:
        token = form_token(await page_of(browser, console, REWARDS))
        async with browser.post(
            console.url(f"{REWARDS}/redemptions/{second}/cancel"), data={"form_token": token}
        ) as response:
            page = await response.text()
        assert f"Redemption #{second} is cancelled" in page
        assert Rows(page).having("data-redemption-id") == [str(first)]
        # Fulfilling the cancelled one is refused, and says why.
        async with browser.post(
            console.url(f"{REWARDS}/redemptions/{second}/fulfil"), data={"form_token": token}
        ) as response:
            page = await response.text()
        assert f"Redemption #{second} was cancelled already" in page
    assert await balance(console.bot, ALICE) == before + 30
    assert await status_of(console, second) == RedemptionStatus.CANCELLED
    actions = [action for action, _, _ in await audit_actions(console)]
    assert actions.count("redemption.cancel") == 1
    assert "redemption.fulfil" not in actions
    await delivered(console.bot)
    assert any(
        f"your redemption #{second} of <b>Club &lt;mug&gt;</b> was cancelled" in text
        and "30 points are back" in text
        for text in console.bot.session.texts_to(ALICE["id"])
    )


async def test_a_form_without_its_token_is_refused_and_changes_nothing(console: Console) -> None:
    first, _, _ = await two_stores(console)
    async with signed_in(console) as browser:
        for data in ({}, {"form_token": "forged"}):
            async with browser.post(
                console.url(f"{REWARDS}/redemptions/{first}/fulfil"), data=data
            ) as response:
                assert response.status == 403
    assert await status_of(console, first) == RedemptionStatus.PENDING
    assert not [action for action, _, _ in await audit_actions(console) if "redemption" in action]


async def test_another_communitys_redemption_is_not_found_and_stays_pending(
    console: Console,
) -> None:
    _, _, carols = await two_stores(console)
    carol_before = await balance(console.bot, CAROL, OTHER_GROUP_ID)
    async with signed_in(console) as browser:
        token = form_token(await page_of(browser, console, REWARDS))
        for path in (
            f"{REWARDS}/redemptions/{carols}/cancel",
            f"{REWARDS}/redemptions/{carols}/fulfil",
            f"{REWARDS}/redemptions/999/fulfil",
            f"{REWARDS}/redemptions/99999999999999999999/fulfil",
            f"/console/{OTHER_GROUP_ID}/rewards/redemptions/{carols}/cancel",
        ):
            async with browser.post(console.url(path), data={"form_token": token}) as response:
                assert response.status == 404, path
                assert "Riders cap" not in await response.text()
        async with browser.get(console.url(f"/console/{OTHER_GROUP_ID}/rewards")) as response:
            assert response.status == 404
    assert await status_of(console, carols) == RedemptionStatus.PENDING
    assert await balance(console.bot, CAROL, OTHER_GROUP_ID) == carol_before
    assert not [action for action, _, _ in await audit_actions(console) if "redemption" in action]


# -- events, through the bot


async def publishes(
    console: Console,
    operator: updates.JsonDict,
    *,
    title: str,
    when: str,
    capacity: str = "/skip",
) -> int:
    """The operator walks /event_new (place "Lakeside car park") and publishes; its id."""
    bot = console.bot
    for answer in ("/event_new", title, "/skip", "Lakeside car park", when, capacity):
        await bot.feed(says_privately(operator, answer))
    for answer in ("/skip", "/skip", "/skip"):  # registration deadline, points, photo
        await bot.feed(says_privately(operator, answer))
    publish, _discard = bot.session.messages_to(operator["id"])[-1].button_data()
    await bot.feed(presses(operator, publish))
    return max(row.id for row in await rows(bot, EventRow))


def answers_on_the_card(
    person: updates.JsonDict, event_id: int, answer: str, chat: updates.JsonDict = GROUP
) -> updates.JsonDict:
    """``person`` presses Going (g), Maybe (m) or Can't go (n) on the card in the group."""
    return updates.callback_query(person, f"ev1r:{event_id}:{answer}", NOW, chat=chat)


async def test_the_events_page_shows_registrations_attendance_and_feedback(
    console: Console,
) -> None:
    bot = console.bot
    coffee = await publishes(console, ADMIN, title="Morning coffee", when="2026-03-02 09:30-11:00")
    drive = await publishes(
        console, ADMIN, title="Spring drive", when="2026-03-10 14:00-17:00", capacity="1"
    )
    riders = await publishes(console, CAROL, title="Riders night", when="2026-03-05 19:00-22:00")
    await bot.feed(answers_on_the_card(ALICE, coffee, "g"))
    await bot.feed(answers_on_the_card(BORIS, coffee, "n"))
    await bot.feed(answers_on_the_card(ALICE, drive, "g"))
    await bot.feed(answers_on_the_card(BORIS, drive, "g"))  # the only seat is taken
    await bot.feed(answers_on_the_card(ADMIN, drive, "m"))
    await bot.feed(answers_on_the_card(CAROL, riders, "g", chat=OTHER_GROUP))
    [code] = [row.code for row in await rows(bot, EventRow) if row.id == coffee]
    await bot.feed(says_privately(ALICE, f"/attend {code}"))
    await bot.feed(presses(ALICE, f"ev1s:{coffee}:5"))
    await bot.feed(presses(ALICE, f"ev1n:{coffee}:10"))
    await bot.feed(says_privately(ALICE, "Great <coffee>!"))
    bot.hearth.clock.set(NOW + timedelta(hours=5))  # type: ignore[attr-defined]

    async with signed_in(console) as browser:
        page = await page_of(browser, console, EVENTS)
        async with browser.get(console.url(f"/console/{OTHER_GROUP_ID}/events")) as other:
            assert other.status == 404
    table = Rows(page)
    assert table.having("data-event-id") == [str(drive), str(coffee)]  # to come, then past
    columns = "title start place seats going waitlisted maybe not_going attended rating nps"
    shown = dict(zip(columns.split(), table.cells(data_event_id=str(drive)), strict=True))
    assert shown == {
        "title": "Spring drive",
        "start": "2026-03-10 14:00",
        "place": "Lakeside car park",
        "seats": "1",
        "going": "1",
        "waitlisted": "1",
        "maybe": "1",
        "not_going": "0",
        "attended": "0",
        "rating": "–",
        "nps": "–",
    }
    past = dict(zip(columns.split(), table.cells(data_event_id=str(coffee)), strict=True))
    assert past["seats"] == "no limit"
    assert (past["going"], past["not_going"], past["attended"]) == ("1", "1", "1")
    assert (past["rating"], past["nps"]) == ("5.0 (1)", "+100 (1)")
    assert table.cells(data_comments_for=str(coffee)) == ["Great <coffee>!"]
    assert "Great &lt;coffee&gt;!" in page
    assert "Riders night" not in page
    assert str(riders) not in table.having("data-event-id")
