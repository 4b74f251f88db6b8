"""Channels (dealers, stores, partners) through the real dispatcher: operators create,
list, rename and archive them and name a contact person; a channel's link records who came
through it (first touch kept); the figures by channel on a hand-made community, in
/stats channels, on a channel's card, in the digest and in the contact person's own view —
which shows nothing of any other channel and ends the moment the contact is taken away."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.channels import ChannelTouch
from hearth.domain.deep_links import channel_payload
from hearth.domain.events import EventDraft
from hearth.domain.members import ChatRole, JoinVia, Person
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.channels import ChannelRow, ChannelTouchRow
from hearth.storage.conversions import ConversionRow
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
    activity,
    at,
    bot_serves_group,
    buttons,
    joins,
    members_of,
    presses,
    rows,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import BOT_USERNAME

PUDONG_LINK = f"https://t.me/{BOT_USERNAME}?start=k{GROUP_ID}_1"
OPEN_PUDONG = f"/start {channel_payload(GROUP_ID, 1)}"
OPEN_JINQIAO = f"/start {channel_payload(GROUP_ID, 2)}"
REFUSED = "This command is for the community's operators."


async def club(bot: BotHarness) -> None:
    """The group, with Alice and Boris in it (they started the bot), and two channels the
    operator made: #1 Dealer Pudong and #2 Store Jinqiao."""
    await bot_serves_group(bot)
    await members_of(bot, ALICE, BORIS)
    await starts_the_bot(bot, ALICE, BORIS)
    await bot.feed(says_privately(OPERATOR, '/channel_new "Dealer Pudong"'))
    await bot.feed(says_privately(OPERATOR, "/channel_new Store Jinqiao"))
    bot.session.clear()


async def channels(bot: BotHarness) -> list[tuple[int, str, bool, int | None]]:
    """(number, name, archived, contact) of every stored channel."""
    return sorted(
        (row.id, row.name, row.archived, row.contact_id) for row in await rows(bot, ChannelRow)
    )


async def touches(bot: BotHarness) -> list[tuple[int, int, datetime]]:
    """(member, channel, when) of every stored touch."""
    return sorted(
        (row.member_id, row.channel_id, row.touched_at) for row in await rows(bot, ChannelTouchRow)
    )


async def audited(bot: BotHarness) -> list[str]:
    return [row.action for row in await rows(bot, tables.AuditLog) if row.action.startswith("ch")]


def block(text: str, title: str) -> list[str]:
    """The lines of one row of /stats channels (or of a card), under its bold title."""
    lines = text.splitlines()
    start = lines.index(f"<b>{title}</b>") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i]), len(lines))
    return lines[start:end]


# -- operators


async def test_an_operator_creates_a_channel_and_gets_its_link_and_qr_code(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(says_privately(OPERATOR, '/channel_new "Dealer Shanghai Pudong"'))

    [answer] = bot.session.texts_to(OPERATOR["id"])
    assert "📍 New channel #1 in <b>Pudong Owners</b>: <b>Dealer Shanghai Pudong</b>" in answer
    assert f"Its link: {PUDONG_LINK}" in answer
    [qr] = bot.session.of("sendPhoto")
    assert qr.chat_id == OPERATOR["id"]
    assert qr.params["caption"].startswith("QR code of “Dealer Shanghai Pudong” (#1)")
    [png] = qr.uploads.values()
    assert png.startswith(b"\x89PNG")
    assert await channels(bot) == [(1, "Dealer Shanghai Pudong", False, None)]
    assert await audited(bot) == ["channel.create"]


async def test_in_the_group_an_admin_creates_one_there_and_a_name_is_taken_once(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)

    await bot.feed(said(ADMIN, "/channel_new Store Jinqiao"))
    await bot.feed(said(ADMIN, "/channel_new store JINQIAO"))
    await bot.feed(said(ADMIN, "/channel_new"))

    created, taken, usage = bot.session.texts_to(GROUP_ID)
    assert "New channel #1 in <b>Pudong Owners</b>: <b>Store Jinqiao</b>" in created
    assert taken == (
        "A channel named “store JINQIAO” exists already (archived ones count too): choose "
        "another name."
    )
    assert usage.startswith("Usage: /channel_new NAME")
    assert await channels(bot) == [(1, "Store Jinqiao", False, None)]


async def test_an_operator_lists_renames_and_archives_channels(
    bot_on_each_backend: BotHarness,
) -> None:
    bot = bot_on_each_backend
    await club(bot)

    await bot.feed(says_privately(OPERATOR, "/channel_rename 2 Store Jinqiao East"))
    await bot.feed(says_privately(OPERATOR, "/channel_rename 2 Dealer Pudong"))
    await bot.feed(says_privately(OPERATOR, "/channel_archive 1"))
    await bot.feed(says_privately(OPERATOR, "/channel_archive 1"))
    await bot.feed(says_privately(OPERATOR, "/channel_archive 9"))
    bot.session.clear()
    await bot.feed(says_privately(OPERATOR, "/channels"))

    [listing] = bot.session.texts_to(OPERATOR["id"])
    assert listing.split("\n\n") == [
        "<b>Channels of Pudong Owners</b> (reached: the last 30 days)",
        "#2 <b>Store Jinqiao East</b>: brought 0, reached 0\n"
        f"https://t.me/{BOT_USERNAME}?start=k{GROUP_ID}_2",
        "<b>Archived</b> (their links record nothing)\n#1 Dealer Pudong: brought 0",
        "A channel's card, QR code and figures: /channel NUMBER",
    ]
    assert await channels(bot) == [
        (1, "Dealer Pudong", True, None),
        (2, "Store Jinqiao East", False, None),
    ]
    assert await audited(bot) == [
        "channel.create",
        "channel.create",
        "channel.rename",
        "channel.archive",
    ]


async def test_an_operator_of_two_communities_picks_one_and_later_commands_stay_there(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot_serves_group(bot, chat=OTHER_GROUP)

    await bot.feed(says_privately(OPERATOR, "/channel_new Dealer Jinqiao"))
    [picker] = bot.session.messages_to(OPERATOR["id"])
    assert picker.text == "Which community?"
    assert await channels(bot) == []  # nothing until a community is picked
    await bot.feed(presses(OPERATOR, f"cc1:channel_new:{OTHER_GROUP_ID}"))
    await bot.feed(says_privately(OPERATOR, "/channel_new Dealer Lujiazui"))
    await bot.feed(says_privately(OPERATOR, "/stats channels 7"))
    stats_picker = bot.session.messages_to(OPERATOR["id"])[-1]
    await bot.feed(presses(OPERATOR, f"cc1:chstats_7:{OTHER_GROUP_ID}"))

    stored = [(row.community_id, row.name) for row in await rows(bot, ChannelRow)]
    assert stored == [(OTHER_GROUP_ID, "Dealer Jinqiao"), (OTHER_GROUP_ID, "Dealer Lujiazui")]
    assert sorted(stats_picker.button_data()) == sorted(
        f"cc1:chstats_7:{community_id}" for community_id in (GROUP_ID, OTHER_GROUP_ID)
    )
    figures = bot.session.texts_to(OPERATOR["id"])[-1]
    assert figures.startswith("<b>Jinqiao Riders by channel</b>")
    assert "<b>#1 Dealer Jinqiao</b>" in figures


async def test_the_replies_of_renaming_and_archiving_say_what_happened(bot: BotHarness) -> None:
    await club(bot)

    for command in (
        "/channel_rename 2 Store Jinqiao East",
        "/channel_rename 2 dealer pudong",
        "/channel_archive 1",
        "/channel_archive 1",
        "/channel_archive 9",
        "/channel_rename 1",
    ):
        await bot.feed(says_privately(OPERATOR, command))

    assert bot.session.texts_to(OPERATOR["id"]) == [
        "Channel #2 “Store Jinqiao” is now called “Store Jinqiao East”; its link stays the same.",
        "A channel named “dealer pudong” exists already (archived ones count too): choose "
        "another name.",
        "Channel #1 “Dealer Pudong” is archived: its link records nothing more, its figures stay.",
        "Channel #1 “Dealer Pudong” was archived already.",
        "There is no channel #9 in your communities. /channels lists them.",
        "Usage: /channel_rename NUMBER NEW NAME",
    ]


async def test_an_operator_names_a_contact_person_by_username_id_or_reply_and_takes_it_away(
    bot: BotHarness,
) -> None:
    await club(bot)
    await starts_the_bot(bot, CAROL)
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/channel_contact 1 @carol"))
    after_username = await channels(bot)
    await bot.feed(says_privately(OPERATOR, f"/channel_contact 2 {BORIS['id']}"))
    await bot.feed(says_privately(OPERATOR, "/channel_contact 2 off"))
    replied = updates.message(updates.private(ALICE), ALICE, "hi", NOW)["message"]
    await bot.feed(said(ADMIN, "/channel_contact 2", reply_to_message=replied))
    await bot.feed(says_privately(OPERATOR, "/channel_contact 1 @nobody_here"))

    assert after_username[0] == (1, "Dealer Pudong", False, CAROL["id"])
    assert await channels(bot) == [
        (1, "Dealer Pudong", False, CAROL["id"]),
        (2, "Store Jinqiao", False, ALICE["id"]),
    ]
    private = bot.session.texts_to(OPERATOR["id"])
    assert private[0] == (
        "Carol is now the contact person of channel #1 “Dealer Pudong”: they read this "
        "channel's figures (and only these) with /my_channel in private."
    )
    assert private[2].startswith("Channel #2 “Store Jinqiao” has no contact person any more")
    assert private[3] == (
        "I do not know @nobody_here: they must write to me in private (or in the group) first."
    )
    assert bot.session.texts_to(GROUP_ID)[0].startswith("Alice is now the contact person")
    assert (await audited(bot))[2:] == ["channel.contact"] * 4


async def test_a_member_cannot_create_or_change_channels(bot: BotHarness) -> None:
    await club(bot)

    for command in (
        "/channel_new Alice's shop",
        "/channels",
        "/channel 1",
        "/channel_rename 1 Mine",
        "/channel_archive 1",
        "/channel_contact 1 @alice",
    ):
        await bot.feed(says_privately(ALICE, command))
        await bot.feed(said(ALICE, command))

    refusals = bot.session.texts_to(ALICE["id"]) + bot.session.texts_to(GROUP_ID)
    assert set(refusals) == {REFUSED}
    assert await channels(bot) == [
        (1, "Dealer Pudong", False, None),
        (2, "Store Jinqiao", False, None),
    ]
    assert not bot.session.of("sendPhoto")


# -- the link


async def test_opening_a_channel_link_welcomes_the_person_and_records_one_touch_a_day(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(says_privately(CAROL, OPEN_PUDONG))
    await bot.feed(says_privately(CAROL, OPEN_PUDONG, NOW + timedelta(hours=3)))
    await at(bot, NOW + timedelta(days=1), says_privately(CAROL, OPEN_PUDONG, NOW + timedelta(1)))

    welcome = (
        "Welcome to <b>Pudong Owners</b>! You came to us through <b>Dealer Pudong</b> — we "
        "are glad you are here. Join the group and say hello."
    )
    assert bot.session.texts_to(CAROL["id"]).count(welcome) == 3
    assert await touches(bot) == [
        (CAROL["id"], 1, NOW),
        (CAROL["id"], 1, NOW + timedelta(days=1)),
    ]
    starts = await activity(bot, "start")
    assert [row.community_id for row in starts if row.member_id == CAROL["id"]] == [GROUP_ID] * 3


async def test_the_first_touch_is_kept_and_a_later_one_of_another_channel_only_counts_as_reached(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(says_privately(CAROL, OPEN_PUDONG))
    await bot.feed(joins(CAROL, NOW + timedelta(hours=1)))
    later = NOW + timedelta(days=1)
    await at(bot, later, says_privately(CAROL, OPEN_JINQIAO, later))
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/stats channels"))

    assert await touches(bot) == [(CAROL["id"], 1, NOW), (CAROL["id"], 2, later)]
    [figures] = bot.session.texts_to(OPERATOR["id"])
    pudong, jinqiao = block(figures, "#1 Dealer Pudong"), block(figures, "#2 Store Jinqiao")
    assert pudong[0] == "Members brought (in the group now): 1"
    assert pudong[1] == "Joined in the period: 1"
    assert pudong[-1] == "Reached (opened the link): 1"
    assert jinqiao[0] == "Members brought (in the group now): 0"
    assert jinqiao[-1] == "Reached (opened the link): 1"
    async with bot.uow() as uow:
        from hearth.services.channels import brought_by

        assert {key: value.name for key, value in (await brought_by(uow, CAROL["id"])).items()} == {
            GROUP_ID: "Dealer Pudong"
        }


async def test_a_member_who_was_in_the_group_before_touching_came_direct(bot: BotHarness) -> None:
    await club(bot)  # Alice has been in the group all along

    await bot.feed(says_privately(ALICE, OPEN_PUDONG))
    await bot.feed(says_privately(OPERATOR, "/stats channels"))

    assert await touches(bot) == [(ALICE["id"], 1, NOW)]
    [figures] = bot.session.texts_to(OPERATOR["id"])
    assert block(figures, "#1 Dealer Pudong")[0] == "Members brought (in the group now): 0"
    assert block(figures, "#1 Dealer Pudong")[-1] == "Reached (opened the link): 1"
    # Alice, Boris and Adam (who owns the group)
    assert block(figures, "Direct (no channel)")[0] == "Members brought (in the group now): 3"


async def test_an_archived_or_unknown_channel_link_records_nothing(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(OPERATOR, "/channel_archive 1"))
    bot.session.clear()

    await bot.feed(says_privately(DAVE, OPEN_PUDONG))
    await bot.feed(says_privately(DAVE, f"/start {channel_payload(GROUP_ID, 7)}"))
    await bot.feed(says_privately(DAVE, f"/start {channel_payload(-1009999999999, 2)}"))

    unknown = (
        "This link does not belong to a community I serve. Ask the group's team for a new one."
    )
    assert bot.session.texts_to(DAVE["id"])[1::2] == [unknown] * 3
    assert await touches(bot) == []
    assert [row for row in await activity(bot, "start") if row.member_id == DAVE["id"]] == []


async def test_a_channel_link_and_a_members_invite_are_independent(bot: BotHarness) -> None:
    from hearth.domain.deep_links import referral_payload
    from hearth.storage.referrals import ReferralRow

    await club(bot)

    await bot.feed(says_privately(CAROL, f"/start {referral_payload(GROUP_ID, ALICE['id'])}"))
    await bot.feed(says_privately(CAROL, OPEN_JINQIAO))

    assert [(row.referrer_id, row.referred_id) for row in await rows(bot, ReferralRow)] == [
        (ALICE["id"], CAROL["id"])
    ]
    assert await touches(bot) == [(CAROL["id"], 2, NOW)]


# -- the figures, on a hand-made community

# Members of the hand-made community (ids), what they did (UTC; the group's time zone is
# UTC), and where the figures of the 30 days 2026-02-01 .. 2026-03-02 put them:
#
# Dealer Pudong (#1)
#   P1  touched 02-10 08:00, joined 02-10 10:00, active 02-10, 02-11, 02-13 -> activated;
#       attended an event 02-20; a service visit 02-25 (1,500.00)
#   P2  touched 02-20, joined 02-21, active 02-21 only -> missed; a purchase 02-27
#       (200,000.00); opened Store Jinqiao's link 02-25 (after joining: reached only)
#   P3  touched 02-28, joined 03-01 08:00, active 03-01 -> pending (first week not over)
#   P4  touched 2025-12-20, joined 2025-12-21 (71 days ago), active 02-15 -> retained;
#       attended two events (02-20, 02-22)
#   P5  touched 2026-01-05, joined 01-05 (56 days ago), left 02-10 -> in the retention
#       cohort, not retained, not counted as brought now
# Store Jinqiao (#2)
#   P6  touched 02-05, joined 02-06, active 02-06, 02-07, 02-08 -> activated; attended
#       02-20; service visits 02-10 (800.00) and 02-20 (700.00)
# Direct
#   D1  joined 02-03 (no touch), active 02-03, 02-04, 02-05 -> activated; attended 02-20
#   D2  first seen taking part 02-15 (was in the group before Hearth: not a join)
#   D3  joined 2025-11-01; a trade-in 02-12 (5,000.00); a purchase 01-20 (before the
#       period) and an attendance 01-15 (before the period) count nowhere
#   D4  joined 01-10, opened Dealer Pudong's link 02-01, left 02-02 and came back 02-03:
#       their first join came before the touch -> direct (reached for Pudong); in the
#       retention cohort, not active -> not retained
#   Adam, who owns the group (a member since the bot was added, 03-02)
P1, P2, P3, P4, P5, P6, D1, D2, D3, D4 = range(201, 211)


def moment(month: int, day: int, hour: int = 9, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


async def hand_made_community(bot: BotHarness) -> None:
    await bot_serves_group(bot)
    await bot.feed(says_privately(OPERATOR, "/channel_new Dealer Pudong"))
    await bot.feed(says_privately(OPERATOR, "/channel_new Store Jinqiao"))
    joined = {
        P1: moment(2, 10, 10),
        P2: moment(2, 21),
        P3: moment(3, 1, 8),
        P4: moment(12, 21, year=2025),
        P5: moment(1, 5, 12),
        P6: moment(2, 6),
        D1: moment(2, 3),
        D3: moment(11, 1, year=2025),
        D4: moment(1, 10),
    }
    touched = [
        (P1, 1, moment(2, 10, 8)),
        (P2, 1, moment(2, 20)),
        (P2, 2, moment(2, 25)),
        (P3, 1, moment(2, 28)),
        (P4, 1, moment(12, 20, year=2025)),
        (P5, 1, moment(1, 5)),
        (P6, 2, moment(2, 5)),
        (D4, 1, moment(2, 1, 10)),
    ]
    active = {
        P1: [moment(2, 10, 11), moment(2, 11), moment(2, 13)],
        P2: [moment(2, 21, 10)],
        P3: [moment(3, 1, 8)],
        P4: [moment(2, 15)],
        P6: [moment(2, 6, 10), moment(2, 7), moment(2, 8)],
        D1: [moment(2, 3, 10), moment(2, 4), moment(2, 5)],
        D2: [moment(2, 15)],
    }
    attended = [(P1, 0), (P4, 0), (P4, 1), (P6, 0), (D1, 0), (D3, 2)]
    events = [moment(2, 20, 18), moment(2, 22, 18), moment(1, 15, 18)]
    conversions = [
        (P1, "service", date(2026, 2, 25), 150_000),
        (P2, "purchase", date(2026, 2, 27), 20_000_000),
        (P6, "service", date(2026, 2, 10), 80_000),
        (P6, "service", date(2026, 2, 20), 70_000),
        (D3, "trade_in", date(2026, 2, 12), 500_000),
        (D3, "purchase", date(2026, 1, 20), 3_000_000),
    ]
    async with bot.uow() as uow:
        people = [*joined, D2]
        await uow.members.upsert_many(
            [Person(member_id, f"Owner {member_id}") for member_id in people], NOW
        )
        for member_id, when in joined.items():
            await uow.memberships.add(GROUP_ID, member_id, role=ChatRole.MEMBER, now=when)
        await uow.memberships.add(
            GROUP_ID, D2, role=ChatRole.MEMBER, now=moment(2, 15), via=JoinVia.SEEN
        )
        await uow.memberships.leave(GROUP_ID, P5, moment(2, 10))
        await uow.memberships.leave(GROUP_ID, D4, moment(2, 2))
        await uow.memberships.rejoin(GROUP_ID, D4, moment(2, 3))
        records = [
            ActivityRecord(GROUP_ID, member_id, ActivityKind.JOIN, when, when.date())
            for member_id, when in [*joined.items(), (D4, moment(2, 3))]
        ]
        records += [
            ActivityRecord(GROUP_ID, member_id, ActivityKind.MESSAGE, when, when.date())
            for member_id, moments in active.items()
            for when in moments
        ]
        await uow.activity.add_many(records)
        for member_id, channel_id, when in touched:
            await uow.channels.add_touch(ChannelTouch(GROUP_ID, member_id, channel_id, when))
        event_ids = []
        for number, starts in enumerate(events):
            draft = EventDraft(
                f"Workshop {number}", "", "Pudong", starts, starts + timedelta(hours=2), None,
                starts, 0,
            )  # fmt: skip
            event = await uow.events.add(
                GROUP_ID, draft, code=f"CODE{number}X", actor_id=None, now=NOW
            )
            assert event is not None
            event_ids.append(event.id)
        for member_id, number in attended:
            await uow.events.attend(event_ids[number], member_id, events[number])
        for index, (member_id, kind, day, amount) in enumerate(conversions):
            uow.session.add(
                ConversionRow(
                    community_id=GROUP_ID, member_id=member_id, kind=kind, occurred_on=day,
                    amount_minor=amount, key=f"row-{index}", imported_at=NOW,
                )
            )  # fmt: skip
        await uow.commit()
    bot.session.clear()


PUDONG_FIGURES = [
    "Members brought (in the group now): 4",
    "Joined in the period: 3",
    "Activation (active on 3 days of their first week): 1 of 2 (50%)",
    "Retention (joined 30–90 days ago, active in the last 30 days): 1 of 2 (50%)",
    "Event check-ins: 3 by 2 members",
    "Conversions: purchases 1 (200,000.00); service visits 1 (1,500.00)",
    "Reached (opened the link): 4",
]
JINQIAO_FIGURES = [
    "Members brought (in the group now): 1",
    "Joined in the period: 1",
    "Activation (active on 3 days of their first week): 1 of 1 (100%)",
    "Retention (joined 30–90 days ago, active in the last 30 days): —",
    "Event check-ins: 1 by 1 member",
    "Conversions: service visits 2 (1,500.00)",
    "Reached (opened the link): 2",
]
DIRECT_FIGURES = [
    "Members brought (in the group now): 5",
    "Joined in the period: 1",
    "Activation (active on 3 days of their first week): 1 of 1 (100%)",
    "Retention (joined 30–90 days ago, active in the last 30 days): 0 of 1 (0%)",
    "Event check-ins: 1 by 1 member",
    "Conversions: trade-ins 1 (5,000.00)",
]


async def test_stats_by_channel_on_a_hand_made_community(
    bot_on_each_backend: BotHarness,
) -> None:
    bot = bot_on_each_backend
    await hand_made_community(bot)

    await bot.feed(says_privately(OPERATOR, "/stats channels"))

    [figures] = bot.session.texts_to(OPERATOR["id"])
    assert figures.startswith(
        "<b>Pudong Owners by channel</b>\nFigures from 2026-02-01 to 2026-03-02:"
    )
    assert block(figures, "#1 Dealer Pudong") == PUDONG_FIGURES
    assert block(figures, "#2 Store Jinqiao") == JINQIAO_FIGURES
    assert block(figures, "Direct (no channel)") == DIRECT_FIGURES
    # The rows add up to the community: 10 members now (P5 left).
    async with bot.uow() as uow:
        assert await uow.memberships.count_current(GROUP_ID) == 4 + 1 + 5


async def test_a_shorter_period_and_a_channels_card_read_the_same_figures(bot: BotHarness) -> None:
    await hand_made_community(bot)

    await bot.feed(says_privately(OPERATOR, "/stats channels 7d"))
    await bot.feed(says_privately(OPERATOR, "/channel 1"))
    await bot.feed(says_privately(OPERATOR, "/stats channels 0"))

    week, card, refused = bot.session.texts_to(OPERATOR["id"])
    assert "Figures from 2026-02-24 to 2026-03-02:" in week
    assert block(week, "#1 Dealer Pudong")[:2] == [
        "Members brought (in the group now): 4",
        "Joined in the period: 1",  # P3, on 03-01
    ]
    assert card.startswith("📍 <b>Dealer Pudong</b> (#1) in Pudong Owners")
    assert f"Link: {PUDONG_LINK}" in card
    assert "Contact person: none (/channel_contact 1 @username)" in card
    assert card.splitlines()[-len(PUDONG_FIGURES) :] == PUDONG_FIGURES
    assert len(bot.session.of("sendPhoto")) == 1
    assert refused == "Usage: /stats channels [days] — 1 to 365 days, 30 by default"


async def test_the_contact_person_sees_only_their_channels_figures_until_taken_away(
    bot: BotHarness,
) -> None:
    await hand_made_community(bot)
    await starts_the_bot(bot, CAROL, ALICE)
    await bot.feed(says_privately(OPERATOR, "/channel_contact 2 @carol"))
    bot.session.clear()

    await bot.feed(says_privately(CAROL, "/my_channel"))
    [own] = bot.session.texts_to(CAROL["id"])
    await bot.feed(says_privately(CAROL, "/channels"))
    await bot.feed(says_privately(CAROL, "/stats channels"))
    await bot.feed(says_privately(OPERATOR, "/channel_contact 2 off"))
    await bot.feed(says_privately(CAROL, "/my_channel"))
    await bot.feed(says_privately(ALICE, "/my_channel"))

    assert own.startswith("📍 <b>Store Jinqiao</b> in Pudong Owners")
    assert own.splitlines()[2:9] == JINQIAO_FIGURES
    for secret in ("Dealer Pudong", "Direct", "200,000.00", "trade-ins", "Owner 2", "Alice"):
        assert secret not in own
    assert not re.search(r"\b2(0[1-9]|10)\b", own)  # no member's id
    refused_operator_commands = bot.session.texts_to(CAROL["id"])[1:3]
    assert refused_operator_commands == [REFUSED] * 2
    not_a_contact = (
        "/my_channel is for the contact person of a dealer or partner channel, and you are not "
        "one. Ask the community's team if you should be."
    )
    assert bot.session.texts_to(CAROL["id"])[3:] == [not_a_contact]
    assert bot.session.texts_to(ALICE["id"]) == [not_a_contact]


async def test_the_weekly_digest_has_a_channel_section_only_when_there_are_channels(
    bot: BotHarness,
) -> None:
    await bot_serves_group(bot)
    await bot.feed(says_privately(OPERATOR, "/digest"))
    [without] = bot.session.texts_to(OPERATOR["id"])
    bot.session.clear()
    await bot.feed(says_privately(OPERATOR, "/channel_new Dealer Pudong"))
    await bot.feed(says_privately(CAROL, OPEN_PUDONG, NOW - timedelta(days=2)))
    await bot.feed(joins(CAROL, NOW - timedelta(days=2)))
    bot.session.clear()

    await bot.feed(says_privately(OPERATOR, "/digest"))

    [with_channels] = bot.session.texts_to(OPERATOR["id"])
    assert "By channel" not in without
    lines = with_channels.splitlines()
    start = lines.index("<b>By channel</b> (brought: in the group now, +joined this week)")
    assert lines[start + 1 : start + 3] == [
        "#1 Dealer Pudong: brought 1 (+1), reached 1, check-ins 0, conversions 0",
        "Direct (no channel): brought 1 (+0), check-ins 0, conversions 0",  # Adam
    ]


# -- the member's own data


async def test_mydata_shows_the_channel_that_brought_the_member_and_forget_me_removes_touches(
    bot: BotHarness,
) -> None:
    await club(bot)
    await bot.feed(says_privately(CAROL, OPEN_PUDONG))
    await bot.feed(joins(CAROL, NOW + timedelta(minutes=5)))
    bot.session.clear()

    await bot.feed(says_privately(CAROL, "/mydata"))

    [text] = bot.session.texts_to(CAROL["id"])
    assert "You came through: Dealer Pudong" in text
    [document] = bot.session.of("sendDocument")
    assert b'"brought_by_channel": "Dealer Pudong"' in next(iter(document.uploads.values()))

    bot.session.clear()
    await bot.feed(says_privately(CAROL, "/forget_me"))
    [question] = bot.session.messages_to(CAROL["id"])
    [erase] = [b["callback_data"] for b in buttons(question) if b["text"] == "Erase my data"]
    await bot.feed(presses(CAROL, erase))
    assert await touches(bot) == []
