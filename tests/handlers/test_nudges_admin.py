"""/nudges through the real dispatcher: the operators' report with the measured uplift, the
preview of today's nudges (which sends nothing), pausing, the daily cap, the holdout and the
community's own templates — and members, who are refused and change nothing.

The report's contacts are stored as the daily plan and the sender would store them; the
preview's members become dormant through real updates and the nightly recompute.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hearth.domain.lifecycle import LifecycleRules
from hearth.domain.members import Person
from hearth.domain.nudges import NudgeKind, NudgeSettings, NudgeStatus, SkipReason
from hearth.scheduler import jobs
from hearth.services.engagement_recompute import recompute
from hearth.storage import tables
from hearth.storage.nudges import NudgeRow, NudgeTemplateRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    DAVE,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    at,
    bot_serves_group,
    callback_answers,
    delivered,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
)

NOT_AN_OPERATOR = "This command is for the community's operators."
SENT_IN_PRIVATE = "I sent it to you in private."
TODAY = NOW.date()
PEOPLE = (ALICE, BORIS, CAROL, DAVE)


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


async def settings(bot: BotHarness, community_id: int = GROUP_ID) -> NudgeSettings:
    async with bot.uow() as uow:
        return await uow.nudges.settings(community_id)


async def audited(bot: BotHarness) -> list[str]:
    return [row.action for row in await rows(bot, tables.AuditLog) if "nudges" in row.action]


class Contacts:
    """Stores past contacts as the plan and the sender record them: one per member and day,
    each member's on days further back, decided 10 to 89 days ago (their 7 days over) unless
    ``days_ago`` says otherwise; with ``new_members`` each contact goes to a member of its own."""

    def __init__(self, bot: BotHarness) -> None:
        self.bot = bot
        self.next_day = 10
        self.next_member = 9000

    async def add(
        self,
        count: int,
        status: NudgeStatus,
        *,
        kind: NudgeKind | None = None,
        returned: int = 0,
        clicked: int = 0,
        opted_out: int = 0,
        reason: SkipReason | None = None,
        new_members: bool = False,
        days_ago: int | None = None,
    ) -> None:
        async with self.bot.uow() as uow:
            for index in range(count):
                member_id = PEOPLE[index % len(PEOPLE)]["id"]
                if new_members:
                    self.next_member += 1
                    member_id = self.next_member
                    await uow.members.upsert(Person(member_id, f"Member {member_id}"), NOW)
                elif index % len(PEOPLE) == 0 and index:
                    self.next_day += 1
                day = TODAY - timedelta(days=self.next_day if days_ago is None else days_ago)
                due = datetime.combine(day, datetime.min.time(), NOW.tzinfo) + timedelta(hours=10)
                sent = due if status in {NudgeStatus.SENT, NudgeStatus.HELD_OUT} else None
                uow.session.add(
                    NudgeRow(
                        community_id=GROUP_ID,
                        member_id=member_id,
                        planned_on=day,
                        episode=day - timedelta(days=20),
                        step=1,
                        status=status.value,
                        kind=kind.value if kind else None,
                        reason=reason.value if reason else None,
                        template=f"{kind.value}:0" if kind and status is NudgeStatus.SENT else None,
                        decided_at=due - timedelta(hours=6),
                        due_at=due,
                        sent_at=sent,
                        clicked_at=due + timedelta(hours=1) if index < clicked else None,
                        returned_at=due + timedelta(days=1) if index < returned else None,
                        opted_out_at=due + timedelta(hours=2) if index < opted_out else None,
                    )
                )
            await uow.commit()
        if days_ago is None:
            self.next_day += 1


async def club_with_contacts(bot: BotHarness) -> Contacts:
    await bot_serves_group(bot)
    await members_of(bot, *PEOPLE)
    bot.session.clear()
    return Contacts(bot)


def report_lines(bot: BotHarness, chat_id: int = OPERATOR["id"]) -> list[str]:
    [report] = bot.session.texts_to(chat_id)
    return report.splitlines()


# -- the report


async def test_the_report_compares_nudged_members_with_the_holdout_over_matured_contacts(
    bot: BotHarness,
) -> None:
    contacts = await club_with_contacts(bot)
    await contacts.add(
        30, NudgeStatus.SENT, kind=NudgeKind.LIGHT, returned=9, clicked=10, new_members=True
    )
    await contacts.add(
        10,
        NudgeStatus.SENT,
        kind=NudgeKind.STREAK,
        returned=3,
        clicked=2,
        opted_out=2,
        new_members=True,
    )
    await contacts.add(20, NudgeStatus.HELD_OUT, returned=3, new_members=True)
    await contacts.add(3, NudgeStatus.SKIPPED, reason=SkipReason.DAILY_CAP)
    await contacts.add(1, NudgeStatus.SKIPPED, reason=SkipReason.PAUSED)

    await bot.feed(says_privately(OPERATOR, "/nudges"))

    lines = report_lines(bot)
    assert lines[0] == "<b>Nudges in Pudong Owners</b>"
    assert lines[1] == "Last 90 days: 2025-12-03 – 2026-03-02"
    assert "Nudges: on · daily cap 50 · holdout 10%" in lines
    assert "Sent: 40 · clicked: 12 · turned nudges off: 2 (5%)" in lines
    assert "Skipped: daily cap reached 3, paused 1" in lines
    assert "Nudged: 12 of 40, 30%" in lines
    assert "Holdout (got nothing): 3 of 20, 15%" in lines
    # 30% − 15%, ± 1.96 × √(0.3·0.7/40 + 0.15·0.85/20)
    assert "Uplift: +15.0 points (95% interval −6.1 to +36.1)" in lines
    assert "Too few members yet to tell: each group needs 30 whose 7 days are over." in lines
    assert "Light reminder: 30 sent, 10 clicked, 30% returned" in lines
    assert "Restart the streak: 10 sent, 2 clicked, 30% returned" in lines


async def test_with_enough_contacts_the_report_says_nudges_bring_members_back(
    bot: BotHarness,
) -> None:
    contacts = await club_with_contacts(bot)
    await contacts.add(60, NudgeStatus.SENT, kind=NudgeKind.COMEBACK, returned=30, new_members=True)
    await contacts.add(40, NudgeStatus.HELD_OUT, returned=4, new_members=True)

    await bot.feed(says_privately(OPERATOR, "/nudges"))

    lines = report_lines(bot)
    assert "Nudged: 30 of 60, 50%" in lines
    assert "Holdout (got nothing): 4 of 40, 10%" in lines
    assert "Uplift: +40.0 points (95% interval +24.3 to +55.7)" in lines
    assert "Nudges bring members back: nudged members return more often than the holdout." in lines


async def test_without_a_difference_the_report_says_there_is_no_measurable_effect(
    bot: BotHarness,
) -> None:
    contacts = await club_with_contacts(bot)
    await contacts.add(40, NudgeStatus.SENT, kind=NudgeKind.LIGHT, returned=8, new_members=True)
    await contacts.add(40, NudgeStatus.HELD_OUT, returned=7, new_members=True)

    await bot.feed(says_privately(OPERATOR, "/nudges"))

    assert "No measurable effect: the difference could be chance." in report_lines(bot)


async def test_a_report_before_any_nudge_says_so_and_a_shorter_period_counts_fewer_days(
    bot: BotHarness,
) -> None:
    contacts = await club_with_contacts(bot)
    await contacts.add(8, NudgeStatus.SENT, kind=NudgeKind.LIGHT)  # 10 and 11 days ago

    await bot.feed(says_privately(OPERATOR, "/nudges 7"))

    lines = report_lines(bot)
    assert lines[1] == "Last 7 days: 2026-02-24 – 2026-03-02"
    assert "Sent: 0 · clicked: 0 · turned nudges off: 0 (—)" in lines
    assert "Nudged: no member whose 7 days are over yet" in lines
    assert lines[-1] == "No nudge sent yet."


async def test_the_report_counts_each_member_once_and_waits_for_recent_contacts(
    bot: BotHarness,
) -> None:
    contacts = await club_with_contacts(bot)
    # Alice, Boris, Carol and Dave nudged 10 and 11 days ago; Alice and Boris came back once
    await contacts.add(8, NudgeStatus.SENT, kind=NudgeKind.LIGHT, returned=2)
    await contacts.add(3, NudgeStatus.HELD_OUT, returned=1, new_members=True)
    # two days ago: one came back already, one not yet; three days ago, one held out
    await contacts.add(
        2, NudgeStatus.SENT, kind=NudgeKind.LIGHT, returned=1, new_members=True, days_ago=2
    )
    await contacts.add(1, NudgeStatus.HELD_OUT, new_members=True, days_ago=3)

    await bot.feed(says_privately(OPERATOR, "/nudges"))

    lines = report_lines(bot)
    assert (
        "<b>Did they come back?</b> (members who took part within 7 days of a contact whose "
        "7 days are over; each member once, in the group of their first contact)"
    ) in lines
    assert "Nudged: 2 of 4, 50%" in lines
    assert "Holdout (got nothing): 1 of 3, 33%" in lines
    assert "Still within their 7 days, not counted yet: 2 nudged, 1 held out" in lines
    assert "Too few members yet to tell: each group needs 30 whose 7 days are over." in lines
    # per kind the unit stays the contact: 2 of the 8 whose 7 days are over
    assert "Light reminder: 10 sent, 0 clicked, 25% returned" in lines


async def test_in_the_group_the_report_goes_to_the_operator_in_private(bot: BotHarness) -> None:
    await club_with_contacts(bot)
    await starts_the_bot(bot, ADMIN)
    bot.session.clear()

    await bot.feed(said(ADMIN, "/nudges"))

    assert bot.session.texts_to(GROUP_ID) == [SENT_IN_PRIVATE]
    assert report_lines(bot, ADMIN["id"])[0] == "<b>Nudges in Pudong Owners</b>"


# -- the preview


async def dormant_club(bot: BotHarness) -> None:
    """Alice takes part every day; Carol and Boris went quiet 50 days ago (dormant). Carol
    had started the bot, Boris never did. Then the nightly recompute runs."""
    await bot_serves_group(bot)
    for back in range(70, -1, -1):
        moment = days_ago(back)
        await at(bot, moment, said(ALICE, "hi", moment))
        if back >= 50:
            await at(bot, moment, said(CAROL, "hi", moment), said(BORIS, "hi", moment))
    await at(bot, days_ago(60), says_privately(CAROL, "/start", days_ago(60)))
    await bot.flush()
    async with bot.uow() as uow:
        community = await uow.communities.get(GROUP_ID)
        assert community is not None
        await recompute(uow, community, TODAY, LifecycleRules())
        await uow.commit()
    bot.hearth.clock.set(NOW)  # type: ignore[attr-defined]
    bot.session.clear()


async def test_the_preview_shows_who_would_be_nudged_today_and_why_and_sends_nothing(
    bot: BotHarness,
) -> None:
    await dormant_club(bot)
    await bot.feed(says_privately(OPERATOR, "/nudges holdout 0"))  # nobody held out
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/nudges preview"))

    lines = report_lines(bot)
    assert lines[0] == "<b>Nudges today in Pudong Owners</b>"
    assert lines[1] == "2026-03-02 · preview: nothing is sent now"
    assert "<b>Would be nudged (1)</b>" in lines
    # Carol spoke at 09:00 (the group's time is UTC): nudges go at half past her hour.
    assert "Carol — Dormant · step 1 of 3 · Light reminder · 09:30" in lines
    assert "<b>Held out (0)</b>: get nothing, to measure the uplift" in lines
    assert "<b>Left out</b>: never started the bot 1" in lines
    assert "Alice" not in "\n".join(lines)
    assert bot.session.texts_to(CAROL["id"]) == []
    assert await rows(bot, NudgeRow) == []


async def test_once_the_day_is_planned_the_preview_shows_the_plan_as_made_and_what_was_sent(
    bot: BotHarness,
) -> None:
    await dormant_club(bot)
    await bot.feed(says_privately(OPERATOR, "/nudges holdout 0"))
    hearth = bot.hearth
    await jobs.plan_nudges(hearth.uow_factory, hearth.clock)  # 09:00: the day's plan is made
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/nudges preview"))

    lines = report_lines(bot)
    assert lines[1] == "2026-03-02 · today's plan as it was made; this preview sends nothing"
    assert "<b>Planned (1)</b>" in lines
    # not "nudged less than 7 days ago": she is the one planned today
    assert "Carol — Dormant · step 1 of 3 · Light reminder · 09:30" in lines
    assert "<b>Left out</b>: never started the bot 1" in lines
    bot.session.clear()

    hearth.clock.set(NOW + timedelta(minutes=35))  # type: ignore[attr-defined]
    assert await jobs.send_nudges(hearth.uow_factory, hearth.nudges, hearth.clock) == 1
    await delivered(bot)
    bot.session.clear()
    await bot.feed(says_privately(OPERATOR, "/nudges preview"))

    lines = report_lines(bot)
    assert "Carol — Dormant · step 1 of 3 · Light reminder · 09:30 · sent" in lines
    assert "<b>Left out</b>: never started the bot 1" in lines


async def test_a_paused_preview_lists_the_members_as_skipped(bot: BotHarness) -> None:
    await dormant_club(bot)
    await bot.feed(says_privately(OPERATOR, "/nudges holdout 0"))
    await bot.feed(says_privately(OPERATOR, "/nudges pause"))
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/nudges preview"))

    lines = report_lines(bot)
    assert "Nudges are paused: nothing will be sent until /nudges resume." in lines
    assert "<b>Would be nudged (0)</b>" in lines
    assert "Carol — Dormant · paused" in lines


# -- settings


async def test_an_operator_pauses_and_resumes_nudges_in_the_group_and_both_are_audited(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ADMIN, "/nudges pause"))
    paused = (await settings(bot)).paused
    await bot.feed(said(ADMIN, "/nudges resume"))

    assert bot.session.texts_to(GROUP_ID) == [
        "Nudges are paused for this community: none will be sent until /nudges resume.",
        "Nudges are on again for this community.",
    ]
    assert (paused, (await settings(bot)).paused) == (True, False)
    assert await audited(bot) == ["nudges.paused", "nudges.resumed"]


async def test_the_daily_cap_and_the_holdout_are_set_and_bad_numbers_are_explained(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    for text in (
        "/nudges cap lots",
        "/nudges cap -3",
        "/nudges cap 5000",
        "/nudges holdout 70",
        "/nudges holdout half",
        "/nudges cap 20",
        "/nudges holdout 15%",
    ):
        await bot.feed(says_privately(OPERATOR, text))

    bad_cap = "The daily cap is a whole number from 0 to 1000: /nudges cap 50, for example."
    bad_holdout = "The holdout is a share from 0 to 50 percent: /nudges holdout 10, for example."
    assert bot.session.texts_to(OPERATOR["id"]) == [
        bad_cap,
        bad_cap,
        bad_cap,
        bad_holdout,
        bad_holdout,
        "At most 20 nudges will be sent per day.",
        "From now on 15% of the members who drift away get no nudge, so that the uplift is "
        "measured.",
    ]
    stored = await settings(bot)
    assert (stored.daily_cap, stored.holdout_percent) == (20, 15)
    assert await audited(bot) == ["nudges.cap", "nudges.holdout"]


async def test_numbers_that_are_not_plain_digits_or_name_no_template_are_explained(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    for text in (
        "/nudges ²",
        "/nudges cap ²",
        "/nudges holdout ³%",
        "/nudges template_remove ²",
        f"/nudges template_remove {2**63}",
    ):
        await bot.feed(says_privately(OPERATOR, text))

    usage, bad_cap, bad_holdout, remove_usage, unknown = bot.session.texts_to(OPERATOR["id"])
    assert usage.startswith("Usage: /nudges [days] for the report (default 90);")
    assert bad_cap.startswith("The daily cap is a whole number from 0 to 1000")
    assert bad_holdout.startswith("The holdout is a share from 0 to 50 percent")
    assert remove_usage == (
        "Usage: /nudges template_remove number (the number /nudges templates shows)."
    )
    assert unknown == (
        f"This community has no template number {2**63}; /nudges templates lists them."
    )
    assert await audited(bot) == []


async def test_an_unknown_word_gets_the_usage(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(says_privately(OPERATOR, "/nudges louder"))

    [usage] = bot.session.texts_to(OPERATOR["id"])
    assert usage.startswith("Usage: /nudges [days] for the report (default 90); /nudges preview;")


# -- templates


async def test_an_operator_adds_lists_and_removes_templates(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(
        says_privately(OPERATOR, "/nudges template streak Your {streak}-day streak, {name}? <3")
    )
    [added] = await rows(bot, NudgeTemplateRow)
    await bot.feed(says_privately(OPERATOR, "/nudges templates"))
    await bot.feed(says_privately(OPERATOR, f"/nudges template_remove {added.id}"))
    await bot.feed(says_privately(OPERATOR, "/nudges templates"))

    confirmation, listing, removed, empty = bot.session.texts_to(OPERATOR["id"])
    assert confirmation == (
        f"Template {added.id} added: Restart the streak nudges now use this community's "
        "templates instead of the built-in texts.\n"
        "Your {streak}-day streak, {name}? &lt;3"
    )
    assert (added.kind, added.text) == ("streak", "Your {streak}-day streak, {name}? <3")
    listing_lines = listing.splitlines()
    assert listing_lines[0] == "<b>Nudge templates of Pudong Owners</b>"
    assert listing_lines[1] == (
        f"<b>{added.id}</b> · Restart the streak (streak): Your {{streak}}-day streak, "
        "{name}? &lt;3"
    )
    assert "streak — {name}, {community}, {streak}" in listing_lines
    assert "event — {name}, {community}, {date}, {event}" in listing_lines
    assert removed == f"Template {added.id} removed."
    assert "None of your own: every nudge uses the built-in texts." in empty.splitlines()
    assert await rows(bot, NudgeTemplateRow) == []
    assert await audited(bot) == ["nudges.template_added", "nudges.template_removed"]


async def test_a_bad_template_is_refused_with_what_is_allowed(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    for text in (
        "/nudges template streak Hi {name}, {points} points wait",
        "/nudges template shout hello",
        "/nudges template quiz Hi {name",
        "/nudges template light",
        "/nudges template_remove 999",
        "/nudges template_remove first",
    ):
        await bot.feed(says_privately(OPERATOR, text))

    assert bot.session.texts_to(OPERATOR["id"]) == [
        "Unknown placeholder {points}. Restart the streak templates may use: "
        "{name}, {community}, {streak}.",
        "“shout” is not a kind of nudge. Kinds: light, streak, event, expiring, quiz, comeback.",
        "Braces are only for placeholders, and each one must be closed. Favourite quiz "
        "templates may use: {name}, {community}, {topic}.",
        "Usage: /nudges template kind text, for example: /nudges template light Hello, we miss "
        "you! Kinds: light, streak, event, expiring, quiz, comeback. /nudges templates lists "
        "the placeholders.",
        "This community has no template number 999; /nudges templates lists them.",
        "Usage: /nudges template_remove number (the number /nudges templates shows).",
    ]
    assert await rows(bot, NudgeTemplateRow) == []
    assert await audited(bot) == []


# -- who may


async def test_a_member_asking_for_nudges_is_refused_and_changes_nothing(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(said(ALICE, "/nudges"))
    await bot.feed(said(ALICE, "/nudges pause"))
    await bot.feed(says_privately(ALICE, "/nudges preview"))
    await bot.feed(says_privately(ALICE, "/nudges template light Come back!"))

    assert bot.session.texts_to(GROUP_ID) == [NOT_AN_OPERATOR] * 2
    assert bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR] * 2
    assert not (await settings(bot)).paused
    assert await rows(bot, NudgeTemplateRow) == []
    assert await audited(bot) == []


async def test_an_operator_of_two_communities_picks_one_and_a_forged_button_is_refused(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await members_of(bot, ALICE)
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/nudges cap 5"))
    [picker] = bot.session.messages_to(OPERATOR["id"])
    assert sorted(picker.button_data()) == sorted(
        [f"cc1:nudges.cap.5:{GROUP_ID}", f"cc1:nudges.cap.5:{OTHER_GROUP_ID}"]
    )
    await bot.feed(presses(ALICE, f"cc1:nudges.cap.5:{GROUP_ID}"))  # a member forges it
    await bot.feed(presses(OPERATOR, f"cc1:nudges.cap.5:{OTHER_GROUP_ID}"))
    await bot.feed(says_privately(OPERATOR, "/nudges template light Come back!"))

    assert callback_answers(bot)[0].params["text"] == NOT_AN_OPERATOR
    assert bot.session.texts_to(OPERATOR["id"])[1:] == [
        "At most 5 nudges will be sent per day.",
        "You operate several communities: send /nudges template in the group it is for.",
    ]
    assert (await settings(bot, OTHER_GROUP_ID)).daily_cap == 5
    assert (await settings(bot, GROUP_ID)).daily_cap == 50
    assert await audited(bot) == ["nudges.cap"]


# -- the member card


async def test_the_member_card_shows_the_nudges_a_member_got(bot: BotHarness) -> None:
    contacts = await club_with_contacts(bot)
    await contacts.add(8, NudgeStatus.SENT, kind=NudgeKind.LIGHT, returned=4)  # 2 each
    await starts_the_bot(bot, ADMIN)
    bot.session.clear()

    await bot.feed(said(ADMIN, "/member @alice"))

    [card] = bot.session.texts_to(ADMIN["id"])
    # Alice got the contacts of 11 and 10 days ago; she came back after the later one.
    assert "Nudges: 2 sent (last 2026-02-20), 1 returned" in card.splitlines()


async def test_help_lists_nudges_for_operators_only(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/help"))
    await bot.feed(says_privately(ALICE, "/help"))

    for_operator = "\n".join(bot.session.texts_to(OPERATOR["id"]))
    [for_member] = bot.session.texts_to(ALICE["id"])
    assert (
        "/nudges — Reactivation nudges: /nudges for the report; "
        "/nudges preview|pause|resume|cap N|holdout P|templates"
    ) in for_operator.splitlines()
    assert "/nudges" not in for_member
