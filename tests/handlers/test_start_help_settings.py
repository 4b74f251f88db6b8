"""/start, /help and /settings: what a member reads, in which language, and what is stored."""

from __future__ import annotations

from hearth.domain.nudges import NudgePreference, QuietHours
from hearth.handlers import texts
from hearth.simulate import updates
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    GROUP_ID,
    NOW,
    OPERATOR,
    activity,
    bot_serves_group,
    bot_user,
    buttons,
    callback_answers,
    joins,
    member,
    presses,
    said,
    says_privately,
)

MEMBER_COMMANDS = (
    "/start",
    "/checkin",
    "/checkins",
    "/points",
    "/top",
    "/rewards",
    "/draws",
    "/draw",
    "/quiz",
    "/events",
    "/attend",
    "/reminder",
    "/announcements",
    "/greetings",
    "/birthday",
    "/feedback",
    "/honour",
    "/report",
    "/me",
    "/profile",
    "/car",
    "/invite",
    "/settings",
    "/mydata",
    "/phone",
    "/my_channel",
    "/forget_me",
    "/help",
)
OPERATOR_COMMANDS = (
    "/stats",
    "/member",
    "/segments",
    "/cohorts",
    "/digest",
    "/console",
    "/tag",
    "/untag",
    "/tags",
    "/tagged",
    "/profile_questions",
    "/missions",
    "/service_settings",
    "/service_requests",
    "/export",
    "/forget",
    "/welcome",
    "/grant",
    "/deduct",
    "/points_rules",
    "/milestones",
    "/reward_new",
    "/reward_archive",
    "/redemptions",
    "/codes",
    "/draw_new",
    "/draw_cancel",
    "/event_new",
    "/event_edit",
    "/event_cancel",
    "/event_code",
    "/event_report",
    "/announce",
    "/announcements_list",
    "/outbox",
    "/inbox",
    "/reply",
    "/honour_new",
    "/channel_new",
    "/channels",
    "/channel",
    "/channel_rename",
    "/channel_archive",
    "/channel_contact",
    "/quiz_import",
    "/import_conversions",
    "/nudges",
)


def chinese(bot: BotHarness, msgid: str) -> str:
    """The zh_Hans catalogue's translation of ``msgid`` (whatever it holds today)."""
    return bot.hearth.i18n.gettext(msgid, locale="zh_Hans")


def member_help(bot: BotHarness, locale: str) -> str:
    """The member /help as Hearth renders it in ``locale``."""
    i18n = bot.hearth.i18n
    with i18n.context(), i18n.use_locale(locale):
        return texts.help_text(is_operator=False)


def assert_help_in_chinese(bot: BotHarness, reply: str) -> None:
    for msgid in (
        "<b>Hearth</b> keeps this community lively and notices who takes part.",
        "<b>For members</b>",
        "What Hearth can do",
        "Your language, nudges and quiet hours",
    ):
        assert chinese(bot, msgid) in reply
    assert reply == member_help(bot, "zh_Hans")
    assert reply != member_help(bot, "en"), "the zh_Hans catalogue has no translations yet"


def bot_in_private_chat(person: updates.JsonDict, old: str, new: str) -> updates.JsonDict:
    """``my_chat_member`` in ``person``'s private chat: "kicked" is blocked, "member" unblocked."""
    return updates.chat_member_update(
        updates.private(person), bot_user(), old, new, NOW, actor=person, kind="my_chat_member"
    )


def commands_in(text: str) -> set[str]:
    return {word for word in text.split() if word.startswith("/")}


# -- /start


async def test_start_in_private_welcomes_the_member_by_name_and_allows_private_messages(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(ALICE, "/start"))

    [welcome] = bot.session.texts_to(ALICE["id"])
    assert welcome.startswith("Welcome, Alice! I am Hearth")
    alice = await member(bot, ALICE["id"])
    assert alice is not None
    assert alice.started_bot
    assert alice.reachable


async def test_start_greets_a_member_whose_name_looks_like_html_without_breaking_the_markup(
    bot: BotHarness,
) -> None:
    tom = updates.user(120, "Tom & <Jerry>")

    await bot.feed(says_privately(tom, "/start"))

    [welcome] = bot.session.texts_to(tom["id"])
    assert welcome.startswith("Welcome, Tom &amp; &lt;Jerry&gt;!")


async def test_start_with_a_community_link_connects_the_member_and_records_a_start(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(says_privately(ALICE, f"/start c{GROUP_ID}"))

    welcome, connected = bot.session.texts_to(ALICE["id"])
    assert welcome.startswith("Welcome, Alice!")
    assert connected == "You are connected to <b>Pudong Owners</b>."
    [start] = await activity(bot, "start")
    assert (start.member_id, start.community_id) == (ALICE["id"], GROUP_ID)


async def test_second_start_says_welcome_back_and_names_the_members_communities(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot.feed(joins(ALICE))
    await bot.feed(says_privately(ALICE, "/start"))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/start"))

    [welcome] = bot.session.texts_to(ALICE["id"])
    assert welcome.startswith("Welcome back, Alice!")
    assert "Your communities: Pudong Owners." in welcome


# -- /help


async def test_help_for_a_member_lists_member_commands_only(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(says_privately(ALICE, "/help"))
    await bot.feed(said(ALICE, "/help"))

    [in_private] = bot.session.texts_to(ALICE["id"])
    [in_group] = bot.session.texts_to(GROUP_ID)
    for reply in (in_private, in_group):
        assert commands_in(reply) == set(MEMBER_COMMANDS)


async def test_help_for_the_configured_operator_lists_operator_commands(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(says_privately(OPERATOR, "/help"))

    members, operators = bot.session.texts_to(OPERATOR["id"])  # the operators' part apart
    assert commands_in(members) == set(MEMBER_COMMANDS)
    assert (
        set(OPERATOR_COMMANDS) <= commands_in(operators) <= {*MEMBER_COMMANDS, *OPERATOR_COMMANDS}
    )
    assert all(len(part) <= 4096 for part in (members, operators))  # Telegram's limit


async def test_help_for_a_chat_admin_lists_operator_commands_in_the_group_and_in_private(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)  # ADMIN owns the group

    await bot.feed(said(ADMIN, "/help"))
    await bot.feed(says_privately(ADMIN, "/help"))

    in_group = "\n".join(bot.session.texts_to(GROUP_ID))
    in_private = "\n".join(bot.session.texts_to(ADMIN["id"]))
    for reply in (in_group, in_private):
        assert commands_in(reply) == {*MEMBER_COMMANDS, *OPERATOR_COMMANDS}


async def test_help_comes_in_chinese_for_a_member_whose_telegram_speaks_chinese(
    bot: BotHarness,
) -> None:
    assert BORIS["language_code"] == "zh-hans"

    await bot.feed(says_privately(BORIS, "/help"))

    [reply] = bot.session.texts_to(BORIS["id"])
    assert_help_in_chinese(bot, reply)


# -- /settings


SETTINGS_BUTTONS = [
    "🔕 Turn nudges off",
    "✓ 🌙 21:00–09:00",
    "🌙 22:00–08:00",
    "🌙 20:00–10:00",
    "🌙 23:00–07:00",
]


async def test_settings_offers_languages_nudges_and_quiet_hours(bot: BotHarness) -> None:
    await bot.feed(says_privately(ALICE, "/settings"))

    [prompt] = bot.session.messages_to(ALICE["id"])
    assert prompt.text == (
        "Your language is English. Choose another:\n\n"
        "🔔 Nudges — a friendly word now and then when you have been away: <b>on</b>\n"
        "🌙 Quiet hours, when I send no nudges: 21:00–09:00 (your community's time)"
    )
    assert [button["text"] for button in buttons(prompt)] == [
        "✓ English",
        "简体中文",
        *SETTINGS_BUTTONS,
    ]


async def test_choosing_chinese_stores_it_answers_and_updates_the_settings_message(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(ALICE, "/settings"))
    [prompt] = bot.session.messages_to(ALICE["id"])
    [data] = [button["callback_data"] for button in buttons(prompt) if button["text"] == "简体中文"]
    bot.session.clear()

    await bot.feed(presses(ALICE, data))

    alice = await member(bot, ALICE["id"])
    assert alice is not None
    assert alice.locale == "zh_Hans"
    [answer] = callback_answers(bot)
    assert answer.text == chinese(bot, "Done: I will speak English with you.")
    [edited] = bot.session.of("editMessageText")
    assert (edited.chat_id, edited.params["message_id"]) == (ALICE["id"], 1)
    assert [button["text"] for button in buttons(edited)][:2] == ["English", "✓ 简体中文"]
    assert bot.session.of("sendMessage") == []


async def pressed_in_settings(bot: BotHarness, label: str) -> None:
    """Alice opens /settings and presses the button labelled ``label``."""
    await bot.feed(says_privately(ALICE, "/settings"))
    prompt = bot.session.messages_to(ALICE["id"])[-1]
    [data] = [button["callback_data"] for button in buttons(prompt) if button["text"] == label]
    bot.session.clear()
    await bot.feed(presses(ALICE, data))


async def nudge_preference(bot: BotHarness) -> NudgePreference:
    async with bot.uow() as uow:
        return await uow.nudges.preference(ALICE["id"])


async def test_turning_nudges_off_and_on_in_settings_is_stored_and_shown(bot: BotHarness) -> None:
    await pressed_in_settings(bot, "🔕 Turn nudges off")

    assert not (await nudge_preference(bot)).enabled
    [answer] = callback_answers(bot)
    assert answer.text == "Nudges are off. I will not write to you about being away."
    [edited] = bot.session.of("editMessageText")
    assert "been away: <b>off</b>" in edited.params["text"]
    assert "🔔 Turn nudges on" in [button["text"] for button in buttons(edited)]

    await pressed_in_settings(bot, "🔔 Turn nudges on")

    assert (await nudge_preference(bot)).enabled
    [edited] = bot.session.of("editMessageText")
    assert "been away: <b>on</b>" in edited.params["text"]


async def test_choosing_quiet_hours_in_settings_stores_them_and_ticks_the_choice(
    bot: BotHarness,
) -> None:
    await pressed_in_settings(bot, "🌙 23:00–07:00")

    assert await nudge_preference(bot) == NudgePreference(True, QuietHours(23, 7))
    [answer] = callback_answers(bot)
    assert answer.text == "Quiet hours: 23:00–07:00. I will send you no nudges then."
    [edited] = bot.session.of("editMessageText")
    assert "Quiet hours, when I send no nudges: 23:00–07:00" in edited.params["text"]
    labels = [button["text"] for button in buttons(edited)]
    assert labels[-4:] == ["🌙 21:00–09:00", "🌙 22:00–08:00", "🌙 20:00–10:00", "✓ 🌙 23:00–07:00"]


async def test_a_forged_quiet_hours_choice_is_ignored(bot: BotHarness) -> None:
    await bot.feed(presses(ALICE, "np1:quiet:99"))

    assert await nudge_preference(bot) == NudgePreference()


async def test_after_choosing_chinese_help_comes_in_chinese_despite_an_english_telegram(
    bot: BotHarness,
) -> None:
    assert ALICE["language_code"] == "en"
    await bot.feed(says_privately(ALICE, "/settings"))
    [data] = [
        button["callback_data"]
        for button in buttons(bot.session.messages_to(ALICE["id"])[0])
        if button["text"] == "简体中文"
    ]
    await bot.feed(presses(ALICE, data))
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/help"))

    [reply] = bot.session.texts_to(ALICE["id"])
    assert_help_in_chinese(bot, reply)


# -- blocking and unblocking the bot


async def test_member_blocking_and_unblocking_the_bot_changes_whether_they_are_reachable(
    bot: BotHarness,
) -> None:
    await bot.feed(says_privately(ALICE, "/start"))

    await bot.feed(bot_in_private_chat(ALICE, "member", "kicked"))
    blocked = await member(bot, ALICE["id"])
    await bot.feed(bot_in_private_chat(ALICE, "kicked", "member"))
    unblocked = await member(bot, ALICE["id"])

    assert blocked is not None
    assert not blocked.reachable
    assert unblocked is not None
    assert unblocked.reachable
    assert bot.session.texts_to(ALICE["id"])[1:] == []  # only the /start welcome
