"""Referrals through the real dispatcher: a member's invite, the friend it brings, the
inviter's points — and the abuse cases: inviting oneself, inviting someone already known,
two invites for one friend, replayed updates."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from hearth.domain.deep_links import referral_payload
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.referrals import ReferralRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    CAROL,
    DAVE,
    GROUP_ID,
    NOW,
    OPERATOR,
    at,
    bot_serves_group,
    delivered,
    joins,
    ledger,
    members_of,
    rows,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import BOT_USERNAME

INVITE = f"/start {referral_payload(GROUP_ID, ALICE['id'])}"
BORIS_INVITE = f"/start {referral_payload(GROUP_ID, BORIS['id'])}"
REFERRAL_POINTS = 100  # PointsRules().referral


async def club(bot: BotHarness) -> None:
    """Alice and Boris are members of the group and started the bot."""
    await bot_serves_group(bot)
    await members_of(bot, ALICE, BORIS)
    await starts_the_bot(bot, ALICE, BORIS)
    bot.session.clear()


async def referrals(bot: BotHarness) -> list[tuple[int, int]]:
    """(inviter, friend) of every stored referral."""
    return sorted((row.referrer_id, row.referred_id) for row in await rows(bot, ReferralRow))


async def referral_credits(bot: BotHarness, person: updates.JsonDict) -> list[int]:
    return [amount for kind, amount, reason in await ledger(bot, person) if reason == "referral"]


async def brought_and_checked_in(bot: BotHarness, friend: updates.JsonDict) -> None:
    """``friend`` opens Alice's invite, joins the group and checks in there."""
    await bot.feed(says_privately(friend, INVITE))
    await bot.feed(joins(friend))
    await bot.feed(said(friend, "/checkin"))


# -- the invite


async def test_a_member_gets_their_personal_invite_link_with_a_share_button(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(says_privately(ALICE, "/invite"))

    [answer] = bot.session.messages_to(ALICE["id"])
    link = f"https://t.me/{BOT_USERNAME}?start=r{GROUP_ID}_{ALICE['id']}"
    assert link in answer.text
    assert f"you earn {REFERRAL_POINTS} points" in answer.text
    [share] = answer.button_urls()
    assert parse_qs(urlparse(share).query)["url"] == [link]


async def test_me_shows_the_invite_and_what_it_brought(bot: BotHarness) -> None:
    await club(bot)
    await brought_and_checked_in(bot, CAROL)
    await bot.feed(says_privately(DAVE, INVITE))  # invited, never joined
    bot.session.clear()

    await bot.feed(says_privately(ALICE, "/me"))

    [card] = bot.session.texts_to(ALICE["id"])
    assert "Friends you invited: 2, joined: 1, brought you points: 1 (+100)" in card
    assert f"?start=r{GROUP_ID}_{ALICE['id']}" in card


# -- a friend it brings


async def test_a_friend_who_joins_and_checks_in_earns_the_inviter_points_and_a_note(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(says_privately(CAROL, INVITE))

    assert await referrals(bot) == [(ALICE["id"], CAROL["id"])]
    assert any("Alice invited you to" in text for text in bot.session.texts_to(CAROL["id"]))

    await bot.feed(joins(CAROL))
    assert await referral_credits(bot, ALICE) == []  # joining alone earns nothing

    await bot.feed(said(CAROL, "/checkin"))
    await delivered(bot)

    assert await referral_credits(bot, ALICE) == [REFERRAL_POINTS]
    notes = [text for text in bot.session.texts_to(ALICE["id"]) if "with your invite" in text]
    assert notes == [
        "Carol joined Pudong Owners with your invite and checked in for the first time: you "
        "earned 100 points. Thank you for bringing them!"
    ]
    [entry] = [row for row in await rows(bot, tables.PointsEntry) if row.reason == "referral"]
    assert entry.idempotency_key == f"referral:{GROUP_ID}:{CAROL['id']}"


async def test_replayed_start_and_checkin_updates_credit_the_inviter_once(
    bot: BotHarness,
) -> None:
    await club(bot)
    start = updates.message(updates.private(CAROL), CAROL, INVITE, NOW, update_id=9001)
    checkin = said(CAROL, "/checkin", update_id=9003)

    await bot.feed(start)
    await bot.feed(start)
    await bot.feed(says_privately(CAROL, INVITE))  # opened again, a new update
    await bot.feed(joins(CAROL))
    await bot.feed(checkin)
    await bot.feed(checkin)
    await at(bot, NOW + timedelta(days=1), said(CAROL, "/checkin", NOW + timedelta(days=1)))
    await delivered(bot)

    assert await referrals(bot) == [(ALICE["id"], CAROL["id"])]
    assert await referral_credits(bot, ALICE) == [REFERRAL_POINTS]
    notes = [text for text in bot.session.texts_to(ALICE["id"]) if "with your invite" in text]
    assert len(notes) == 1


async def test_the_operators_set_what_a_referral_is_worth(bot: BotHarness) -> None:
    await club(bot)
    await bot.feed(says_privately(OPERATOR, "/points_rules referral 40"))

    await brought_and_checked_in(bot, CAROL)

    assert await referral_credits(bot, ALICE) == [40]
    [audit] = [row for row in await rows(bot, tables.AuditLog) if row.action == "points.rule"]
    assert audit.details == {"rule": "referral", "value": 40}


# -- abuse


async def test_opening_ones_own_invite_records_nothing(bot: BotHarness) -> None:
    await club(bot)

    await bot.feed(says_privately(ALICE, INVITE))
    await bot.feed(said(ALICE, "/checkin"))

    assert await referrals(bot) == []
    assert await referral_credits(bot, ALICE) == []
    assert any("This is your own invite" in text for text in bot.session.texts_to(ALICE["id"]))


async def test_a_member_of_the_group_opening_an_invite_is_no_referral(bot: BotHarness) -> None:
    await club(bot)
    await members_of(bot, CAROL)  # in the group, never started the bot

    await bot.feed(says_privately(CAROL, INVITE))
    await bot.feed(said(CAROL, "/checkin"))

    assert await referrals(bot) == []
    assert await referral_credits(bot, ALICE) == []


async def test_someone_who_started_the_bot_before_is_no_referral(bot: BotHarness) -> None:
    await club(bot)
    await starts_the_bot(bot, CAROL)  # knows Hearth already, not in the group yet

    await brought_and_checked_in(bot, CAROL)

    assert await referrals(bot) == []
    assert await referral_credits(bot, ALICE) == []


async def test_the_first_invite_wins_when_two_members_invite_the_same_friend(
    bot: BotHarness,
) -> None:
    await club(bot)

    await bot.feed(says_privately(CAROL, INVITE))
    await bot.feed(says_privately(CAROL, BORIS_INVITE))
    await bot.feed(joins(CAROL))
    await bot.feed(said(CAROL, "/checkin"))

    assert await referrals(bot) == [(ALICE["id"], CAROL["id"])]
    assert await referral_credits(bot, ALICE) == [REFERRAL_POINTS]
    assert await referral_credits(bot, BORIS) == []


async def test_a_friend_already_in_the_group_but_unseen_earns_nothing(bot: BotHarness) -> None:
    """Someone who was in the group before the bot saw them (no join after the invite)
    was not brought by it."""
    await club(bot)

    await bot.feed(says_privately(CAROL, INVITE))
    await bot.feed(said(CAROL, "/checkin"))  # first seen taking part: no join

    assert await referrals(bot) == [(ALICE["id"], CAROL["id"])]
    assert await referral_credits(bot, ALICE) == []


async def test_an_invite_naming_no_member_of_the_group_records_nothing(bot: BotHarness) -> None:
    await club(bot)
    forged = f"/start {referral_payload(GROUP_ID, 999_999)}"

    await bot.feed(says_privately(CAROL, forged))

    assert await referrals(bot) == []
    assert any("You are connected to" in text for text in bot.session.texts_to(CAROL["id"]))


async def test_an_invite_handled_late_after_a_backlog_still_credits_the_inviter(
    bot: BotHarness,
) -> None:
    """The bot was down: the friend's /start, join and check-in arrive an hour later, in
    one go. The times that count are when they happened, not when the bot read them."""
    await club(bot)
    opened, joined, checked_in = NOW, NOW + timedelta(minutes=3), NOW + timedelta(minutes=9)

    await at(
        bot,
        NOW + timedelta(hours=1),
        says_privately(CAROL, INVITE, opened),
        joins(CAROL, joined),
        said(CAROL, "/checkin", checked_in),
    )
    await delivered(bot)

    assert await referral_credits(bot, ALICE) == [REFERRAL_POINTS]


async def test_an_invited_friend_gets_their_first_steps_in_private_when_they_join(
    bot: BotHarness,
) -> None:
    """Before joining, the friend belongs to no community: no checklist yet. Joining
    brings the missions checklist and the questionnaire offer, as /start does for members."""
    await club(bot)
    await bot.feed(says_privately(OPERATOR, "/missions on"))
    await bot.feed(says_privately(CAROL, INVITE))
    before = bot.session.texts_to(CAROL["id"])
    assert not any("Your first steps" in text for text in before)

    await bot.feed(joins(CAROL, NOW + timedelta(minutes=5)))

    after = bot.session.texts_to(CAROL["id"])[len(before) :]
    assert any("<b>Your first steps in Pudong Owners</b>" in text for text in after)
    [offer] = [m for m in bot.session.messages_to(CAROL["id"]) if m.button_data()]
    assert any(data.startswith("pf") for data in offer.button_data())
