"""Authorization: every operator command and every operator button, tried by a member, by
the operator of another community, and as buttons forged or copied to point at this
community's objects. Each is refused (or ignored), changes nothing of this community, and
tells the sender nothing about its members.

The cases are tables; the tests also check that the tables cover every command of the
operators' /help and every kind of button the bot takes, so that a new command or button
without a case fails here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey

from hearth.domain.announcements import Audience, NewAnnouncement
from hearth.domain.schedules import parse_schedule
from hearth.handlers import texts
from hearth.simulate import updates
from hearth.storage.rewards import RedemptionRow
from tests.conftest import BotHarness
from tests.handlers.common import (
    ADMIN,
    ALICE,
    CAROL,
    DAVE,
    GROUP,
    GROUP_ID,
    NOW,
    OTHER_GROUP,
    OTHER_GROUP_ID,
    admins,
    bot_serves_group,
    members_of,
    rows,
    said,
    says_privately,
    starts_the_bot,
)
from tests.reliability.conftest import Databases
from tests.reliability.test_fuzz import in_every_language, registered_buttons
from tests.reliability.world import Furnishings, changed_rows, furnish, redeem_button, snapshot
from tests.telegram import Call

# A member of this community only: her name must never reach anyone else.
ZELDA = updates.user(110, "Zelda", last_name="Quartz", username="zq_owner")
SECRETS = ("Zelda", "Quartz")

# Every operator command, with arguments that would act on this community (and on Zelda)
# if the sender were allowed to. {reward}, {event}… are this community's objects.
OPERATOR_COMMANDS: dict[str, list[str]] = {
    "stats": ["", "30d", "channels", "channels 90", "conversions", "conversions 90 service"],
    "member": ["@zq_owner", str(ZELDA["id"])],
    "segments": [""],
    "cohorts": ["", "4"],
    "digest": ["", "off"],
    "console": [""],
    "nudges": ["", "preview", "pause", "cap 9", "holdout 50", "template light Come back!"],
    "tag": ["@zq_owner spy"],
    "untag": ["@zq_owner vip"],
    "tags": [""],
    "tagged": ["vip"],
    "export": ["members csv", "points xlsx", "members phones", "conversions xlsx phones"],
    "forget": ["@zq_owner"],
    "welcome": ["off"],
    "grant": ["@zq_owner 500 bribe", "@alice 500 bribe"],
    "deduct": ["@zq_owner 50 fine"],
    "points_rules": ["", "checkin 999"],
    "milestones": ["off"],
    "reward_new": ["1 5 Free car"],
    "reward_archive": ["{reward}"],
    "redemptions": [""],
    "codes": ["{reward}"],
    "event_new": [""],
    "event_edit": ["{event} title Cancelled!", "{event} capacity 1"],
    "event_cancel": ["{event}"],
    "event_code": ["{event}"],
    "event_report": ["{event}"],
    "announce": [""],
    "announcements_list": [""],
    "outbox": [""],
    "quiz_import": [""],
    "import_conversions": ["", "{group}"],
    "draw_new": ["1 free 2026-03-20 18:00 A new car"],
    "draw_cancel": ["1"],
    "honour_new": ["Distance unit=km approval=yes"],
    "inbox": [""],
    "reply": ["1 Thanks, Zelda!"],
    "missions": ["", "off"],
    "profile_questions": [""],
    "service_settings": ["", "on", "months 1", "booking https://thief.example"],
    "service_requests": [""],
    "channel_new": ["Thief's Garage"],
    "channels": [""],
    "channel": ["{channel}"],
    "channel_rename": ["{channel} Stolen"],
    "channel_archive": ["{channel}"],
    "channel_contact": ["{channel} @zq_owner", "{channel} off"],
}
# Operator commands that live inside a member command.
OPERATOR_SUBCOMMANDS = [
    "/quiz start 1", "/quiz stop", "/quiz schedule every day 20:00", "/quiz schedules",
    "/quiz unschedule 1",
]  # fmt: skip

# Every operator button (by its callback data's prefix), pointing at this community or
# its objects.
OPERATOR_BUTTONS: dict[str, list[str]] = {
    "stats1": ["stats1:{group}:7"],  # StatsChoice
    "adj1": ["{copied_grant}", "adj1:abcdefgh:1"],  # AdjustmentAnswer
    "sgo1": ["sgo1:{group}"],  # SegmentsOf
    "sgl1": ["sgl1:{group}:s:new:0", "sgl1:{group}:t:vip:0"],  # SegmentList
    "sgx1": ["sgx1:{group}:t:vip"],  # SegmentExport
    "tgo1": ["tgo1:{group}"],  # TagsOf
    "exo1": [  # ExportOf
        "exo1:{group}:members:csv", "exo1:{group}:points:xlsx", "exo1:{group}:attribution:csv",
    ],
    "exp1": ["exp1:{group}:members:csv", "exp1:{group}:conversions:xlsx"],  # …WithPhonesOf
    "mbc1": ["mbc1:{group}:{zelda}"],  # MemberCardOf
    "rw1n": ["rw1n:{group}:abcdefgh"],  # NewRewardFor
    "rw1s": ["rw1s:{redemption}:f", "rw1s:{redemption}:c"],  # SettleRedemption
    "ev1c": ["ev1c:{group}:abcdefgh"],  # NewEventFor
    "ev1p": ["ev1p:abcdefgh:1"],  # EventPublish
    "an1c": ["an1c:{group}"],  # AnnounceFor
    "an1a": ["an1a:group_private"],  # AudienceChoice
    "an1k": ["an1k:1"],  # AnnounceDecision
    "an1m": [f"an1m:{{announcement}}:{action}" for action in "prdxk"],  # ManageAnnouncement
    "fgt1": ["{copied_forget}", "fgt1:abcdefgh:1"],  # ForgetAnswer
    "dw1n": ["dw1n:{group}:abcdefgh"],  # NewDrawFor
    "fb1a": ["fb1a:1:r", "fb1a:1:c", "fb1a:1:p"],  # FeedbackAct
    "fb1p": ["fb1p:{group}:0"],  # InboxPage
    "hn1d": ["hn1d:1:1", "hn1d:1:0"],  # ReportDecision
    "ms1": ["ms1:{group}::0", "ms1:{group}:intro:1"],  # MissionEdit
    "sr1": ["sr1:1"],  # ServiceRequestDone
    "srp1": ["srp1:{group}:0"],  # ServiceRequestPage
    "cc1": [  # CommunityChoice: the operators' actions
        "cc1:digest:{group}", "cc1:cohorts_4:{group}", "cc1:nudges:{group}",
        "cc1:nudges.preview:{group}", "cc1:nudges.pause:{group}", "cc1:nudges.cap.9:{group}",
        "cc1:nudges.holdout.50:{group}", "cc1:nudges.templates:{group}",
        "cc1:service_settings:{group}", "cc1:service_requests:{group}",
        "cc1:channels:{group}", "cc1:channel_new:{group}", "cc1:chstats_30:{group}",
        "cc1:conv_import:{group}",
        "cc1:convstats_30:{group}", "cc1:convstats_90.service:{group}",
    ],
}  # fmt: skip
# Buttons every member may press (on their own behalf): not this test's business.
MEMBER_BUTTONS = {
    "lang1", "cc1", "ng1", "np1", "rw1p", "rw1c", "rw1k", "ev1r", "ev1s", "ev1n", "an1o",
    "fme1", "dw1e", "ex1a", "fb1f", "hn1b", "pf1", "car1", "sv1",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """This community, furnished, and what its objects are called."""

    bot: BotHarness
    furnished: Furnishings
    names: dict[str, Any]

    def fill(self, template: str) -> str:
        return template.format(**self.names)


@pytest.fixture
async def target(databases: Databases) -> Target:
    """Adam owns this group (Zelda, Alice, Boris, Carol and Dave are members), with a
    reward, a pending redemption, an event, a daily announcement and Zelda tagged "vip".
    Dave owns another group (Carol is there too). Adam has a grant and an erasure of Zelda
    waiting for his confirmation: their buttons are the ones a thief would copy."""
    bot = await databases.start("target")
    furnished = await furnish(bot, members=(ZELDA, DAVE))
    bot.session.admins[OTHER_GROUP_ID] = admins(DAVE)
    await bot_serves_group(bot, chat=OTHER_GROUP)
    await members_of(bot, DAVE, CAROL, chat=OTHER_GROUP)
    await starts_the_bot(bot, ADMIN, DAVE, CAROL, ZELDA)
    await bot.feed(updates.callback_query(ALICE, redeem_button(ALICE, furnished.reward_id), NOW))
    [redemption] = await rows(bot, RedemptionRow)
    async with bot.uow() as uow:
        schedule = parse_schedule("every day 20:00", today=NOW.date())
        announcement = await uow.announcements.add(
            NewAnnouncement(GROUP_ID, "Club night tonight", None, schedule, Audience.GROUP),
            actor_id=ADMIN["id"],
            now=NOW,
        )
        channel = await uow.channels.add(GROUP_ID, "Dealer Pudong", NOW)
        assert channel is not None
        await uow.commit()
    await bot.feed(said(ADMIN, "/tag @zq_owner vip"))
    bot.session.clear()
    await bot.feed(says_privately(ADMIN, "/grant @zq_owner 50 thanks"))
    await bot.feed(says_privately(ADMIN, "/forget @zq_owner"))
    copied_grant, copied_forget = (
        next(data for data in call.button_data() if data.endswith(":1"))
        for call in bot.session.messages_to(ADMIN["id"])
    )
    bot.session.clear()
    names = {
        "group": GROUP_ID,
        "zelda": ZELDA["id"],
        "reward": furnished.reward_id,
        "event": furnished.event_id,
        "redemption": redemption.id,
        "announcement": announcement.id,
        "channel": channel.id,
        "copied_grant": copied_grant,
        "copied_forget": copied_forget,
    }
    return Target(bot, furnished, names)


# -- what this community holds, and what was said


def of_this_community(state: dict[str, list[Any]], target: Target) -> dict[str, list[Any]]:
    """The rows that belong to this community, its objects, or Zelda."""
    events, rewards = {target.names["event"]}, {target.names["reward"]}
    announcements = {target.names["announcement"]}

    def belongs(table: str, row: dict[str, Any]) -> bool:
        return (
            row.get("community_id") == GROUP_ID
            or (table == "member" and row["id"] == ZELDA["id"])
            or row.get("member_id") == ZELDA["id"]
            or row.get("event_id") in events
            or row.get("reward_id") in rewards
            or row.get("announcement_id") in announcements
        )

    return {
        table: [row for row in found if belongs(table, dict(row))] for table, found in state.items()
    }


def said_to(calls: list[Call]) -> list[str]:
    """Everything the bot said: texts, captions, alerts, and the files it sent."""
    found = []
    for call in calls:
        found += [str(call.params[key]) for key in ("text", "caption") if call.params.get(key)]
        found += [content.decode("utf-8", "replace") for content in call.uploads.values()]
    return found


@dataclass
class Attempt:
    who: dict[str, Any]
    where: str  # "group" or "private"
    what: str  # a command's text or a button's data

    def update(self) -> updates.JsonDict:
        chat = GROUP if self.where == "group" else updates.private(self.who)
        if self.what.startswith("/"):
            return updates.message(chat, self.who, self.what, NOW)
        return updates.callback_query(self.who, self.what, NOW, chat=chat)


async def attempt(target: Target, tried: Attempt) -> list[str]:
    """Feed one attempt; the problems found (nothing changed here, nothing leaked)."""
    bot = target.bot
    before = of_this_community(await snapshot(bot), target)
    bot.session.clear()
    await bot.feed(tried.update())
    answers = said_to(bot.session.calls)
    changed = changed_rows(before, of_this_community(await snapshot(bot), target))
    await forget_conversation(bot, tried.who)
    problems = [f"changed {table}: {row}" for table, row in changed if not _own(tried, row)]
    problems += [f"leaked {answer[:120]!r}" for answer in answers if _leaks(answer)]
    return [f"{tried.who['first_name']} in {tried.where}: {tried.what!r}: {p}" for p in problems]


def _own(tried: Attempt, row: dict[str, Any]) -> bool:
    """The sender's own traces of talking in the group: their activity, nothing else."""
    return row.get("member_id") == tried.who["id"] and "kind" in row and "update_id" in row


def _leaks(answer: str) -> bool:
    return any(secret in answer for secret in SECRETS)


async def forget_conversation(bot: BotHarness, person: dict[str, Any]) -> None:
    """End any dialog the attempt opened, so that the next attempt starts afresh."""
    storage = bot.hearth.dispatcher.storage
    for chat_id in (int(person["id"]), GROUP_ID, OTHER_GROUP_ID):
        key = StorageKey(bot_id=bot.hearth.bot.id, chat_id=chat_id, user_id=int(person["id"]))
        await storage.set_state(key, None)
        await storage.set_data(key, {})


def refusals(bot: BotHarness) -> set[str]:
    """What a sender who may not do something is told: not for you, or (a quiz round
    asked for in private) to ask in the group, where they will be refused."""
    found = {
        *in_every_language(bot, texts.not_an_operator),
        *in_every_language(bot, texts.stale_button),
    }
    for text in OPERATOR_SUBCOMMANDS:
        found |= set(in_every_language(bot, partial(texts.group_only, _command_of(text))))
    return found


def _command_of(text: str) -> str:
    """ "quiz start" of "/quiz start 1"."""
    return " ".join(text.removeprefix("/").split()[:2])


def command_attempts(target: Target, who: dict[str, Any], where: str) -> list[Attempt]:
    return [
        Attempt(who, where, f"/{command} {target.fill(arguments)}".rstrip())
        for command, cases in OPERATOR_COMMANDS.items()
        for arguments in cases
    ] + [Attempt(who, where, text) for text in OPERATOR_SUBCOMMANDS]


def button_attempts(target: Target, who: dict[str, Any], where: str) -> list[Attempt]:
    return [
        Attempt(who, where, target.fill(data))
        for cases in OPERATOR_BUTTONS.values()
        for data in cases
    ]


async def try_all(
    target: Target, attempts: list[Attempt], *, answered: Callable[[list[str]], bool]
) -> list[str]:
    problems = []
    for tried in attempts:
        problems += await attempt(target, tried)
        replies = said_to(target.bot.session.calls)
        if not answered(replies):
            shown = [reply[:80] for reply in replies]
            problems.append(f"{tried.who['first_name']} in {tried.where}: {tried.what!r}: {shown}")
    return problems


# -- the tables cover everything


def test_every_operator_command_of_the_help_has_a_case() -> None:
    assert set(OPERATOR_COMMANDS) == {name for name, _ in texts.OPERATOR_COMMANDS}


def test_every_button_is_a_members_or_an_operators_and_every_operators_has_a_case() -> None:
    registered = {kind.__prefix__ for kind in registered_buttons()}
    assert registered <= MEMBER_BUTTONS | set(OPERATOR_BUTTONS)
    assert set(OPERATOR_BUTTONS) - {"cc1"} == registered - MEMBER_BUTTONS
    assert all(OPERATOR_BUTTONS.values())


# -- (a) a member of this community


async def test_a_member_is_refused_every_operator_command_in_the_group_and_in_private(
    target: Target,
) -> None:
    refused = refusals(target.bot)
    attempts = [
        *command_attempts(target, ALICE, "group"),
        *command_attempts(target, ALICE, "private"),
    ]

    problems = await try_all(target, attempts, answered=lambda replies: set(replies) <= refused)

    assert not problems, "\n".join(problems)


# -- (b) the operator of another community


async def test_another_communitys_operator_cannot_act_here_in_the_group_or_in_private(
    target: Target,
) -> None:
    refused = refusals(target.bot)
    in_group = command_attempts(target, DAVE, "group")
    in_private = command_attempts(target, DAVE, "private")

    # In this group Dave is a member: refused. In private he is an operator (of his own
    # group): whatever he is told is about his group, never about this one.
    problems = await try_all(target, in_group, answered=lambda replies: set(replies) <= refused)
    problems += await try_all(target, in_private, answered=lambda replies: True)

    assert not problems, "\n".join(problems)


# -- (c) buttons forged or copied to point at this community


@pytest.mark.parametrize(
    ("who", "where"),
    [
        pytest.param(DAVE, "private", id="other-operator-in-private"),
        pytest.param(DAVE, "group", id="other-operator-in-the-group"),
        pytest.param(ALICE, "private", id="member-in-private"),
        pytest.param(ALICE, "group", id="member-in-the-group"),
    ],
)
async def test_operator_buttons_pointing_at_this_community_are_refused(
    target: Target, who: dict[str, Any], where: str
) -> None:
    refused = refusals(target.bot)
    # An operator (of another group) in private may be told that there is no such thing
    # among his communities: what he is told is checked for leaks, not for its words.
    operator_in_private = who is DAVE and where == "private"

    problems = await try_all(
        target,
        button_attempts(target, who, where),
        answered=lambda replies: operator_in_private or set(replies) <= refused,
    )

    assert not problems, "\n".join(problems)


async def test_the_copied_buttons_still_work_for_the_operator_they_were_made_for(
    target: Target,
) -> None:
    """The thieves' presses above used real buttons: this one is what they would have done."""
    await target.bot.feed(updates.callback_query(ADMIN, target.names["copied_grant"], NOW))

    async with target.bot.uow() as uow:
        assert await uow.points.balance(GROUP_ID, ZELDA["id"]) == 150
