"""The schedule page and the nudges page over HTTP, with data made through the bot.

Adam schedules an announcement with /announce; the schedule lists it with its next run and
pauses and resumes it through the bot's own service (the database and the audit log show
it); a form without its token and Carol's announcement (Jinqiao Riders) are refused. Quiz
rounds, event reminders and today's nudges are listed. The nudges page shows what the
nudges sent, held out and skipped achieved, against the holdout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from aiohttp import ClientSession
from sqlalchemy import select
from sqlmodel import col

from hearth.domain.announcements import Announcement
from hearth.domain.events import EventDraft, RsvpStatus
from hearth.domain.nudges import Decision, NudgeKind, NudgeStatus, SkipReason
from hearth.services import events, nudges, quizzes
from hearth.simulate import updates
from hearth.storage import tables
from tests.console.conftest import Console, form_token, page_of, signed_in
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    GROUP_ID,
    NOW,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    delivered,
    presses,
    said,
    says_privately,
)

SCHEDULE = f"/console/{GROUP_ID}/schedule"
NUDGES = f"/console/{GROUP_ID}/nudges"
CONTACT = NOW + timedelta(days=1, hours=1)  # Tuesday 10:00 in the group (UTC)


# -- reading pages


@dataclass
class Row:
    attributes: dict[str, str]
    cells: list[str] = field(default_factory=list)


class Table(HTMLParser):
    """The rows of one table of a page that carry data attributes, with their cells' text."""

    def __init__(self, page: str, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[Row] = []
        self._cell: list[str] | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "table":
            self.inside = found.get("id") == self.table_id
        elif self.inside and tag == "tr" and any(name.startswith("data-") for name in found):
            self.rows.append(Row(found))
        elif self.inside and tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table(page: str, table_id: str) -> list[Row]:
    assert f'id="{table_id}"' in page, f"no table {table_id}"
    return Table(page, table_id).rows


def row_with(rows: Sequence[Row], attribute: str, value: object) -> Row:
    [found] = [row for row in rows if row.attributes.get(attribute) == str(value)]
    return found


def card(page: str, name: str) -> str:
    """The value of one of the page's figure cards."""
    start = page.index(f'data-figure="{name}"')
    value = page.index('class="value">', start) + len('class="value">')
    return page[value : page.index("</div>", value)].strip()


async def post(
    browser: ClientSession, console: Console, path: str, data: dict[str, str]
) -> tuple[int, str]:
    async with browser.post(console.url(path), data=data, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", "")


# -- announcements, through the bot


async def announces(console: Console, operator: updates.JsonDict, text: str, when: str) -> int:
    """``operator`` walks through /announce in private for the group only and confirms;
    the new announcement's number."""
    bot = console.bot
    for step in ("/announce", text, when):
        await bot.feed(says_privately(operator, step))
    await bot.feed(presses(operator, "an1a:group"))
    await bot.feed(presses(operator, "an1k:1"))
    [confirmation] = [
        call.text
        for call in bot.session.of("editMessageText")
        if call.chat_id == operator["id"] and "is scheduled" in call.text
    ][-1:]
    return int(confirmation.split("#")[1].split()[0])


async def announcement(console: Console, number: int) -> Announcement:
    async with console.bot.uow() as uow:
        found: Announcement | None = await uow.announcements.get(number)
    assert found is not None
    return found


async def audited(console: Console) -> list[tuple[str, int | None, dict[str, Any]]]:
    async with console.bot.uow() as uow:
        log = tables.AuditLog
        entries = await uow.session.scalars(select(log).order_by(col(log.id)))
        return [(entry.action, entry.actor_id, dict(entry.details)) for entry in entries]


# -- nudges, as the daily plan and the sender record them


def decision(
    person: updates.JsonDict,
    status: NudgeStatus,
    due_at: datetime,
    *,
    kind: NudgeKind | None = None,
    reason: SkipReason | None = None,
) -> Decision:
    day = due_at.date()
    return Decision(person["id"], day - timedelta(days=20), status, 1, kind, due_at, reason)


async def planned(
    console: Console, community_id: int, day: date, decisions: Sequence[Decision]
) -> None:
    """A local day's plan as ``plan_due`` stores it."""
    async with console.bot.uow() as uow:
        assert await uow.nudges.claim_plan(community_id, day, NOW)
        await uow.nudges.record(community_id, day, decisions, NOW)
        await uow.commit()


async def sent_at(console: Console, moment: datetime) -> None:
    """The send job runs at ``moment`` and the outbox delivers what it queued."""
    hearth = console.bot.hearth
    hearth.clock.set(moment)  # type: ignore[attr-defined]
    await nudges.send_due(hearth.uow_factory, hearth.nudges, moment)
    await delivered(console.bot)


# -- the schedule


async def test_the_schedule_lists_an_announcement_made_in_the_bot_with_its_next_run(
    console: Console,
) -> None:
    number = await announces(console, ADMIN, "Car wash <b>Saturday</b>", "every Friday 18:00")

    async with signed_in(console) as browser:
        page = await page_of(browser, console, SCHEDULE)

    row = row_with(table(page, "schedule-announcements"), "data-announcement-id", number)
    assert row.attributes["data-state"] == "running"
    assert row.cells[:5] == [
        str(number),
        "Car wash <b>Saturday</b>",  # the operator's words, shown as text
        "every Friday at 18:00",
        "the group",
        "Fri 2026-03-06 18:00",
    ]
    assert "Pause" in row.cells[5]
    assert f'<a href="{SCHEDULE}" aria-current="page">Schedule</a>' in page
    assert f'href="{NUDGES}"' in page  # both pages are in the nav


async def test_pausing_and_resuming_go_through_the_bots_service_and_are_audited(
    console: Console,
) -> None:
    number = await announces(console, ADMIN, "Weekly ride", "every Friday 18:00")
    action = f"{SCHEDULE}/announcements/{number}"

    async with signed_in(console) as browser:
        token = form_token(await page_of(browser, console, SCHEDULE))
        status, location = await post(browser, console, f"{action}/pause", {"form_token": token})
        assert (status, location) == (303, f"{SCHEDULE}?done=paused&number={number}")
        assert (await announcement(console, number)).paused
        page = await page_of(browser, console, location)
        row = row_with(table(page, "schedule-announcements"), "data-announcement-id", number)
        assert row.attributes["data-state"] == "paused"
        assert row.cells[4] == "paused"
        assert "Resume" in row.cells[5]
        assert f"Announcement #{number} is paused." in page

        status, location = await post(browser, console, f"{action}/resume", {"form_token": token})
        assert status == 303
        assert not (await announcement(console, number)).paused
        page = await page_of(browser, console, location)
        row = row_with(table(page, "schedule-announcements"), "data-announcement-id", number)
        assert row.cells[4] == "Fri 2026-03-06 18:00"
        assert f"Announcement #{number} is running again." in page

        # a stale page's second resume changes nothing and says so
        status, location = await post(browser, console, f"{action}/resume", {"form_token": token})
        assert location.endswith("done=already_running&number=" + str(number))

    changes = [entry for entry in await audited(console) if entry[0] != "announcement.create"]
    assert changes == [
        ("announcement.pause", ADMIN["id"], {"announcement": number}),
        ("announcement.resume", ADMIN["id"], {"announcement": number}),
    ]


async def test_a_pause_without_the_form_token_is_refused_and_changes_nothing(
    console: Console,
) -> None:
    number = await announces(console, ADMIN, "Weekly ride", "every Friday 18:00")

    async with signed_in(console) as browser:
        pause = f"{SCHEDULE}/announcements/{number}/pause"
        assert (await post(browser, console, pause, {}))[0] == 403
        assert (await post(browser, console, pause, {"form_token": "forged"}))[0] == 403

    assert not (await announcement(console, number)).paused
    assert [entry[0] for entry in await audited(console)] == ["announcement.create"]


async def test_another_communitys_announcement_is_not_found_and_stays_as_it_was(
    console: Console,
) -> None:
    await announces(console, ADMIN, "Weekly ride", "every Friday 18:00")
    theirs = await announces(console, CAROL, "Riders meet at the lake", "every Sunday 08:00")

    async with signed_in(console) as browser:
        page = await page_of(browser, console, SCHEDULE)
        token = form_token(page)
        assert "Riders meet at the lake" not in page
        assert str(theirs) not in [
            row.attributes["data-announcement-id"] for row in table(page, "schedule-announcements")
        ]
        for path in (
            f"{SCHEDULE}/announcements/{theirs}/pause",  # through Adam's community
            f"/console/{OTHER_GROUP_ID}/schedule/announcements/{theirs}/pause",  # through Carol's
            f"{SCHEDULE}/announcements/{2**63}/pause",  # a number no row can have
        ):
            assert (await post(browser, console, path, {"form_token": token}))[0] == 404
        async with browser.get(console.url(f"/console/{OTHER_GROUP_ID}/schedule")) as response:
            assert response.status == 404
            assert "Riders meet at the lake" not in await response.text()

    assert not (await announcement(console, theirs)).paused
    assert [entry[0] for entry in await audited(console)] == ["announcement.create"] * 2


async def test_the_schedule_shows_quiz_rounds_and_the_event_reminders_to_come(
    console: Console,
) -> None:
    bot = console.bot
    bank = [{"text": "Oil every?", "options": ["5000 km", "50 km"], "correct": 1, "topic": "care"}]
    starts = NOW + timedelta(days=2, hours=10)  # Wednesday 19:00
    async with bot.uow() as uow:
        community = await uow.communities.get(GROUP_ID)
        assert community is not None
        await quizzes.import_questions(uow, GROUP_ID, bank, now=NOW, actor=ADMIN["id"])
        event = await events.publish(
            uow,
            community=community,
            draft=EventDraft(
                "Night drive", "", "Lake", starts, starts + timedelta(hours=2), None, starts, 20
            ),
            actor_id=ADMIN["id"],
            now=NOW,
        )
        await uow.events.set_rsvp(event.id, ALICE["id"], RsvpStatus.GOING, NOW)
        await uow.commit()
    await bot.feed(said(ADMIN, "/quiz schedule every Friday 20:00 topic=care questions=1"))

    async with signed_in(console) as browser:
        page = await page_of(browser, console, SCHEDULE)

    [quiz] = table(page, "schedule-quizzes")
    assert quiz.cells[1:] == ["every Friday at 20:00", "care", "1", "Fri 2026-03-06 20:00"]
    day_before, hour_before = table(page, "schedule-reminders")
    assert day_before.cells == [
        "Night drive",
        "Wed 2026-03-04 19:00",
        "24 hours before",
        "Tue 2026-03-03 19:00",
        "1",  # Alice is going and can be written to
    ]
    assert hour_before.cells[2:] == ["1 hour before", "Wed 2026-03-04 18:00", "1"]
    assert "No announcements are scheduled" in page


async def test_the_schedule_shows_todays_planned_nudges_of_this_community_only(
    console: Console,
) -> None:
    due = NOW + timedelta(hours=1, minutes=30)
    await planned(
        console,
        GROUP_ID,
        NOW.date(),
        [
            decision(ALICE, NudgeStatus.PLANNED, due, kind=NudgeKind.LIGHT),
            decision(ADMIN, NudgeStatus.HELD_OUT, due),
            decision(BORIS, NudgeStatus.SKIPPED, due, reason=SkipReason.DAILY_CAP),
        ],
    )
    await planned(
        console,
        OTHER_GROUP_ID,
        NOW.date(),
        [decision(CAROL, NudgeStatus.PLANNED, due, kind=NudgeKind.LIGHT)],
    )

    async with signed_in(console) as browser:
        page = await page_of(browser, console, SCHEDULE)

    [alice] = table(page, "schedule-nudges")
    assert alice.attributes["data-member-id"] == str(ALICE["id"])
    assert alice.cells == ["Alice", "Light reminder", "1 of 3", "10:30", "to send"]
    assert "Today's plan (2026-03-02) as it was made." in page
    assert "1 member held out today" in page
    assert "Carol" not in page


# -- the nudges


async def test_the_nudges_page_shows_what_was_sent_held_out_skipped_tapped_and_returned(
    console: Console,
) -> None:
    bot = console.bot
    day = CONTACT.date()
    await planned(
        console,
        GROUP_ID,
        day,
        [
            decision(ALICE, NudgeStatus.PLANNED, CONTACT, kind=NudgeKind.LIGHT),
            decision(ADMIN, NudgeStatus.HELD_OUT, CONTACT),
            decision(BORIS, NudgeStatus.SKIPPED, CONTACT, reason=SkipReason.DAILY_CAP),
        ],
    )
    await planned(  # Carol, in Jinqiao Riders, is nudged too: not Adam's to see
        console,
        OTHER_GROUP_ID,
        day,
        [decision(CAROL, NudgeStatus.PLANNED, CONTACT, kind=NudgeKind.LIGHT)],
    )
    bot.session.clear()
    await sent_at(console, CONTACT + timedelta(minutes=5))
    [nudge] = bot.session.messages_to(ALICE["id"])
    assert len(bot.session.messages_to(CAROL["id"])) == 1
    assert bot.session.messages_to(ADMIN["id"]) == []  # held out: nothing sent
    # Alice taps the nudge's check-in button an hour later: a tap, and she took part
    checkin = next(data for data in nudge.button_data() if data.endswith(":checkin"))
    bot.hearth.clock.set(CONTACT + timedelta(hours=1))  # type: ignore[attr-defined]
    await bot.feed(presses(ALICE, checkin, CONTACT + timedelta(hours=1)))
    await bot.feed(updates.message(OTHER_GROUP, CAROL, "back!", CONTACT + timedelta(hours=2)))
    await bot.flush()
    await nudges.record_returns(bot.hearth.uow_factory, CONTACT + timedelta(days=1))
    bot.hearth.clock.set(CONTACT + timedelta(days=8))  # type: ignore[attr-defined]

    async with signed_in(console) as browser:
        page = await page_of(browser, console, NUDGES)
        short = await page_of(browser, console, f"{NUDGES}?days=7")
        odd = await page_of(browser, console, f"{NUDGES}?days=100000")

    assert [card(page, name) for name in ("sent", "held_out", "skipped", "taps")] == [
        "1",
        "1",
        "1",
        "1",
    ]
    returns = table(page, "nudges-returns")
    assert row_with(returns, "data-group", "nudged").cells == ["Nudged", "1", "1", "100%", "0"]
    assert row_with(returns, "data-group", "holdout").cells[1:] == ["1", "0", "0%", "0"]
    assert "Uplift: +100.0 points (95% interval +100.0 to +100.0)" in page
    assert "Too few members yet to tell: each group needs 30 whose 7 days are over." in page
    by_kind = table(page, "nudges-by-kind")
    assert row_with(by_kind, "data-kind", "light").cells == [
        "Light reminder", "1", "1", "0", "1", "1", "100%"
    ]  # fmt: skip
    assert row_with(by_kind, "data-kind", "holdout").cells[1] == "1"
    [skipped] = table(page, "nudges-skipped")
    assert skipped.cells == ["daily cap reached", "1"]
    assert "Last 90 days: 2025-12-12 – 2026-03-11" in page
    # the contact was eight days ago: a week's report has none of it
    assert "Last 7 days: 2026-03-05 – 2026-03-11" in short
    assert card(short, "sent") == "0"
    assert "No nudge sent yet." in short
    assert "Last 90 days" in odd  # a period out of range falls back to the default


async def test_the_nudges_page_before_any_nudge_says_so_and_shows_the_settings(
    console: Console,
) -> None:
    await console.bot.feed(said(ADMIN, "/nudges pause"))

    async with signed_in(console) as browser:
        page = await page_of(browser, console, NUDGES)

    assert card(page, "sent") == "0"
    assert 'data-paused="yes"' in page
    assert "Daily cap: 50 · holdout: 10%" in page
    assert "Uplift: not measurable yet" in page
    assert "No nudge sent yet." in page
    assert "None skipped." in page
