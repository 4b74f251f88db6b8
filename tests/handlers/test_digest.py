"""/digest: a preview of the weekly digest in private, and /digest on|off in the group."""

from __future__ import annotations

from hearth.storage import tables
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    GROUP_ID,
    OPERATOR,
    bot_serves_group,
    community,
    members_of,
    rows,
    said,
    says_privately,
    starts_the_bot,
)

CAPTIONS = [
    "Pudong Owners: members active per day, last 8 weeks",
    "Pudong Owners: members by lifecycle stage, last 8 weeks",
    "Pudong Owners: retention of the last 8 join weeks",
]


async def digest_on(bot: BotHarness) -> bool:
    """Whether the group's weekly digest is on, as stored."""
    stored = await community(bot)
    assert stored is not None
    return stored.digest_enabled


async def test_an_operator_previews_the_digest_in_private_with_its_three_charts(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/digest"))

    [preview] = bot.session.texts_to(OPERATOR["id"])
    assert preview.startswith("<i>Preview: this is what operators get every week.</i>")
    assert "<b>Weekly digest of Pudong Owners</b>" in preview
    assert "2026-02-23 – 2026-03-01, against the 7 days before" in preview
    assert "Nobody moved into these segments this week." in preview
    assert "No events in the next 7 days." in preview
    photos = bot.session.of("sendPhoto")
    assert [photo.chat_id for photo in photos] == [OPERATOR["id"]] * 3
    assert [photo.params["caption"] for photo in photos] == CAPTIONS


async def test_in_the_group_the_preview_goes_to_the_operator_in_private(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await starts_the_bot(bot, ADMIN)
    bot.session.clear()

    await bot.feed(said(ADMIN, "/digest"))

    assert bot.session.texts_to(GROUP_ID) == ["I sent it to you in private."]
    [preview] = bot.session.texts_to(ADMIN["id"])
    assert "Weekly digest of Pudong Owners" in preview
    assert len(bot.session.of("sendPhoto")) == 3


async def test_an_operator_turns_the_weekly_digest_off_and_on_in_the_group(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ADMIN, "/digest off"))
    after_off = await digest_on(bot)
    await bot.feed(said(ADMIN, "/digest on"))
    after_on = await digest_on(bot)

    assert bot.session.texts_to(GROUP_ID) == [
        "The weekly digest is off for this community.",
        "Operators who started the bot will get the weekly digest in private.",
    ]
    assert (after_off, after_on) == (False, True)
    audit = [row.action for row in await rows(bot, tables.AuditLog)]
    assert audit == ["digest.disabled", "digest.enabled"]


async def test_the_preview_says_when_the_digest_is_off(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await bot.feed(said(ADMIN, "/digest off"))
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/digest"))

    [preview] = bot.session.texts_to(OPERATOR["id"])
    assert preview.endswith(
        "The weekly digest is off for this community; /digest on in the group turns it on."
    )


async def test_the_switch_wants_on_or_off_and_the_group(bot: BotHarness) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ADMIN, "/digest sometimes"))
    await bot.feed(says_privately(OPERATOR, "/digest off"))

    assert bot.session.texts_to(GROUP_ID) == [
        "Usage: /digest for a preview now; /digest on or /digest off in the group for the "
        "weekly digest in private."
    ]
    assert bot.session.texts_to(OPERATOR["id"]) == ["Send /digest in the group it is about."]
    assert await digest_on(bot)


async def test_a_member_asking_for_the_digest_is_refused_and_changes_nothing(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await members_of(bot, ALICE)
    await starts_the_bot(bot, ALICE)
    bot.session.clear()

    await bot.feed(said(ALICE, "/digest"))
    await bot.feed(said(ALICE, "/digest off"))
    await bot.feed(says_privately(ALICE, "/digest"))

    refusal = "This command is for the community's operators."
    assert bot.session.texts_to(GROUP_ID) == [refusal, refusal]
    assert bot.session.texts_to(ALICE["id"]) == [refusal]
    assert bot.session.of("sendPhoto") == []
    assert await digest_on(bot)
    assert [
        row for row in await rows(bot, tables.AuditLog) if row.action.startswith("digest")
    ] == []
