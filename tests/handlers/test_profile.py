"""The onboarding questionnaire through the real dispatcher: offered after /start, answered
with buttons, kept as tags that operators' lists, /forget_me and nudges see; operators
change the questions with /profile_questions."""

from __future__ import annotations

from datetime import timedelta

from hearth.domain.events import EventDraft
from hearth.domain.profile import DEFAULT_QUESTIONS
from hearth.handlers import profile_texts
from hearth.simulate import updates
from hearth.storage import tables
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP_ID,
    activity,
    bot_serves_group,
    buttons,
    callback_answers,
    last_to,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    tags_of,
)
from tests.telegram import Call


async def club(bot: BotHarness) -> None:
    """Alice and Boris are members of the group."""
    await bot_serves_group(bot)
    await members_of(bot, ALICE, BORIS)
    bot.session.clear()


async def press(bot: BotHarness, person: updates.JsonDict, label: str) -> Call:
    """Press the button labelled ``label`` on the last message in the private chat."""
    shown = last_to(bot, person)
    [data] = [button["callback_data"] for button in buttons(shown) if button["text"] == label]
    await bot.feed(presses(person, data))
    return last_to(bot, person)


def labels(call: Call) -> list[str]:
    return [button["text"] for button in buttons(call)]


# -- members


async def test_start_offers_the_questionnaire_and_each_answer_becomes_a_tag(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(says_privately(ALICE, "/start"))
    offer = last_to(bot, ALICE)
    assert "Tell us a little about yourself?" in offer.text
    assert labels(offer) == ["Fill in", "Not now"]

    first = await press(bot, ALICE, "Fill in")
    assert "Question 1 of 4" in first.text
    assert "Which car do you drive?" in first.text
    assert labels(first) == ["Sedan", "SUV", "Coupe", "Estate", "Electric", "Not yet", "Skip"]

    second = await press(bot, ALICE, "SUV")
    assert "Where do you live?" in second.text
    third = await press(bot, ALICE, "Skip")
    assert "How long have you owned it?" in third.text
    await press(bot, ALICE, "1-3 years")

    assert await tags_of(bot, ALICE) == ["model:suv", "owner-years:1-3-years"]
    assert len(await activity(bot, "profile")) == 2


async def test_interests_take_several_answers_and_a_second_press_takes_one_back(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/profile"))
    await press(bot, ALICE, "✏️ What are you into?")

    await press(bot, ALICE, "Road trip")
    shown = await press(bot, ALICE, "Track day")
    assert labels(shown)[:2] == ["✓ Road trip", "✓ Track day"]
    await press(bot, ALICE, "✓ Road trip")
    summary = await press(bot, ALICE, "Done")

    assert await tags_of(bot, ALICE) == ["interest:track-day"]
    assert "• What are you into? <b>Track day</b>" in summary.text


async def test_profile_shows_the_answers_and_changing_one_replaces_it(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/profile"))
    await press(bot, ALICE, "✏️ Where do you live?")
    await press(bot, ALICE, "Shanghai")

    await bot.feed(says_privately(ALICE, "/profile"))
    await press(bot, ALICE, "✏️ Where do you live?")
    summary = await press(bot, ALICE, "Beijing")

    assert await tags_of(bot, ALICE) == ["city:beijing"]
    assert "• Where do you live? <b>Beijing</b>" in summary.text
    assert "• Which car do you drive? <b>—</b>" in summary.text


async def test_the_whole_tour_ends_with_thanks_and_is_not_offered_again(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/start"))
    await press(bot, ALICE, "Fill in")
    for label in ("Coupe", "Shanghai", "3-5 years", "Photography"):
        await press(bot, ALICE, label)
    end = await press(bot, ALICE, "Done")
    assert end.text.startswith("Thank you!")
    bot.session.clear()

    await bot.feed(says_privately(ALICE, f"/start c{GROUP_ID}"))  # the group's link

    assert not any("Tell us a little" in text for text in bot.session.texts_to(ALICE["id"]))


async def test_not_now_closes_the_offer_and_stores_nothing(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/start"))

    closed = await press(bot, ALICE, "Not now")

    assert closed.text == "All right. You can fill it in any time with /profile."
    assert await tags_of(bot, ALICE) == []


async def test_forged_answers_change_nothing(bot: BotHarness) -> None:
    await club(bot)
    stale = "This button is no longer valid. Please send the command again."

    await bot.feed(presses(ALICE, f"pf1:{GROUP_ID}:p:model:11:1"))  # no 12th option
    await bot.feed(presses(ALICE, f"pf1:{GROUP_ID}:p:colour:0:1"))  # no such question
    await bot.feed(presses(ALICE, f"pf1:{OTHER_GROUP_ID}:p:model:0:1"))  # not her community

    assert [call.params.get("text") for call in callback_answers(bot)] == [stale] * 3
    assert await tags_of(bot, ALICE) == []
    assert await activity(bot, "profile") == []


async def test_profile_in_the_group_points_to_the_private_chat(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(said(ALICE, "/profile"))

    [reply] = bot.session.texts_to(GROUP_ID)
    assert reply == "Your profile is between you and me: send /profile to me in private."


# -- where the answers show


async def test_operators_find_members_by_their_answers(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/profile"))
    await press(bot, ALICE, "✏️ Where do you live?")
    await press(bot, ALICE, "Shanghai")
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/tags"))
    [overview] = bot.session.texts_to(OPERATOR["id"])
    assert "city:shanghai" in overview
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/tagged City:Shanghai"))
    [listing] = bot.session.texts_to(OPERATOR["id"])
    assert "Alice" in listing
    assert "Boris" not in listing


async def test_forget_me_erases_the_answers(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(ALICE, "/profile"))
    await press(bot, ALICE, "✏️ Which car do you drive?")
    await press(bot, ALICE, "Electric")

    await bot.feed(says_privately(ALICE, "/forget_me"))
    await press(bot, ALICE, "Erase my data")

    assert await tags_of(bot, ALICE) == []
    [audit] = [row for row in await rows(bot, tables.AuditLog) if row.action == "privacy.forget"]
    assert audit.details["profile_answers"] == 1


async def test_an_event_of_a_type_a_member_chose_as_interest_is_the_one_a_nudge_names(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(says_privately(BORIS, "/profile"))
    zh = bot.hearth.i18n.gettext  # Boris's Telegram speaks Chinese
    await press(bot, BORIS, "✏️ " + zh("What are you into?", locale="zh_Hans"))
    await press(bot, BORIS, zh("Track day", locale="zh_Hans"))
    async with bot.uow() as uow:
        for title, tag, days in (("Coffee", None, 2), ("Circuit", "track-day", 9)):
            starts = NOW + timedelta(days=days)
            draft = EventDraft(
                title, "", "Club", starts, starts + timedelta(hours=2), None, starts, 0
            )
            event = await uow.events.add(GROUP_ID, draft, code=title, actor_id=None, now=NOW)
            assert event is not None
            if tag is not None:
                await uow.events.change(event.id, NOW, tag=tag)
        await uow.commit()

    async with bot.uow() as uow:
        facts = await uow.nudges.facts(GROUP_ID, [ALICE["id"], BORIS["id"]], "UTC", NOW)

    assert facts[BORIS["id"]].event is not None
    assert (facts[BORIS["id"]].event.title, facts[BORIS["id"]].event_matches_interest) == (
        "Circuit",
        True,
    )
    assert facts[ALICE["id"]].event is not None
    assert facts[ALICE["id"]].event.title == "Coffee"


# -- operators


async def test_operators_change_the_questions_and_members_are_asked_the_new_ones(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(says_privately(OPERATOR, "/profile_questions"))
    [overview] = bot.session.texts_to(OPERATOR["id"])
    assert "<code>owner-years</code> (one answer): How long have you owned it?" in overview
    bot.session.clear()

    for command in (
        "/profile_questions remove owner-years",
        "/profile_questions add_multi club Which club events do you join?",
        "/profile_questions option club Night drives",
        "/profile_questions option club Car wash days",
        "/profile_questions drop_option club night drives",
    ):
        await bot.feed(says_privately(OPERATOR, command))
    *_, last = bot.session.texts_to(OPERATOR["id"])
    assert last.startswith("Done.")
    assert "owner-years" not in last
    assert "<code>club</code> (several answers): Which club events do you join?" in last

    await bot.feed(says_privately(ALICE, "/profile"))
    asked = await press(bot, ALICE, "✏️ Which club events do you join?")
    assert labels(asked) == ["Car wash days", "Done"]
    await press(bot, ALICE, "Car wash days")
    assert await tags_of(bot, ALICE) == ["club:car-wash-days"]

    actions = [row.action for row in await rows(bot, tables.AuditLog)]
    assert [action for action in actions if action.startswith("profile.")] == [
        "profile.question_remove",
        "profile.question_add",
        "profile.option_add",
        "profile.option_add",
        "profile.option_remove",
    ]


async def test_bad_question_commands_are_explained_and_change_nothing(bot: BotHarness) -> None:
    await club(bot)

    for command, answer in (
        ("/profile_questions add Car_Model Which car?", "A key is 1 to 12 letters"),
        ("/profile_questions add city Where?", "There is one by that name already."),
        ("/profile_questions option colour Red", "There is no such question or option."),
        ("/profile_questions shuffle", "Change them in private:"),
    ):
        bot.session.clear()
        await bot.feed(says_privately(OPERATOR, command))
        [reply] = bot.session.texts_to(OPERATOR["id"])
        assert reply.startswith(answer), (command, reply)

    async with bot.uow() as uow:
        assert await uow.profile.questions(GROUP_ID) is None  # still the defaults


async def test_members_cannot_change_the_questions(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(ALICE, "/profile_questions remove city"))

    [reply] = bot.session.texts_to(ALICE["id"])
    assert "operator" in reply
    async with bot.uow() as uow:
        assert await uow.profile.questions(GROUP_ID) is None


def test_every_default_word_is_in_the_catalogue_list(bot: BotHarness) -> None:
    i18n = bot.hearth.i18n
    with i18n.context(), i18n.use_locale("en"):
        listed = {str(word) for word in profile_texts.DEFAULT_WORDS}
    for question in DEFAULT_QUESTIONS:
        assert question.prompt in listed
        assert {option.label for option in question.options} <= listed
