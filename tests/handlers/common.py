"""People and places shared by the handler tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import SQLModel

from hearth.domain.delivery import OutboxStatus
from hearth.domain.members import CommunityProfile, MemberProfile, MembershipView
from hearth.simulate import updates
from hearth.storage import tables
from hearth.storage.tags import MemberTagRow
from tests.telegram import Call

if TYPE_CHECKING:
    from tests.conftest import BotHarness

GROUP_ID = -1001000000001
GROUP = updates.group(GROUP_ID, "Pudong Owners")
OPERATOR = updates.user(7, "Olga", username="olga")  # configured operator id
ADMIN = updates.user(8, "Adam", username="adam")  # a chat administrator
ALICE = updates.user(101, "Alice", username="alice")
BORIS = updates.user(102, "Boris", language_code="zh-hans")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def bot_user() -> dict[str, object]:
    from tests.telegram import BOT_ID, BOT_USERNAME

    return updates.user(BOT_ID, "Hearth", username=BOT_USERNAME, is_bot=True)


def bot_added(status: str = "administrator") -> dict[str, object]:
    return updates.chat_member_update(
        GROUP, bot_user(), "left", status, NOW, actor=ADMIN, kind="my_chat_member"
    )


# -- more people and places

CAROL = updates.user(103, "Carol", username="carol")
DAVE = updates.user(104, "Dave", last_name="Lee")
OTHER_GROUP_ID = -1001000000002
OTHER_GROUP = updates.group(OTHER_GROUP_ID, "Jinqiao Riders")
THIRD_GROUP_ID = -1001000000003
THIRD_GROUP = updates.group(THIRD_GROUP_ID, "Someone Else's Club")


# -- updates, shorter


def said(
    person: updates.JsonDict, text: str | None, at: datetime = NOW, **extra: object
) -> updates.JsonDict:
    """``person`` writes ``text`` (or sends ``extra``, such as a photo) in the group."""
    return updates.message(GROUP, person, text, at, **extra)


def says_privately(
    person: updates.JsonDict, text: str, at: datetime = NOW, **extra: object
) -> updates.JsonDict:
    """``person`` writes ``text`` in their private chat with the bot."""
    return updates.message(updates.private(person), person, text, at, **extra)


def presses(
    person: updates.JsonDict, data: str, at: datetime = NOW, **extra: object
) -> updates.JsonDict:
    """``person`` presses an inline button carrying ``data`` in their private chat."""
    return updates.callback_query(person, data, at, **extra)


def joins(
    person: updates.JsonDict, at: datetime = NOW, *, chat: updates.JsonDict = GROUP
) -> updates.JsonDict:
    """A ``chat_member`` update: ``person`` joined the group."""
    return updates.chat_member_update(chat, person, "left", "member", at)


def leaves(
    person: updates.JsonDict, at: datetime = NOW, *, chat: updates.JsonDict = GROUP
) -> updates.JsonDict:
    """A ``chat_member`` update: ``person`` left the group."""
    return updates.chat_member_update(chat, person, "member", "left", at)


def bot_added_to(
    chat: updates.JsonDict, status: str = "administrator", at: datetime = NOW
) -> updates.JsonDict:
    """A ``my_chat_member`` update: an admin added the bot to ``chat`` with ``status``."""
    return updates.chat_member_update(
        chat, bot_user(), "left", status, at, actor=ADMIN, kind="my_chat_member"
    )


def admins(*people: updates.JsonDict) -> list[updates.JsonDict]:
    """What ``getChatAdministrators`` answers: the first person owns the chat."""
    return [
        {**person, "status": "creator" if index == 0 else "administrator"}
        for index, person in enumerate(people)
    ]


async def bot_serves_group(
    bot: BotHarness, *, status: str = "administrator", chat: updates.JsonDict = GROUP
) -> None:
    """The bot is added to ``chat`` (ADMIN owns it, unless the test set other admins)."""
    bot.session.admins.setdefault(int(chat["id"]), admins(ADMIN))
    await bot.feed(bot_added_to(chat, status))
    bot.session.clear()


# -- what was stored


async def rows(bot: BotHarness, model: type[SQLModel]) -> list[Any]:
    """Every stored row of one table."""
    async with bot.uow() as uow:
        found = list(await uow.session.scalars(select(model)))
        uow.session.expunge_all()  # keep them readable after the unit of work ends
        return found


async def activity(bot: BotHarness, kind: str | None = None) -> list[tables.Activity]:
    """Stored activity rows (written after a flush), optionally of one kind."""
    await bot.flush()
    stored = await rows(bot, tables.Activity)
    return [row for row in stored if kind is None or row.kind == kind]


async def tags_of(bot: BotHarness, person: updates.JsonDict) -> list[str]:
    """The person's tags in the group, sorted."""
    return sorted(
        row.tag
        for row in await rows(bot, MemberTagRow)
        if row.member_id == person["id"] and row.community_id == GROUP_ID
    )


async def member(bot: BotHarness, member_id: int) -> MemberProfile | None:
    async with bot.uow() as uow:
        return await uow.members.get(member_id)


async def membership(
    bot: BotHarness, member_id: int, community_id: int = GROUP_ID
) -> MembershipView | None:
    async with bot.uow() as uow:
        return await uow.memberships.get(community_id, member_id)


async def community(bot: BotHarness, community_id: int = GROUP_ID) -> CommunityProfile | None:
    async with bot.uow() as uow:
        return await uow.communities.get(community_id)


async def stored_strings(bot: BotHarness) -> list[str]:
    """Every string value of every column of every table, as stored."""
    found: list[str] = []
    async with bot.uow() as uow:
        for table in SQLModel.metadata.sorted_tables:
            for row in (await uow.session.execute(select(table))).all():
                found += [value if isinstance(value, str) else repr(value) for value in row]
    return found


# -- what was sent


def buttons(call: Call) -> list[dict[str, Any]]:
    """The inline buttons of a recorded call, row after row."""
    markup = call.params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def last_to(bot: BotHarness, person: updates.JsonDict) -> Call:
    """The last message sent or edited in the person's private chat."""
    return [
        call
        for call in bot.session.calls
        if call.method in ("sendMessage", "editMessageText") and call.chat_id == person["id"]
    ][-1]


def callback_answers(bot: BotHarness) -> list[Call]:
    return bot.session.of("answerCallbackQuery")


async def delivered(bot: BotHarness) -> None:
    """Wait until the delivery worker has sent everything queued."""
    for _ in range(300):
        await bot.hearth.delivery.drain()
        async with bot.uow() as uow:
            counts = await uow.outbox.counts()
        if not counts[OutboxStatus.QUEUED] and not counts[OutboxStatus.SENDING]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox did not drain")


# -- points


async def at(bot: BotHarness, moment: datetime, *raw_updates: updates.JsonDict) -> None:
    """Feed updates with the bot's clock set to ``moment``."""
    bot.hearth.clock.set(moment)  # type: ignore[attr-defined]
    for raw in raw_updates:
        await bot.feed(raw)


async def starts_the_bot(bot: BotHarness, *people: updates.JsonDict) -> None:
    """Each of ``people`` sends /start in private: from then on they can be written to."""
    for person in people:
        await bot.feed(says_privately(person, "/start"))


async def members_of(
    bot: BotHarness, *people: updates.JsonDict, chat: updates.JsonDict = GROUP
) -> None:
    """Each of ``people`` says hello in ``chat`` and so becomes a stored member of it."""
    for person in people:
        await bot.feed(updates.message(chat, person, "hello", NOW))
    await bot.flush()


async def credits(
    bot: BotHarness,
    person: updates.JsonDict,
    amount: int,
    at: datetime = NOW,
    *,
    reason: str = "checkin",
    community_id: int = GROUP_ID,
    timezone: str = "UTC",
) -> None:
    """``person`` (a stored member of the community) earns ``amount`` points at ``at``."""
    from hearth.domain.points import EntryKind, PointsRules
    from hearth.services import points

    async with bot.uow() as uow:
        await points.credit(
            uow,
            community_id=community_id,
            member_id=int(person["id"]),
            amount=amount,
            kind=EntryKind.EARN,
            reason=reason,
            key=f"test:{person['id']}:{community_id}:{at.isoformat()}:{reason}:{amount}",
            now=at,
            timezone=timezone,
            rules=PointsRules(),
        )
        await uow.commit()


async def balance(bot: BotHarness, person: updates.JsonDict, community_id: int = GROUP_ID) -> int:
    """The member's stored points balance in the community."""
    async with bot.uow() as uow:
        return await uow.points.balance(community_id, int(person["id"]))


async def ledger(
    bot: BotHarness, person: updates.JsonDict, community_id: int = GROUP_ID
) -> list[tuple[str, int, str]]:
    """The member's ledger entries in the community, oldest first: (kind, amount, reason)."""
    entries = await rows(bot, tables.PointsEntry)
    return [
        (entry.kind, entry.amount, entry.reason)
        for entry in sorted(entries, key=lambda entry: entry.id or 0)
        if entry.member_id == person["id"] and entry.community_id == community_id
    ]


def reactions(bot: BotHarness) -> list[str]:
    """The emoji of every reaction the bot set, in order."""
    return [call.params["reaction"][0]["emoji"] for call in bot.session.of("setMessageReaction")]


def recent_lines(summary: str) -> list[str]:
    """The lines under "Recent" in a /points answer."""
    lines = summary.splitlines()
    return lines[lines.index("<b>Recent</b>") + 1 :]
