"""Fuzz: hostile text, every command with hostile arguments, forged and malformed buttons,
odd quiz answers. Nothing escapes the dispatcher, nothing is logged as an unexpected error,
every reply is one Telegram would take, and a member changes only what is theirs.

One Hearth serves all the examples of a test (building one per example would take most
of the time); hypothesis drives it from a synchronous test through its own event loop.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import string
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData, CallbackQueryFilter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth.handlers import build_router, texts
from hearth.simulate import updates
from hearth.simulate.clock import VirtualClock
from tests.conftest import BACKENDS, BotHarness
from tests.handlers.common import (
    ALICE,
    BORIS,
    GROUP,
    GROUP_ID,
    NOW,
    OPERATOR,
    OTHER_GROUP_ID,
)
from tests.reliability.conftest import Databases
from tests.reliability.world import Furnishings, changed_rows, furnish, snapshot
from tests.telegram import BOT_USERNAME, REFUSED_TEXTS

EVE = updates.user(105, "Eve", username="eve")  # has never been in the group

# Points a member earns by their own doing; anything else in their ledger needs an operator.
SELF_EARNED = {"checkin", "first_checkin", "message", "quiz", "quiz_practice", "comeback", "event"}
# Tables only operators (or the scheduler) write to: a member's request changes none of them.
OPERATORS_ONLY = {
    "announcement", "announcement_run", "attachment", "audit_log", "community", "event",
    "member_tag", "membership_stage", "nudge_settings", "nudge_template", "question",
    "quiz_round", "quiz_schedule", "redemption", "reward", "stage_change", "voucher_code",
}  # fmt: skip


# -- what the bot registers


def _routers(router: Router) -> Iterator[Router]:
    yield router
    for child in router.sub_routers:
        yield from _routers(child)


def registered_commands() -> list[str]:
    """Every command some handler of the bot answers."""
    found = {
        command
        for router in _routers(build_router())
        for handler in router.message.handlers
        for item in handler.filters or []
        if isinstance(item.callback, Command)
        for command in item.callback.commands
        if isinstance(command, str)
    }
    return sorted(found)


def registered_buttons() -> list[type[CallbackData]]:
    """Every kind of callback data some handler of the bot takes."""
    found = {
        item.callback.callback_data
        for router in _routers(build_router())
        for handler in router.callback_query.handlers
        for item in handler.filters or []
        if isinstance(item.callback, CallbackQueryFilter)
    }
    return sorted(found, key=lambda kind: kind.__prefix__)


# -- hostile values

HUGE = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1, -(10**30)]
ODD_TEXT = [
    "", " ", "0", "-0", "+1", "-1", "00001", "1e309", "NaN", "inf", "0x1F", "1_000",
    "¹²³", "١٢٣", "𝟙𝟚𝟛", "五", "½",  # superscript, Arabic-Indic, mathematical, CJK digits
    "\u200f", "\u200e", "\u202e", "\u200d", "\u200b", "\ufeff", "\u2066",  # RTL, ZWJ, BOM…
    "👨‍👩‍👧‍👦", "🏳️‍🌈", "𝕳𝖊𝖆𝖗𝖙𝖍", "𓀀", "a\u0301" * 40,  # astral and combining characters
    "<b>", "</i>", "<a href='x'>", "&amp;", "&#0;", "${x}", "%s%n", "'; DROP TABLE member;--",
    "\x00", "\r\n", "\t", "\\", ":", "::", "@", "@a", "@alice", "@" + "a" * 40, "#", "#1",
    "#-5", "#99999999999999999999", "on", "off", "ON", "preview", "pause", "cap", "holdout",
    "templates", "start", "stop", "top", "topics", "week", "month", "all", "csv", "xlsx",
    "members", "activity", "points", "events", "7d", "0d", "-7d", "99999d", "unlimited",
    "limit=0", "limit=-1", "tier=", "tier=diamond", "02-29", "02-30", "13-01", "00-00",
    "2026-02-30 25:61", "2026-03-10 14:00-13:00", "1970-01-01", "9999-12-31", "title",
    "capacity", "place", "starts",
]  # fmt: skip
# Longer than Telegram lets a member write (4096), as long as a client could try to send.
TOO_LONG = ["x" * 4097, "😀" * 2100, "\u200d" * 4100, "<" * 4100, "9" * 4200]

TEXT_CHARACTERS = st.characters(codec="utf-8")  # every character but lone surrogates
atoms = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.sampled_from(HUGE).map(str),
    st.integers().map(str),
    st.text(TEXT_CHARACTERS, max_size=30),
)
hostile_text = st.one_of(
    st.lists(atoms, max_size=6).map(" ".join),
    st.sampled_from(TOO_LONG),
    st.text(TEXT_CHARACTERS, max_size=300),
)


def command_texts(commands: list[str]) -> st.SearchStrategy[str]:
    """``/command`` (sometimes addressed to the bot, sometimes to another one) and hostile
    arguments."""
    mention = st.sampled_from(["", "", f"@{BOT_USERNAME}", "@other_bot", "@"])
    return st.builds(
        lambda name, to, args, glue: f"/{name}{to}{glue}{args}".rstrip(" ") or "/",
        st.sampled_from(commands),
        mention,
        hostile_text,
        st.sampled_from([" ", "  ", "\n", "\u00a0", ""]),
    )


def _field_values(annotation: Any, furnished: Furnishings) -> st.SearchStrategy[str]:
    """Hostile renderings of one callback data field."""
    real = [furnished.reward_id, furnished.event_id, furnished.nudge_id, GROUP_ID, OTHER_GROUP_ID]
    anything = st.one_of(st.sampled_from(ODD_TEXT), st.text(TEXT_CHARACTERS, max_size=20))
    kinds = [kind for kind in (*get_args(annotation), annotation) if isinstance(kind, type)]
    if bool in kinds:
        return st.one_of(st.sampled_from(["0", "1", "true", "2", "-1", "yes"]), anything)
    if int in kinds:
        numbers = st.one_of(st.sampled_from(HUGE + real + [0, 1, -1, 2]), st.integers())
        return st.one_of(numbers.map(str), anything)
    enums = [kind for kind in kinds if issubclass(kind, enum.Enum)]
    if enums:
        values = [str(member.value) for member in enums[0]]
        return st.one_of(st.sampled_from(values), anything)
    known = ["checkin", "points", "rewards", "top_week", "quiz", "digest", "nudges", "cohorts_4"]
    return st.one_of(st.sampled_from(known), anything)


def forged_data(kind: type[CallbackData], furnished: Furnishings) -> st.SearchStrategy[str]:
    """Callback data that starts like ``kind``'s: fields hostile, missing or one too many."""
    fields = [_field_values(info.annotation, furnished) for info in kind.model_fields.values()]
    parts = st.tuples(*fields).map(list)
    shaped = st.one_of(
        parts,
        parts.map(lambda values: values[:-1]),
        st.tuples(parts, st.lists(st.sampled_from(["x", "", "1", "ev1r"]), min_size=1)).map(
            lambda both: both[0] + both[1]
        ),
    )
    return shaped.map(lambda values: ":".join([kind.__prefix__, *values]))


def any_button(furnished: Furnishings) -> st.SearchStrategy[str]:
    return st.one_of(
        *[forged_data(kind, furnished) for kind in registered_buttons()],
        st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
        st.text(string.printable, max_size=64),
    )


# -- running examples against one Hearth


class Fuzzing:
    """One furnished Hearth, its event loop, and the errors it logged."""

    def __init__(
        self,
        runner: asyncio.Runner,
        bot: BotHarness,
        furnished: Furnishings,
        errors: list[logging.LogRecord],
    ) -> None:
        self.runner = runner
        self.bot = bot
        self.furnished = furnished
        self.errors = errors  # every record logged at ERROR level, by anything
        self.next_update_id = 100_000

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return self.runner.run(work)

    async def feed(self, raw: updates.JsonDict) -> None:
        self.next_update_id += 1
        REFUSED_TEXTS.clear()
        self.bot.session.clear()
        await self.bot.feed({**raw, "update_id": self.next_update_id})
        await self.bot.flush()
        assert not REFUSED_TEXTS, f"Telegram would refuse: {REFUSED_TEXTS}"
        assert not self.errors, [record.getMessage() for record in self.errors]

    async def feed_as_member(self, actor: updates.JsonDict, raw: updates.JsonDict) -> None:
        """Feed an update of ``actor`` (not an operator): only what is theirs may change."""
        before = await snapshot(self.bot)
        await self.feed(raw)
        changed = changed_rows(before, await snapshot(self.bot))
        foreign = [(table, row) for table, row in changed if not _theirs(table, row, actor)]
        assert not foreign, "\n".join(f"{table}: {row}" for table, row in foreign)


def _theirs(table: str, row: dict[str, Any], actor: updates.JsonDict) -> bool:
    """Whether a changed row is one the member ``actor`` may change by their own doing."""
    if table in OPERATORS_ONLY:
        return False
    if table == "processed_update":
        return True
    if table == "points_entry":
        reason = str(row["reason"])
        if reason not in SELF_EARNED and not reason.startswith("milestone_"):
            return False
    if table == "member":
        return bool(row["id"] == actor["id"])
    # A row is a member's by its member, or by its private chat (a practice quiz's poll).
    return actor["id"] in (row.get("member_id"), row.get("chat_id"))


def in_every_language(bot: BotHarness, text: Callable[[], str]) -> list[str]:
    """``text`` as Hearth renders it in each language it speaks."""
    i18n = bot.hearth.i18n
    found = []
    for locale in i18n.available_locales:
        with i18n.context(), i18n.use_locale(locale):
            found.append(text())
    return found


class _Errors(logging.Handler):
    def __init__(self, found: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.found = found

    def emit(self, record: logging.LogRecord) -> None:
        self.found.append(record)


def fuzzing(backend: str, directory: Path, examine: Callable[[Fuzzing], None]) -> None:
    """Furnish a Hearth, let ``examine`` feed it examples, check no member became an
    operator, and shut it down."""
    with asyncio.Runner() as runner:
        databases = Databases(backend, directory, VirtualClock(NOW))
        errors: list[logging.LogRecord] = []
        catcher = _Errors(errors)
        logging.getLogger().addHandler(catcher)
        try:
            bot = runner.run(databases.start("fuzz"))
            furnished = runner.run(furnish(bot))
            examine(Fuzzing(runner, bot, furnished, errors))
            refusals = set(in_every_language(bot, texts.not_an_operator))
            for person in (ALICE, BORIS, EVE):  # in the language they may have chosen meanwhile
                bot.session.clear()
                runner.run(bot.feed(updates.message(GROUP, person, "/stats", NOW)))
                [refused] = bot.session.texts_to(GROUP_ID)
                assert refused in refusals
        finally:
            logging.getLogger().removeHandler(catcher)
            runner.run(databases.close())


FUZZ_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,  # the same examples every run: a failure here is a failure everywhere
    database=None,
)


# -- the tests


def test_the_command_list_is_read_from_the_handlers() -> None:
    commands = registered_commands()
    assert {"start", "checkin", "grant", "reward_new", "event_new", "forget_me"} <= set(commands)
    assert len(registered_buttons()) >= 20


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_messages_from_members_never_escape_and_change_only_their_own_rows(
    backend: str, tmp_path: Path
) -> None:
    commands = registered_commands()
    actors = st.sampled_from([ALICE, BORIS, EVE])
    chats = st.sampled_from(["group", "private"])
    texts = st.one_of(command_texts(commands), hostile_text)

    def examine(fuzz: Fuzzing) -> None:
        @FUZZ_SETTINGS
        @given(actor=actors, where=chats, text=texts)
        def example(actor: updates.JsonDict, where: str, text: str) -> None:
            chat = GROUP if where == "group" else updates.private(actor)
            fuzz.run(fuzz.feed_as_member(actor, updates.message(chat, actor, text, NOW)))

        example()

    fuzzing(backend, tmp_path, examine)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forged_buttons_and_odd_quiz_answers_never_escape_and_change_only_their_own_rows(
    backend: str, tmp_path: Path
) -> None:
    def examine(fuzz: Fuzzing) -> None:
        poll_ids = st.sampled_from([fuzz.furnished.poll_id, "", "poll-1", "x" * 300])
        # Telegram sends the indexes of options the poll has (at most 12): only the poll's
        # id and the number of options can be odd.
        options = st.lists(st.integers(0, 11), max_size=3)

        @FUZZ_SETTINGS
        @given(
            actor=st.sampled_from([ALICE, BORIS, EVE]),
            in_group=st.booleans(),
            data=any_button(fuzz.furnished),
            answer=st.one_of(st.none(), st.tuples(poll_ids, options)),
        )
        def example(
            actor: updates.JsonDict,
            in_group: bool,
            data: str,
            answer: tuple[str, list[int]] | None,
        ) -> None:
            if answer is not None:
                raw = updates.poll_answer(actor, answer[0], answer[1])
            else:
                chat = GROUP if in_group else None
                raw = updates.callback_query(actor, data, NOW, chat=chat)
            fuzz.run(fuzz.feed_as_member(actor, raw))

        example()

    fuzzing(backend, tmp_path, examine)


@pytest.mark.parametrize("backend", BACKENDS)
def test_hostile_arguments_from_an_operator_never_escape_and_keep_the_books_straight(
    backend: str, tmp_path: Path
) -> None:
    commands = registered_commands()

    def examine(fuzz: Fuzzing) -> None:
        @FUZZ_SETTINGS
        @given(
            in_group=st.booleans(),
            text=st.one_of(command_texts(commands), hostile_text),
            data=st.one_of(st.none(), any_button(fuzz.furnished)),
        )
        def example(in_group: bool, text: str, data: str | None) -> None:
            chat = GROUP if in_group else updates.private(OPERATOR)
            if data is None:
                raw = updates.message(chat, OPERATOR, text, NOW)
            else:
                raw = updates.callback_query(OPERATOR, data, NOW, chat=chat)
            fuzz.run(fuzz.feed(raw))
            fuzz.run(books_are_straight(fuzz.bot))

        example()

    fuzzing(backend, tmp_path, examine)


async def books_are_straight(bot: BotHarness) -> None:
    """Every balance is the sum of its ledger; no stock below zero; no more redemptions
    of a reward than it had in stock."""
    state = {table: [dict(row) for row in rows] for table, rows in (await snapshot(bot)).items()}
    sums: dict[tuple[int, int], int] = {}
    for entry in state["points_entry"]:
        key = (entry["community_id"], entry["member_id"])
        sums[key] = sums.get(key, 0) + entry["amount"]
    balances = {
        (row["community_id"], row["member_id"]): row["balance"] for row in state["points_balance"]
    }
    assert {key: value for key, value in balances.items() if value} == {
        key: value for key, value in sums.items() if value
    }
    assert all(row["stock"] is None or row["stock"] >= 0 for row in state["reward"])


# -- every command with the numbers that look like numbers and are not

NUMBER_LOOKALIKES = [
    "²", "١٢٣", "𝟙𝟚𝟛", "99999999999999999999", "-1",
    "@alice ² thanks", "@alice 𝟙 thanks", "checkin ²", "start ²", "unschedule ²",
]  # fmt: skip


async def test_every_command_with_a_number_lookalike_gets_an_answer_not_an_error(
    databases: Databases, caplog: pytest.LogCaptureFixture
) -> None:
    """Superscript and other Unicode digits pass ``str.isdigit`` but not ``int``."""
    caplog.set_level(logging.ERROR)
    bot = await databases.start("lookalikes")
    await furnish(bot)
    oops = set(in_every_language(bot, texts.something_went_wrong))
    for command in registered_commands():
        for argument in NUMBER_LOOKALIKES:
            for person, chat in (
                (OPERATOR, GROUP),
                (OPERATOR, updates.private(OPERATOR)),
                (ALICE, updates.private(ALICE)),
            ):
                bot.session.clear()
                await bot.feed(updates.message(chat, person, f"/{command} {argument}", NOW))
                answers = [call.text for call in bot.session.of("sendMessage")]
                assert oops.isdisjoint(answers), f"/{command} {argument}"
    assert [record.getMessage() for record in caplog.records] == []
