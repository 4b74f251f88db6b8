"""Newcomer missions through the real dispatcher: the checklist after /start and in /me,
progress detected from what newcomers do (never from what they say), points once per
mission and a bonus only within the first week, operators' changes in private (and only
theirs), and the activation figure of /stats."""

from __future__ import annotations

from datetime import datetime, timedelta

from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.missions import MissionCompletionRow, MissionProgrammeRow
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
    admins,
    at,
    bot_serves_group,
    buttons,
    callback_answers,
    delivered,
    joins,
    last_to,
    ledger,
    members_of,
    presses,
    rows,
    said,
    says_privately,
)
from tests.handlers.test_events import create_event
from tests.handlers.test_quizzes import BANK, sends_file
from tests.telegram import Call

EVE = updates.user(105, "Eve")
FRANK = updates.user(106, "Frank")
INTRODUCTION = "Hello everyone, I am new here and drive an estate"
NOT_AN_OPERATOR = "This command is for the community's operators."
CHECKLIST_TITLE = "<b>Your first steps in Pudong Owners</b>"


def day(number: int, hour: int = 9) -> datetime:
    """``number`` days after NOW, at ``hour`` (UTC, the group's time zone)."""
    return NOW.replace(hour=hour) + timedelta(days=number)


async def club(bot: BotHarness, *newcomers: updates.JsonDict, missions: str = "on") -> None:
    """The group, with its missions ``on`` (or ``off``, or "" for never set up); each of
    ``newcomers`` joins at NOW and starts the bot."""
    await bot_serves_group(bot)
    if missions:
        await bot.feed(says_privately(OPERATOR, f"/missions {missions}"))
    for person in newcomers:
        await at(bot, NOW, joins(person), says_privately(person, "/start"))
    bot.session.clear()


async def mission_credits(bot: BotHarness, person: updates.JsonDict) -> list[tuple[int, str]]:
    """The member's ledger entries for missions and the bonus: (amount, reason)."""
    return [
        (amount, reason)
        for _kind, amount, reason in await ledger(bot, person)
        if reason.startswith("mission")
    ]


async def notes_to(bot: BotHarness, person: updates.JsonDict) -> list[str]:
    """The mission notes the member got in private."""
    await delivered(bot)
    return [text for text in bot.session.texts_to(person["id"]) if "Mission done" in text]


def checklists_to(bot: BotHarness, person: updates.JsonDict) -> list[str]:
    return [text for text in bot.session.texts_to(person["id"]) if CHECKLIST_TITLE in text]


async def press(bot: BotHarness, person: updates.JsonDict, label: str) -> Call:
    """Press the button labelled ``label`` on the last message of the private chat."""
    [data] = [b["callback_data"] for b in buttons(last_to(bot, person)) if b["text"] == label]
    await bot.feed(presses(person, data))
    return last_to(bot, person)


async def introduces_herself(bot: BotHarness, person: updates.JsonDict, moment: datetime) -> None:
    await at(bot, moment, said(person, INTRODUCTION, moment))
    await bot.flush()  # group messages are written in batches


async def programme_row(bot: BotHarness) -> list[tuple[bool, int, dict[str, list[object]]]]:
    """The stored programme: (on, bonus, missions)."""
    return [(row.enabled, row.bonus, row.rules) for row in await rows(bot, MissionProgrammeRow)]


# -- members


async def test_a_newcomer_does_every_mission_sees_each_ticked_and_earns_the_bonus(
    bot: BotHarness,
) -> None:
    bot.session.admins[GROUP_ID] = admins(ADMIN, OPERATOR)
    await club(bot)
    bot.session.serve_file("bank.yaml", BANK)
    await bot.feed(sends_file(OPERATOR, "bank.yaml"))
    event_id = await create_event(bot)
    await at(bot, NOW, joins(CAROL))
    bot.session.clear()

    await bot.feed(says_privately(CAROL, "/start"))
    [checklist] = checklists_to(bot, CAROL)
    assert checklist.splitlines() == [
        f"{CHECKLIST_TITLE} — 0 of 5 done",
        "⬜ Introduce yourself in the group: +10",
        "⬜ Check in for the first time (/checkin): +10",
        "⬜ Answer a quiz question (/quiz): +10",
        "⬜ Answer an event invitation (/events): +20",
        "⬜ Share your interests (/profile): +10",
        "Do them all before 2026-03-09 09:00 for a bonus of 50 points.",
    ]
    assert "Tell us a little about yourself?" in last_to(bot, CAROL).text  # then the questions

    await press(bot, CAROL, "Fill in")
    await press(bot, CAROL, "Estate")  # interests: a questionnaire answer
    await introduces_herself(bot, CAROL, day(1))
    await at(bot, day(2), said(CAROL, "/checkin", day(2)))
    await at(bot, day(3), says_privately(CAROL, "/quiz", day(3)))
    assert len(bot.session.polls_to(CAROL["id"])) == 1
    await bot.feed(updates.poll_answer(CAROL, bot.session.poll_ids[0], [0]))  # right or wrong
    await at(bot, day(4), says_privately(CAROL, "/events", day(4)))
    listing = bot.session.messages_to(CAROL["id"])[-1]
    assert f"#{event_id}" in listing.text
    await bot.feed(presses(CAROL, listing.button_data()[0], day(4)))  # going

    assert await mission_credits(bot, CAROL) == [
        (10, "mission"),  # interests
        (10, "mission"),  # introduction
        (10, "mission"),  # check-in
        (10, "mission"),  # quiz
        (20, "mission"),  # RSVP, the last one: and the bonus
        (50, "mission-bonus"),
    ]
    bot.hearth.clock.set(day(4, 10))  # type: ignore[attr-defined]  # the event card's edit is due
    assert await notes_to(bot, CAROL) == [
        "✅ Mission done in Pudong Owners: Share your interests (/profile). +10 points.\n"
        "4 more to go: /me shows your checklist.",
        "✅ Mission done in Pudong Owners: Introduce yourself in the group. +10 points.\n"
        "3 more to go: /me shows your checklist.",
        "✅ Mission done in Pudong Owners: Check in for the first time (/checkin). +10 points.\n"
        "2 more to go: /me shows your checklist.",
        "✅ Mission done in Pudong Owners: Answer a quiz question (/quiz). +10 points.\n"
        "1 more to go: /me shows your checklist.",
        "✅ Mission done in Pudong Owners: Answer an event invitation (/events). +20 points.\n"
        "🎉 Every mission done within your first week: +50 bonus points!",
    ]

    bot.session.clear()
    await at(bot, day(5), says_privately(CAROL, "/me", day(5)))
    [card] = bot.session.texts_to(CAROL["id"])
    assert f"{CHECKLIST_TITLE} — 5 of 5 done" in card
    assert "✅ Answer an event invitation (/events): +20" in card
    assert "⬜" not in card
    assert "All done within your first week: you earned the bonus of 50 points." in card


async def test_a_mission_is_credited_once_however_often_the_activity_repeats_or_is_replayed(
    bot: BotHarness,
) -> None:
    await club(bot, CAROL)
    checkin = said(CAROL, "/checkin", day(1), update_id=9001)
    introduction = said(CAROL, INTRODUCTION, day(1), update_id=9002)

    await at(bot, day(1), checkin, checkin, introduction, introduction)  # replayed
    await bot.flush()
    await at(bot, day(2), said(CAROL, "/checkin", day(2)))  # and done again
    await introduces_herself(bot, CAROL, day(2))

    assert await mission_credits(bot, CAROL) == [(10, "mission"), (10, "mission")]
    keys = sorted(
        entry.idempotency_key
        for entry in await rows(bot, tables.PointsEntry)
        if entry.reason == "mission"
    )
    assert keys == [
        f"mission:{GROUP_ID}:{CAROL['id']}:checkin",
        f"mission:{GROUP_ID}:{CAROL['id']}:introduce",
    ]
    notes = await notes_to(bot, CAROL)
    assert len(notes) == 2
    completions = await rows(bot, MissionCompletionRow)
    assert sorted((row.mission, row.completed_at) for row in completions) == [
        ("checkin", day(1)),  # the first time counts
        ("introduce", day(1)),
    ]


async def test_a_greeting_of_one_word_is_no_introduction(bot: BotHarness) -> None:
    await club(bot, CAROL)

    await at(bot, day(1), said(CAROL, "hi 👋", day(1)))
    await bot.flush()
    assert await mission_credits(bot, CAROL) == []

    await introduces_herself(bot, CAROL, day(1, 10))
    assert await mission_credits(bot, CAROL) == [(10, "mission")]


async def test_the_bonus_comes_only_when_the_list_is_finished_within_seven_days(
    bot: BotHarness,
) -> None:
    await club(bot, ALICE, CAROL)
    for mission in ("quiz", "rsvp", "interests"):  # the list: introduce, check in
        await bot.feed(says_privately(OPERATOR, f"/missions disable {mission}"))

    await introduces_herself(bot, ALICE, day(1))
    await at(bot, day(6, 20), said(ALICE, "/checkin", day(6, 20)))  # 6 days 11 hours in
    await introduces_herself(bot, CAROL, day(1))
    await at(bot, day(7, 10), said(CAROL, "/checkin", day(7, 10)))  # 7 days 1 hour in

    assert await mission_credits(bot, ALICE) == [
        (10, "mission"),
        (10, "mission"),
        (50, "mission-bonus"),
    ]
    assert await mission_credits(bot, CAROL) == [(10, "mission"), (10, "mission")]
    [_, last] = await notes_to(bot, CAROL)
    assert last.endswith("That was the last one. Welcome aboard!")


async def test_members_who_were_there_before_and_groups_without_missions_see_no_checklist(
    bot: BotHarness,
) -> None:
    await club(bot, CAROL, missions="off")
    await members_of(bot, BORIS)  # already in the group when the bot came
    await at(bot, NOW, says_privately(BORIS, "/start"))
    await at(bot, day(1), said(BORIS, "/checkin", day(1)), said(CAROL, "/checkin", day(1)))
    await at(bot, day(1), says_privately(CAROL, "/me", day(1)), says_privately(BORIS, "/me"))

    assert checklists_to(bot, CAROL) == checklists_to(bot, BORIS) == []
    assert await mission_credits(bot, CAROL) == []  # the missions are off: no points
    assert await notes_to(bot, CAROL) == []
    # ... but what Carol did is known, so that activation reads the same with missions off
    assert [row.member_id for row in await rows(bot, MissionCompletionRow)] == [CAROL["id"]]

    await bot.feed(says_privately(OPERATOR, "/missions on"))
    await at(bot, day(1), says_privately(CAROL, "/me", day(1)), says_privately(BORIS, "/me"))
    [card] = checklists_to(bot, CAROL)
    assert "✅ Check in for the first time (/checkin): +10" in card  # done, never paid
    assert checklists_to(bot, BORIS) == []


# -- operators


async def test_operators_change_the_list_points_and_bonus_and_each_change_is_audited(
    bot: BotHarness,
) -> None:
    await club(bot, missions="")

    await bot.feed(says_privately(OPERATOR, "/missions"))
    overview = last_to(bot, OPERATOR)
    assert overview.text.startswith("<b>Newcomer missions in Pudong Owners</b>: off")
    assert "✅ rsvp — Answer an event invitation (/events) — 20 points" in overview.text
    assert [b["text"] for b in buttons(overview)] == [
        "✅ introduce", "✅ checkin", "✅ quiz", "✅ rsvp", "✅ interests", "Turn missions on",
    ]  # fmt: skip

    after = await press(bot, OPERATOR, "✅ quiz")
    assert "⛔ quiz — Answer a quiz question (/quiz) — 10 points (off the list)" in after.text
    after = await press(bot, OPERATOR, "Turn missions on")
    assert after.text.startswith("<b>Newcomer missions in Pudong Owners</b>: on")
    await bot.feed(says_privately(OPERATOR, "/missions points checkin 25"))
    await bot.feed(says_privately(OPERATOR, "/missions bonus 80"))
    changed = last_to(bot, OPERATOR).text
    assert "✅ checkin — Check in for the first time (/checkin) — 25 points" in changed
    assert "Bonus for every mission within 7 days of joining: 80 points" in changed

    audits = [
        (row.action, row.details)
        for row in await rows(bot, tables.AuditLog)
        if row.action.startswith("missions.")
    ]
    assert audits == [
        ("missions.disable", {"mission": "quiz"}),
        ("missions.switch", {"on": True}),
        ("missions.points", {"mission": "checkin", "points": 25}),
        ("missions.bonus", {"points": 80}),
    ]

    await at(bot, NOW, joins(CAROL), says_privately(CAROL, "/start"))
    [checklist] = checklists_to(bot, CAROL)
    assert "quiz" not in checklist
    assert "⬜ Check in for the first time (/checkin): +25" in checklist
    assert "for a bonus of 80 points" in checklist


async def test_bad_changes_are_explained_and_change_nothing(bot: BotHarness) -> None:
    await club(bot)
    before = await programme_row(bot)

    for command in (
        "/missions points parking 5",
        "/missions points checkin -3",
        "/missions bonus lots",
        "/missions enable",
        "/missions dance",
    ):
        await bot.feed(says_privately(OPERATOR, command))

    usage = (
        "/missions on|off — show the missions to newcomers or not\n"
        "/missions enable|disable KEY — put a mission on the list or take it off\n"
        "/missions points KEY N — what a mission is worth\n"
        "/missions bonus N — the bonus for all of them in the first week"
    )
    assert bot.session.texts_to(OPERATOR["id"]) == [
        "There is no such mission. Missions: introduce, checkin, quiz, rsvp, interests.",
        "Points must be a whole number from 0 to 10000.",
        "Points must be a whole number from 0 to 10000.",
        usage,
        usage,
    ]
    assert await programme_row(bot) == before


async def test_a_member_cannot_change_the_missions_by_command_or_button(bot: BotHarness) -> None:
    await club(bot, CAROL)
    bot.session.admins[OTHER_GROUP_ID] = admins(DAVE)  # Dave operates another group only
    await bot_serves_group(bot, chat=OTHER_GROUP)
    before = await programme_row(bot)

    await bot.feed(says_privately(CAROL, "/missions off"))
    await bot.feed(said(CAROL, "/missions off"))
    await bot.feed(presses(CAROL, f"ms1:{GROUP_ID}::0"))  # forged: turn them off
    await bot.feed(presses(DAVE, f"ms1:{GROUP_ID}:checkin:0"))  # another group's operator

    assert bot.session.texts_to(CAROL["id"]) == [NOT_AN_OPERATOR]
    assert bot.session.texts_to(GROUP_ID) == [NOT_AN_OPERATOR]
    refusals = [call.params.get("text") for call in callback_answers(bot)]
    assert refusals == [NOT_AN_OPERATOR, NOT_AN_OPERATOR]
    assert await programme_row(bot) == before
    assert not [row for row in await rows(bot, tables.AuditLog) if row.actor_id != OPERATOR["id"]]


# -- /stats


async def test_stats_report_the_share_of_newcomers_who_did_every_mission_within_a_week(
    bot: BotHarness,
) -> None:
    await club(bot, ALICE, BORIS, CAROL)  # all three join on day 0
    for mission in ("quiz", "rsvp", "interests"):  # the list: introduce, check in
        await bot.feed(says_privately(OPERATOR, f"/missions disable {mission}"))
    await members_of(bot, FRANK)  # there before: never a newcomer
    await introduces_herself(bot, ALICE, day(1))
    await at(bot, day(1), said(ALICE, "/checkin", day(1)))  # Alice: in time
    await at(bot, day(1), said(BORIS, "/checkin", day(1)))
    await introduces_herself(bot, BORIS, day(9))  # Boris: late
    await at(bot, day(2), said(CAROL, "/checkin", day(2)))  # Carol: half of it
    await at(bot, day(10), joins(DAVE, day(10)))
    await introduces_herself(bot, DAVE, day(10, 10))
    await at(bot, day(10, 11), said(DAVE, "/checkin", day(10, 11)))  # Dave: in time
    await at(bot, day(12), joins(EVE, day(12)))  # Eve: her week is still running
    bot.session.clear()

    await at(bot, day(14), said(OPERATOR, "/stats 30d", day(14)))
    await at(bot, day(14), said(OPERATOR, "/stats 7d", day(14)))

    month, week = bot.session.texts_to(GROUP_ID)
    assert month.splitlines()[-4:] == [
        "",
        "<b>Newcomer missions</b> (on)",
        "Did every mission within 7 days of joining: 50% (2/4)",  # Alice, Dave of 4
        "Of the members seen joining in these days whose first week is over or who did them "
        "all; 1 still in their first week.",  # Eve
    ]
    assert week.splitlines()[-2] == "Did every mission within 7 days of joining: 100% (1/1)"

    await bot.feed(says_privately(OPERATOR, "/missions off"))  # the same figure without them
    bot.session.clear()
    await at(bot, day(14), said(OPERATOR, "/stats 30d", day(14)))
    [without] = bot.session.texts_to(GROUP_ID)
    assert without.splitlines()[-3:-1] == [
        "<b>Newcomer missions</b> (off)",
        "Did every mission within 7 days of joining: 50% (2/4)",
    ]


async def test_stats_say_nothing_of_missions_a_community_never_set_up(bot: BotHarness) -> None:
    await club(bot, CAROL, missions="")

    await bot.feed(said(OPERATOR, "/stats"))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert "Newcomer missions" not in reply


async def test_an_operator_of_two_groups_picks_one_and_later_changes_apply_to_it(
    bot: BotHarness,
) -> None:
    await club(bot, missions="")
    await bot_serves_group(bot, chat=OTHER_GROUP)

    await bot.feed(says_privately(OPERATOR, "/missions"))
    assert last_to(bot, OPERATOR).text == "Which community?"
    chosen = await press(bot, OPERATOR, "Jinqiao Riders")
    assert chosen.text.startswith("<b>Newcomer missions in Jinqiao Riders</b>: off")
    await bot.feed(says_privately(OPERATOR, "/missions on"))

    stored = {row.community_id: row.enabled for row in await rows(bot, MissionProgrammeRow)}
    assert stored == {OTHER_GROUP_ID: True}
