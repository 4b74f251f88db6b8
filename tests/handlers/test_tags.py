"""/tag, /untag, /tags and /tagged: operators label members and list them by label; members
can do none of it and learn nothing from trying."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col

from hearth.domain.events import EventDraft
from hearth.domain.segments import ListKind
from hearth.services.segments import tag_reference
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.events import EventRow
from hearth.storage.tags import MemberTagRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    CAROL,
    GROUP,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    admins,
    bot_serves_group,
    buttons,
    presses,
    rows,
    said,
    says_privately,
    tags_of,
)
from tests.handlers.test_segments import (
    NOT_AN_OPERATOR,
    button_for,
    club,
    edited,
    nothing_shown,
    only_message,
    recomputed,
)
from tests.telegram_html import MESSAGE_LIMIT, html_problem, shown_length

UNKNOWN_MEMBER = "I do not know that member in this community."
LONG_TAG = "北京浦东新区车主俱乐部核心成员"  # 15 characters, 45 bytes: too long for a button


async def replies_in_group(bot: BotHarness, person: updates.JsonDict, text: str) -> str:
    await bot.feed(said(person, text))
    [reply] = bot.session.texts_to(GROUP_ID)
    bot.session.clear()
    return reply


# -- /tag and /untag


async def test_an_operator_tags_a_member_by_username_in_the_group(bot: BotHarness) -> None:
    await club(bot)

    reply = await replies_in_group(bot, ADMIN, "/tag @alice VIP track_day")

    assert reply == "Tagged Alice: vip, track-day."
    assert await tags_of(bot, ALICE) == ["track-day", "vip"]
    [audit] = [row for row in await rows(bot, tables.AuditLog) if row.action == "tags.add"]
    assert (audit.actor_id, audit.community_id) == (ADMIN["id"], GROUP_ID)
    assert audit.details == {"member_id": ALICE["id"], "tags": ["vip", "track-day"]}


async def test_an_operator_tags_the_author_of_the_message_they_reply_to(bot: BotHarness) -> None:
    await club(bot)
    alices_message = {
        "message_id": 55,
        "date": updates.timestamp(NOW),
        "chat": GROUP,
        "from": ALICE,
        "text": "I just bought the new model",
    }

    await bot.feed(said(ADMIN, "/tag 车主，新车", reply_to=alices_message))

    assert bot.session.texts_to(GROUP_ID) == ["Tagged Alice: 车主, 新车."]
    assert await tags_of(bot, ALICE) == ["新车", "车主"]


async def test_an_operator_tags_a_member_by_id_in_private(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(OPERATOR, f"/tag {ALICE['id']} vip"))

    assert bot.session.texts_to(OPERATOR["id"]) == ["Tagged Alice: vip. Their tags: vip."]
    assert await tags_of(bot, ALICE) == ["vip"]


async def test_tagging_twice_changes_nothing_and_says_so(bot: BotHarness) -> None:
    await club(bot)
    await replies_in_group(bot, ADMIN, "/tag @alice vip")

    reply = await replies_in_group(bot, ADMIN, "/tag @alice vip")

    assert reply == "Alice already has these tags."
    assert await tags_of(bot, ALICE) == ["vip"]


async def test_untag_takes_a_tag_off_and_a_tag_not_there_changes_nothing(bot: BotHarness) -> None:
    await club(bot)
    await replies_in_group(bot, ADMIN, "/tag @alice vip owner")

    removed = await replies_in_group(bot, ADMIN, "/untag @alice vip")
    absent = await replies_in_group(bot, ADMIN, "/untag @alice vip")

    assert removed == "Removed vip from Alice."
    assert absent == "Alice has none of these tags."
    assert await tags_of(bot, ALICE) == ["owner"]
    actions = [row.action for row in await rows(bot, tables.AuditLog)]
    assert actions.count("tags.remove") == 1


async def test_in_the_group_the_reply_names_only_the_tags_typed_there(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(OPERATOR, f"/tag {ALICE['id']} complained"))
    bot.session.clear()

    tagged = await replies_in_group(bot, ADMIN, "/tag @alice vip")
    untagged = await replies_in_group(bot, ADMIN, "/untag @alice vip")
    await bot.feed(says_privately(OPERATOR, f"/untag {ALICE['id']} nothing-there"))

    assert (tagged, untagged) == ("Tagged Alice: vip.", "Removed vip from Alice.")
    # the operators' own chat still shows all of them
    assert bot.session.texts_to(OPERATOR["id"]) == [
        "Alice has none of these tags. Their tags: complained."
    ]
    assert await tags_of(bot, ALICE) == ["complained"]


async def test_bad_tag_commands_get_a_clear_answer_and_change_nothing(bot: BotHarness) -> None:
    await club(bot)

    answers = [
        await replies_in_group(bot, ADMIN, text)
        for text in ("/tag", "/tag @alice", "/tag @alice !!!", "/tag @nobody vip", "/untag")
    ]

    assert answers == [
        "Usage: /tag @username|id tag [more tags], or reply to the member's message with /tag tag",
        "Usage: /tag @username|id tag [more tags], or reply to the member's message with /tag tag",
        "“!!!” cannot be a tag: use letters or digits, e.g. vip, track-day, 车主.",
        UNKNOWN_MEMBER,
        "Usage: /untag @username|id tag [more tags], or reply to the member's message "
        "with /untag tag",
    ]
    assert await rows(bot, MemberTagRow) == []


async def test_a_member_who_left_cannot_be_tagged(bot: BotHarness) -> None:
    await club(bot)  # Dave left

    assert await replies_in_group(bot, ADMIN, "/tag @dave vip") == UNKNOWN_MEMBER


# -- /tags and /tagged


async def test_tags_list_operator_and_automatic_tags_with_counts_in_private(
    bot: BotHarness,
) -> None:
    await club(bot)
    async with bot.uow() as uow:
        await uow.memberships.set_tier(GROUP_ID, ALICE["id"], "gold")
        await uow.commit()
    await recomputed(bot)  # the nightly recompute tags her tier
    await replies_in_group(bot, ADMIN, "/tag @alice vip")
    await replies_in_group(bot, ADMIN, "/tag @boris vip rookie")

    await bot.feed(said(ADMIN, "/tags"))

    assert bot.session.texts_to(GROUP_ID) == ["I sent it to you in private."]
    listing = only_message(bot, ADMIN["id"])
    lines = listing.text.splitlines()
    assert lines[0] == "<b>Tags in Pudong Owners</b>"
    assert lines[2:5] == ["<b>Operator tags</b>", "vip: 2", "rookie: 1"]
    automatic = lines[lines.index("<b>Automatic tags</b> (recomputed every night)") + 1 :]
    assert "gold: 1" in automatic  # her tier (habits may be tagged too)
    assert [button["text"] for button in buttons(listing)][:2] == ["vip", "rookie"]
    assert "gold" in [button["text"] for button in buttons(listing)]
    bot.session.clear()

    await bot.feed(presses(ADMIN, button_for(listing, "gold")))

    assert "1. Alice @alice — Gold · active today ⭐" in edited(bot).text


async def test_an_automatic_tag_in_chinese_lists_the_members_who_carry_it(
    bot: BotHarness,
) -> None:
    await club(bot)
    starts = NOW - timedelta(days=3)
    draft = EventDraft(
        title="Track day",
        description="Laps",
        place="Tianma",
        starts_at=starts,
        ends_at=starts + timedelta(hours=4),
        capacity=None,
        registration_deadline=starts,
        points=0,
    )
    async with bot.uow() as uow:
        event = await uow.events.add(GROUP_ID, draft, code="TRACK1", actor_id=None, now=starts)
        assert event is not None
        # the event's type (no command sets it yet): attending it makes an interest tag
        await uow.session.execute(
            update(EventRow).where(col(EventRow.id) == event.id).values(tag="赛道日")
        )
        await uow.events.attend(event.id, ALICE["id"], starts)
        await uow.commit()
    await recomputed(bot)
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/tags"))
    await bot.feed(says_privately(OPERATOR, "/tagged 赛道日"))

    listing, page = bot.session.texts_to(OPERATOR["id"])
    assert "赛道日: 1" in listing.splitlines()
    assert page.splitlines()[:2] == [
        "<b>Pudong Owners</b> — Tag: 赛道日: 1 member",
        "1. Alice @alice — Member · active today ⭐",
    ]


async def test_tags_of_a_community_without_any(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(says_privately(OPERATOR, "/tags"))

    listing = only_message(bot, OPERATOR["id"])
    assert "No tags yet." in listing.text


async def test_the_tags_button_shows_the_tags_of_that_community_to_its_operator_only(
    bot: BotHarness,
) -> None:
    await club(bot)
    await replies_in_group(bot, ADMIN, "/tag @alice vip")
    bot.session.admins[OTHER_GROUP_ID] = admins(CAROL)
    await bot_serves_group(bot, chat=OTHER_GROUP)  # Carol's group, not Adam's

    await bot.feed(presses(ADMIN, f"tgo1:{GROUP_ID}"))
    await bot.feed(presses(ADMIN, f"tgo1:{OTHER_GROUP_ID}"))

    shown = edited(bot)
    assert shown.text.splitlines()[:4] == [
        "<b>Tags in Pudong Owners</b>",
        "",
        "<b>Operator tags</b>",
        "vip: 1",
    ]
    refused = bot.session.of("answerCallbackQuery")[-1]
    assert (refused.text, refused.params.get("show_alert")) == (NOT_AN_OPERATOR, True)


async def test_tagged_lists_the_members_with_a_tag_in_private(bot: BotHarness) -> None:
    await club(bot)
    await replies_in_group(bot, ADMIN, "/tag @alice vip")
    await replies_in_group(bot, ADMIN, "/tag @boris vip")

    await bot.feed(says_privately(OPERATOR, "/tagged VIP"))

    page = only_message(bot, OPERATOR["id"])
    assert page.text.splitlines()[:3] == [
        "<b>Pudong Owners</b> — Tag: vip: 2 members",
        "1. Alice @alice — Member · active today ⭐",
        "2. Boris @boris — Member · active today",
    ]
    assert [button["text"] for button in buttons(page)] == ["⬇ CSV file", "« Tags"]


async def test_a_long_tag_travels_as_a_digest_and_its_list_and_file_still_work(
    bot: BotHarness,
) -> None:
    await club(bot)
    await replies_in_group(bot, ADMIN, f"/tag @alice {LONG_TAG}")

    await bot.feed(says_privately(ADMIN, f"/tagged {LONG_TAG}"))

    page = only_message(bot, ADMIN["id"])
    reference = tag_reference(LONG_TAG)
    assert reference.startswith("#")
    file_button = button_for(page, "⬇ CSV file")
    assert file_button == f"sgx1:{GROUP_ID}:{ListKind.TAG.value}:{reference}"
    bot.session.clear()

    await bot.feed(presses(ADMIN, file_button))

    [document] = bot.session.of("sendDocument")
    content = document.uploads["document"].decode("utf-8-sig")
    [row] = csv.DictReader(io.StringIO(content))
    assert row["member_id"] == str(ALICE["id"])
    assert LONG_TAG in row["tags"]


async def test_tagged_without_a_tag_answers_the_usage(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(OPERATOR, "/tagged"))

    assert bot.session.texts_to(OPERATOR["id"]) == [
        "Usage: /tagged tag — the members with that tag"
    ]


# -- refusals


async def test_a_member_is_refused_every_tag_command_and_nothing_changes(
    bot: BotHarness,
) -> None:
    await club(bot)
    await replies_in_group(bot, ADMIN, "/tag @carol vip")

    for text in ("/tag @carol spam", "/untag @carol vip", "/tags", "/tagged vip"):
        await bot.feed(said(ALICE, text))
        await bot.feed(says_privately(ALICE, text))

    assert bot.session.texts_to(GROUP_ID) == [NOT_AN_OPERATOR] * 4
    assert bot.session.texts_to(ALICE["id"]) == [NOT_AN_OPERATOR] * 4
    assert await tags_of(bot, CAROL) == ["vip"]
    assert nothing_shown(bot)


async def test_a_member_pressing_a_tags_button_is_refused(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(presses(ALICE, f"tgo1:{GROUP_ID}"))
    await bot.feed(presses(ALICE, f"sgl1:{GROUP_ID}:t:vip:0"))

    assert [call.text for call in bot.session.of("answerCallbackQuery")] == [NOT_AN_OPERATOR] * 2
    assert nothing_shown(bot)


async def test_a_hundred_and_twenty_long_tags_fit_in_one_message_everywhere(
    bot: BotHarness,
) -> None:
    await club(bot)
    many = [f"{number:03d}-" + "x" * 28 for number in range(120)]  # 32 characters each
    for first in range(0, len(many), 10):
        tagging = f"/tag {ALICE['id']} {' '.join(many[first : first + 10])}"
        await bot.feed(says_privately(OPERATOR, tagging))
    await bot.feed(says_privately(OPERATOR, f"/tag {ALICE['id']} vip"))
    await bot.feed(says_privately(OPERATOR, "/tags"))
    await bot.feed(says_privately(OPERATOR, f"/member {ALICE['id']}"))

    answers = bot.session.texts_to(OPERATOR["id"])
    assert len(await tags_of(bot, ALICE)) == 121
    for answer in answers:
        assert shown_length(answer) <= MESSAGE_LIMIT
        assert html_problem(answer) is None
    tagged, listing, card = answers[-3:]
    assert tagged.startswith("Tagged Alice: vip. Their tags: 000-xxx")
    assert tagged.endswith("029-xxxxxxxxxxxxxxxxxxxxxxxxxxxx … and 91 more.")
    assert "… and 81 more" in listing.splitlines()  # the 40 most used of 121 are shown
    [tags_line] = [line for line in card.splitlines() if line.startswith("Tags: ")]
    assert tags_line.count(", ") == 29  # 30 shown (automatic ones first), the rest counted
    assert tags_line.endswith(" more")
