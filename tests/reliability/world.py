"""A small community with something of everything, and what its members can see of it.

Shared by the reliability tests: ``furnish`` gives a fresh Hearth a group with members,
points, a reward with little stock, an event with little room, a running quiz and a
comeback nudge, always the same way; ``snapshot`` reads back everything stored, in a form
two Hearths can be compared by.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel

from hearth.domain.events import EventDraft
from hearth.domain.nudges import Decision, NudgeFacts, NudgeKind, NudgeMessage, NudgeStatus
from hearth.handlers.rewards_callbacks import confirmation
from hearth.simulate import updates
from hearth.storage.outbox import OutboxRow
from hearth.storage.rewards import RewardRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    BORIS,
    CAROL,
    GROUP_ID,
    NOW,
    OPERATOR,
    admins,
    bot_serves_group,
    credits,
    delivered,
    members_of,
    rows,
    said,
    says_privately,
    starts_the_bot,
)
from tests.telegram import TOKEN

QUIZ_BANK = b"""questions:
  - text: How often should engine oil be changed?
    options: [Every 10000 km or 12 months, Never]
    correct: 1
    topic: maintenance
"""
REWARD_STOCK = 2
REWARD_COST = 30
EVENT_CAPACITY = 2
EVENT_CODE = "ABC234"
COMEBACK_BONUS = 25
STARTING_POINTS = 100


@dataclass(frozen=True)
class Furnishings:
    """What ``furnish`` made: the ids a member's buttons and answers refer to."""

    reward_id: int
    event_id: int
    poll_id: str
    right_option: int
    nudge_id: int


async def furnish(bot: BotHarness, *, members: tuple[updates.JsonDict, ...] = ()) -> Furnishings:
    """Adam owns the group (Olga is a configured operator); Alice, Boris, Carol and
    ``members`` said hello there and have ``STARTING_POINTS`` each; Alice and Boris started
    the bot. Olga added a reward and an event and started a one-question quiz; Alice got a
    comeback nudge. Nothing is left recorded in the session."""
    bot.session.admins[GROUP_ID] = admins(ADMIN)
    await bot_serves_group(bot)
    people = (ALICE, BORIS, CAROL, *members)
    await members_of(bot, *people)
    await starts_the_bot(bot, ALICE, BORIS)
    for person in people:
        await credits(bot, person, STARTING_POINTS, reason="welcome")
    await bot.feed(says_privately(OPERATOR, f"/reward_new {REWARD_COST} {REWARD_STOCK} Club mug"))
    [reward] = await rows(bot, RewardRow)
    event_id = await _event(bot)
    poll_id, right_option = await _quiz(bot)
    nudge_id = await _comeback_nudge(bot, ALICE)
    await delivered(bot)
    bot.session.clear()
    return Furnishings(reward.id, event_id, poll_id, right_option, nudge_id)


async def _event(bot: BotHarness) -> int:
    starts = NOW + timedelta(days=8)
    draft = EventDraft(
        "Spring drive", "", "Lakeside", starts, starts + timedelta(hours=3), EVENT_CAPACITY,
        starts - timedelta(days=1), 10,
    )  # fmt: skip
    async with bot.uow() as uow:
        event = await uow.events.add(GROUP_ID, draft, code=EVENT_CODE, actor_id=None, now=NOW)
        assert event is not None
        await uow.commit()
    return int(event.id)


async def _quiz(bot: BotHarness) -> tuple[str, int]:
    bot.session.serve_file("bank.yaml", QUIZ_BANK)
    await bot.feed(
        updates.message(
            updates.private(OPERATOR),
            OPERATOR,
            None,
            NOW,
            caption="/quiz_import",
            caption_entities=[{"type": "bot_command", "offset": 0, "length": 12}],
            document={
                "file_id": "bank.yaml",
                "file_unique_id": "bank.yaml",
                "file_name": "bank.yaml",
                "file_size": len(QUIZ_BANK),
            },
        )
    )
    await bot.feed(said(OPERATOR, "/quiz start 1"))
    [poll] = bot.session.polls_to(GROUP_ID)
    return bot.session.poll_ids[-1], int(poll.params["correct_option_ids"][0])


async def _comeback_nudge(bot: BotHarness, person: updates.JsonDict) -> int:
    """A comeback nudge offering ``COMEBACK_BONUS`` points, sent to ``person``."""
    member_id = int(person["id"])
    kind = NudgeKind.COMEBACK
    async with bot.uow() as uow:
        decision = Decision(
            member_id, NOW.date(), NudgeStatus.PLANNED, 1, kind, NOW, offer_points=COMEBACK_BONUS
        )
        await uow.nudges.record(GROUP_ID, NOW.date(), [decision], NOW)
        [record] = await uow.nudges.history(GROUP_ID, member_id)
        assert await uow.nudges.mark_sent(
            record.id, kind=kind, template="comeback:0", event_id=None, now=NOW
        )
        member = await uow.members.get(member_id)
        community = await uow.communities.get(GROUP_ID)
        assert member is not None
        assert community is not None
        message = NudgeMessage(
            record.id, kind, "comeback:0", None, 20, NudgeFacts(), COMEBACK_BONUS
        )
        assert await bot.hearth.nudges.nudge(uow, member, community, message)
        await uow.commit()
    return int(record.id)


def redeem_button(person: updates.JsonDict, reward_id: int) -> str:
    """A Confirm button as the bot shows it to ``person`` for a reward (signed, fresh nonce)."""
    return confirmation(TOKEN, int(person["id"]), reward_id).pack()


# -- what is stored

# Columns whose value depends on when the delivery worker got to a message, not on what
# the members did: everything else must come out the same.
DELIVERY_COLUMNS = {"status", "attempts", "claimed_at", "sent_at", "message_id", "error"}
# Tables whose ``id`` is Telegram's; every other ``id`` is a row counter, which depends on
# when the write-behind buffer flushed as much as on what happened.
TELEGRAM_IDS = {"community", "member"}


async def snapshot(bot: BotHarness) -> dict[str, list[Any]]:
    """Every stored row of every table, sorted; the outbox by dedupe key, without its
    delivery bookkeeping. Written activity and queued messages are flushed first."""
    await bot.flush()
    await delivered(bot)
    found: dict[str, list[Any]] = {}
    async with bot.uow() as uow:
        for table in SQLModel.metadata.sorted_tables:
            skipped = DELIVERY_COLUMNS if table.name == OutboxRow.__tablename__ else set()
            if table.name not in TELEGRAM_IDS:
                skipped = skipped | {"id"}
            columns = [column for column in table.columns if column.name not in skipped]
            result = await uow.session.execute(select(*columns))
            found[table.name] = sorted(
                (tuple(zip([c.name for c in columns], row, strict=True)) for row in result.all()),
                key=repr,
            )
    return found


def changed_rows(
    before: dict[str, list[Any]], after: dict[str, list[Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """Rows (table, row) found in one snapshot only: added, removed, or either side of a change."""
    found = []
    for table in sorted(set(before) | set(after)):
        ours, theirs = before.get(table, []), after.get(table, [])
        found += [(table, dict(row)) for row in ours if row not in theirs]
        found += [(table, dict(row)) for row in theirs if row not in ours]
    return found


def differences(left: dict[str, list[Any]], right: dict[str, list[Any]]) -> list[str]:
    """Readable differences between two snapshots, one line per row found on one side only."""
    lines = []
    for table in sorted(set(left) | set(right)):
        ours, theirs = left.get(table, []), right.get(table, [])
        lines += [f"{table}: only left:  {row}" for row in ours if row not in theirs]
        lines += [f"{table}: only right: {row}" for row in theirs if row not in ours]
    return lines
