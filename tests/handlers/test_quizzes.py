"""Quizzes through the real dispatcher: imports, a whole round, odd answers, practice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP_ID,
    NOW,
    OPERATOR,
    admins,
    bot_serves_group,
    joins,
    said,
    says_privately,
)

CAROL = updates.user(103, "Carol")
EXAMPLES = Path(__file__).parent.parent.parent / "examples"
BANK = b"""questions:
  - text: How often should engine oil be changed?
    options: [Every 10,000 km or 12 months, Never]
    correct: 1
    topic: maintenance
  - text: What does ABS prevent?
    options: [Wheels locking when braking, Flat tyres]
    correct: 1
    topic: safety
  - text: What does ABS prevent
    options: [Wheels locking, Rain]
    correct: 1
  - text: No answer here
    options: [a, b]
"""


def sends_file(person: updates.JsonDict, name: str, caption: str = "/quiz_import") -> dict:
    command = caption.split()[0]
    return updates.message(
        updates.private(person),
        person,
        None,
        NOW,
        caption=caption,
        caption_entities=[{"type": "bot_command", "offset": 0, "length": len(command)}],
        document={"file_id": name, "file_unique_id": name, "file_name": name, "file_size": 100},
    )


async def group_with_bank(bot: BotHarness, bank: bytes = BANK) -> None:
    bot.session.admins[GROUP_ID] = admins(updates.user(8, "Adam"), OPERATOR)
    await bot_serves_group(bot)
    for person in (ALICE, BORIS, CAROL):
        await bot.feed(joins(person, NOW))
    bot.session.serve_file("bank.yaml", bank)
    await bot.feed(sends_file(OPERATOR, "bank.yaml"))
    bot.session.clear()


async def test_an_operator_imports_a_file_and_reads_every_rejected_row(bot: BotHarness) -> None:
    bot.session.admins[GROUP_ID] = admins(updates.user(8, "Adam"), OPERATOR)
    await bot_serves_group(bot)
    bot.session.serve_file("bank.yaml", BANK)

    await bot.feed(sends_file(OPERATOR, "bank.yaml"))

    (report,) = bot.session.texts_to(OPERATOR["id"])
    assert report.startswith("2 questions added to Pudong Owners.")
    assert "2 rows were rejected:" in report
    assert "row 3: a duplicate of a question already in the bank" in report
    assert "row 4: no correct answer given" in report


async def test_broken_files_and_strangers_get_clear_answers_and_nothing_is_added(
    bot: BotHarness,
) -> None:
    bot.session.admins[GROUP_ID] = admins(updates.user(8, "Adam"), OPERATOR)
    await bot_serves_group(bot)
    bot.session.serve_file("bank.json", b"{not json")
    bot.session.serve_file("bank.csv", b"question,answer\nx,y\n")
    bot.session.serve_file("bank.yaml", BANK)

    await bot.feed(sends_file(OPERATOR, "bank.json"))
    await bot.feed(sends_file(OPERATOR, "bank.csv"))
    await bot.feed(sends_file(OPERATOR, "bank.xlsx"))
    await bot.feed(sends_file(ALICE, "bank.yaml"))

    assert bot.session.texts_to(OPERATOR["id"]) == [
        "I could not read that file: not valid JSON (line 1).",
        "I could not read that file: the first row must name the columns, including 'text'.",
        "Send a .yaml, .yml, .csv or .json file.",
    ]
    assert bot.session.texts_to(ALICE["id"]) == ["This command is for the community's operators."]
    async with bot.uow() as uow:
        assert await uow.quizzes.topics(GROUP_ID) == {}


async def test_a_whole_round_from_start_to_results_with_three_members(bot: BotHarness) -> None:
    await group_with_bank(bot)
    clock = bot.hearth.clock

    await bot.feed(said(OPERATOR, "/quiz start 2", NOW))

    assert bot.session.texts_to(GROUP_ID) == [
        "A quiz of 2 questions starts now! You have 30 seconds for each; "
        "quick right answers earn a bonus."
    ]
    (first,) = bot.session.polls_to(GROUP_ID)
    assert first.params["type"] == "quiz"
    assert first.params["is_anonymous"] is False
    assert first.params["open_period"] == 30
    assert first.params["question"].startswith("1/2. ")
    first_poll = _poll_id(bot, 0)
    right = first.params["correct_option_ids"][0]
    wrong = 1 - right

    await bot.feed(updates.poll_answer(ALICE, first_poll, [right]))
    await bot.feed(updates.poll_answer(ALICE, first_poll, [right]))  # replayed: no double points
    await bot.feed(updates.poll_answer(BORIS, first_poll, [wrong]))
    await bot.feed(updates.poll_answer(CAROL, first_poll, [wrong]))
    await bot.feed(updates.poll_answer(CAROL, first_poll, []))  # Carol retracts her vote
    await bot.feed(updates.poll_answer(CAROL, "not-our-poll", [0]))  # a poll the bot never sent

    clock.set(NOW + timedelta(seconds=40))  # type: ignore[attr-defined]
    round_id = await _running_round(bot)
    await bot.hearth.quiz_rounds.step(round_id)
    second = bot.session.polls_to(GROUP_ID)[1]
    assert second.params["question"].startswith("2/2. ")
    second_poll = _poll_id(bot, 1)
    await bot.feed(updates.poll_answer(BORIS, first_poll, [right]))  # too late for the first
    await bot.feed(
        updates.poll_answer(CAROL, second_poll, [second.params["correct_option_ids"][0]])
    )

    clock.set(NOW + timedelta(seconds=80))  # type: ignore[attr-defined]
    assert await bot.hearth.quiz_rounds.step(round_id) is False
    await bot.hearth.delivery.drain()

    results = bot.session.texts_to(GROUP_ID)[-1]
    assert "The quiz is over!</b> 3 players took part." in results
    assert "🥇 Alice: 15 points (1 right)" in results
    assert "🥈 Carol: 15 points (1 right)" in results  # a tie: the earlier member first
    assert "🥉 Boris: 0 points (0 right)" in results
    assert "Hardest question:" in results
    async with bot.uow() as uow:
        assert await uow.points.balance(GROUP_ID, ALICE["id"]) == 15
        assert await uow.points.balance(GROUP_ID, BORIS["id"]) == 0
        assert await uow.points.balance(GROUP_ID, CAROL["id"]) == 15

    bot.session.clear()
    await bot.feed(said(ALICE, "/quiz top", NOW + timedelta(minutes=2)))
    (season,) = bot.session.texts_to(GROUP_ID)
    assert "1. Alice: 15 points, 1 right" in season
    assert "3. Boris: 0 points, 0 right" in season


async def test_a_member_cannot_start_or_stop_a_round(bot: BotHarness) -> None:
    await group_with_bank(bot)

    await bot.feed(said(ALICE, "/quiz start", NOW))
    await bot.feed(said(ALICE, "/quiz stop", NOW))

    assert bot.session.polls_to(GROUP_ID) == []
    assert bot.session.texts_to(GROUP_ID) == ["This command is for the community's operators."] * 2


async def test_start_needs_a_known_topic_and_a_sensible_number(bot: BotHarness) -> None:
    await group_with_bank(bot)

    await bot.feed(said(OPERATOR, "/quiz start cooking", NOW))
    await bot.feed(said(OPERATOR, "/quiz start 50", NOW))
    await bot.feed(said(OPERATOR, "/quiz start safety 1", NOW))
    await bot.feed(said(OPERATOR, "/quiz start", NOW))

    texts = bot.session.texts_to(GROUP_ID)
    assert texts[0].startswith("The question bank has no questions on “cooking”.")
    assert texts[1] == "Usage: /quiz start [topic] [number of questions, 1 to 20]"
    assert texts[2].startswith("A quiz of 1 question starts now!")
    assert texts[3] == "A quiz round is already running here. /quiz stop ends it."
    assert "What does ABS prevent?" in bot.session.polls_to(GROUP_ID)[0].params["question"]


async def test_odd_numbers_get_a_clear_answer_not_an_error(bot: BotHarness) -> None:
    await group_with_bank(bot)

    await bot.feed(said(OPERATOR, "/quiz unschedule 99999999999999999999999", NOW))
    await bot.feed(said(OPERATOR, "/quiz start ²", NOW))  # a superscript: a digit to str.isdigit
    await bot.feed(said(OPERATOR, "/quiz schedule every day 08:00 questions=²", NOW))

    unknown, no_topic, usage = bot.session.texts_to(GROUP_ID)
    assert unknown.startswith("There is no scheduled quiz #99999999999999999999999 here.")
    assert no_topic.startswith("The question bank has no questions on “²”.")
    assert usage.startswith("Usage: /quiz schedule WHEN [topic=…] [questions=N]")
    assert bot.session.polls_to(GROUP_ID) == []


async def test_stop_ends_the_round_and_the_answers_so_far_count(bot: BotHarness) -> None:
    await group_with_bank(bot)
    await bot.feed(said(OPERATOR, "/quiz start 2", NOW))
    first = bot.session.polls_to(GROUP_ID)[0]
    await bot.feed(updates.poll_answer(ALICE, _poll_id(bot, 0), first.params["correct_option_ids"]))

    await bot.feed(said(OPERATOR, "/quiz stop", NOW + timedelta(seconds=10)))
    await bot.hearth.delivery.drain()

    texts = bot.session.texts_to(GROUP_ID)
    assert "The quiz round was stopped; the answers given so far still count." in texts
    assert "1 player took part." in texts[-1]
    assert len(bot.session.polls_to(GROUP_ID)) == 1  # no second question after the stop


async def test_answers_after_a_stop_neither_count_nor_show_on_the_season_board(
    bot: BotHarness,
) -> None:
    await group_with_bank(bot)
    await bot.feed(said(OPERATOR, "/quiz start 2", NOW))
    first = bot.session.polls_to(GROUP_ID)[0]
    await bot.feed(said(OPERATOR, "/quiz stop", NOW + timedelta(seconds=5)))
    await bot.hearth.delivery.drain()

    # Telegram keeps the poll open for its 30 seconds: Alice still answers it, right.
    bot.hearth.clock.set(NOW + timedelta(seconds=10))  # type: ignore[attr-defined]
    await bot.feed(updates.poll_answer(ALICE, _poll_id(bot, 0), first.params["correct_option_ids"]))

    bot.session.clear()
    await bot.feed(said(ALICE, "/quiz top", NOW + timedelta(minutes=2)))
    (season,) = bot.session.texts_to(GROUP_ID)
    assert "Alice" not in season  # the board shows no points her balance never got
    async with bot.uow() as uow:
        assert await uow.points.balance(GROUP_ID, ALICE["id"]) == 0


async def test_practice_in_private_sends_a_quiz_poll_and_pays_a_little(bot: BotHarness) -> None:
    await group_with_bank(bot)
    await bot.feed(says_privately(ALICE, "/start"))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/quiz"))

    (intro,) = bot.session.texts_to(ALICE["id"])
    assert intro.startswith("Practice question")
    (poll,) = bot.session.polls_to(ALICE["id"])
    await bot.feed(updates.poll_answer(ALICE, _poll_id(bot, 0), poll.params["correct_option_ids"]))
    async with bot.uow() as uow:
        assert await uow.points.balance(GROUP_ID, ALICE["id"]) == 2

    await bot.feed(said(ALICE, "/quiz", NOW))  # in the group: pointed to the private chat
    assert bot.session.texts_to(GROUP_ID) == [
        "Practice questions come in private: open a chat with me and send /quiz."
    ]


async def test_wrong_practice_answers_do_not_use_up_the_daily_points(bot: BotHarness) -> None:
    await group_with_bank(bot)
    await bot.feed(says_privately(ALICE, "/start"))
    bot.session.clear()

    for index in range(6):  # five wrong answers, then a right one
        await bot.feed(says_privately(ALICE, "/quiz"))
        right = bot.session.polls_to(ALICE["id"])[index].params["correct_option_ids"][0]
        answer = right if index == 5 else 1 - right
        await bot.feed(updates.poll_answer(ALICE, _poll_id(bot, index), [answer]))

    async with bot.uow() as uow:
        assert await uow.points.balance(GROUP_ID, ALICE["id"]) == 2  # "a right answer earns 2"


def _poll_id(bot: BotHarness, index: int) -> str:
    """The id Telegram gave the ``index``-th poll posted since the session was cleared."""
    return bot.session.poll_ids[index]


async def _running_round(bot: BotHarness) -> int:
    async with bot.uow() as uow:
        (running,) = await uow.quizzes.running_rounds(GROUP_ID)
    return running.id


async def test_operators_schedule_list_and_remove_quiz_rounds(bot: BotHarness) -> None:
    await group_with_bank(bot)

    await bot.feed(
        said(OPERATOR, "/quiz schedule every Friday 20:00 topic=safety questions=3", NOW)
    )
    await bot.feed(said(OPERATOR, "/quiz schedule whenever you like", NOW))
    await bot.feed(said(OPERATOR, "/quiz schedule every day 08:00 colour=red", NOW))
    await bot.feed(said(OPERATOR, "/quiz schedules", NOW))
    await bot.feed(said(OPERATOR, "/quiz unschedule 1", NOW))
    await bot.feed(said(OPERATOR, "/quiz unschedule 1", NOW))
    await bot.feed(said(ALICE, "/quiz schedule every day 09:00", NOW))

    scheduled, unreadable, bad_option, listing, removed, again, refused = bot.session.texts_to(
        GROUP_ID
    )
    assert scheduled == (
        "Quiz #1 is scheduled every Friday at 20:00: 3 questions, topic “safety”.\n"
        "First round: Fri 2026-03-06 20:00."
    )
    assert unreadable.startswith("Please add a time of day, for example “every Monday 09:00”.")
    assert bad_option.startswith("Usage: /quiz schedule WHEN [topic=…] [questions=N]")
    assert "#1 every Friday at 20:00 · 3 questions, topic “safety” · next: Fri 2026-03-06" in (
        listing
    )
    assert removed == "Quiz #1 is no longer scheduled."
    assert again == "There is no scheduled quiz #1 here. See /quiz schedules."
    assert refused == "This command is for the community's operators."
