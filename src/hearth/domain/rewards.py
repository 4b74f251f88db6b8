"""The rewards store: what a reward is, who may redeem it, and the operator's command for it.

One pure ``eligibility`` decides both what /rewards lists and whether a redemption may go
ahead, so that the list never offers what redeeming would refuse.
"""

from __future__ import annotations

import csv
import enum
import re
from collections.abc import Collection, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hearth.domain.calendar import start_of_local_day
from hearth.domain.errors import HearthError
from hearth.domain.points import Tier

MAX_COST = 1_000_000
MAX_STOCK = 1_000_000
MAX_TITLE = 100  # a button label must stay readable
MAX_CODE = 64
MAX_CODES_PER_IMPORT = 10_000
UNLIMITED_WORDS = frozenset({"unlimited", "∞", "不限"})
_CODE = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: what a till can type
_FLAG = re.compile(r"([A-Za-z]+)=(.*)")
_FLAGS = frozenset({"limit", "tier", "from", "until", "codes"})


class Problem(enum.StrEnum):
    """Why a member cannot redeem a reward right now."""

    ARCHIVED = "archived"  # withdrawn by the operators (or never existed)
    NOT_A_MEMBER = "not_a_member"  # the reward belongs to a community the member is not in
    NOT_YET = "not_yet"
    ENDED = "ended"
    TIER_TOO_LOW = "tier_too_low"
    LIMIT_REACHED = "limit_reached"
    SOLD_OUT = "sold_out"
    NOT_ENOUGH_POINTS = "not_enough_points"  # only the catalogue knows the balance up front


class RedemptionStatus(enum.StrEnum):
    """Where a redemption stands: operators fulfil or cancel a pending one."""

    PENDING = "pending"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class OutOfStock(HearthError):
    """Nothing left to hand out: the stock or the pool of voucher codes is empty."""


class RedemptionLimitReached(HearthError):
    """The member already redeemed this reward as often as it allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


class RewardUnavailable(HearthError):
    """The reward cannot be redeemed: archived, outside its window, or above the member's tier."""

    def __init__(self, problem: Problem, reward: Reward | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.reward = reward


class UnknownReward(HearthError):
    """An operator named a reward that does not exist in a community they operate."""

    def __init__(self, reward_id: int) -> None:
        super().__init__(reward_id)
        self.reward_id = reward_id


class UnknownRedemption(HearthError):
    """An operator acted on a redemption that does not exist in a community they operate."""

    def __init__(self, redemption_id: int) -> None:
        super().__init__(redemption_id)
        self.redemption_id = redemption_id


class RedemptionClosed(HearthError):
    """A fulfilled redemption cannot be cancelled, nor a cancelled one fulfilled."""

    def __init__(self, status: RedemptionStatus) -> None:
        super().__init__(status)
        self.status = status


class InvalidRewardSpec(HearthError):
    """A part of /reward_new could not be understood; ``part`` names it (cost, stock, …)."""

    def __init__(self, part: str, value: str = "") -> None:
        super().__init__(part, value)
        self.part = part
        self.value = value


@dataclass(frozen=True, slots=True)
class Reward:
    """Something members can redeem with points."""

    id: int
    community_id: int
    title: str
    cost: int
    stock: int | None  # None: unlimited
    per_member_limit: int | None  # None: as often as the member likes
    tier_required: str | None  # a tier name; None: every member
    available_from: datetime | None  # UTC, inclusive
    available_until: datetime | None  # UTC, exclusive
    has_codes: bool  # each redemption hands out one voucher code from the reward's pool
    active: bool  # False once archived


@dataclass(frozen=True, slots=True)
class NewReward:
    """A reward about to be stored."""

    title: str
    cost: int
    stock: int | None
    per_member_limit: int | None = None
    tier_required: str | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    has_codes: bool = False


@dataclass(frozen=True, slots=True)
class Redemption:
    """A member's redemption of one reward, at the cost it had then."""

    id: int
    reward_id: int
    community_id: int
    member_id: int
    cost: int
    status: RedemptionStatus
    code: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RedemptionLine:
    """A redemption as operators read it in /redemptions."""

    redemption: Redemption
    reward_title: str
    member_name: str


def eligibility(
    reward: Reward,
    *,
    now: datetime,
    tier: Tier,
    tiers: Sequence[Tier],
    redeemed_by_member: int,
    codes_left: int | None = None,
) -> Problem | None:
    """The first reason the member cannot redeem ``reward`` now, or None when they can.

    ``redeemed_by_member`` counts the member's redemptions of this reward that were not
    cancelled; ``codes_left`` (when known) is what remains in the reward's code pool.
    """
    if not reward.active:
        return Problem.ARCHIVED
    if reward.available_from is not None and now < reward.available_from:
        return Problem.NOT_YET
    if reward.available_until is not None and now >= reward.available_until:
        return Problem.ENDED
    if reward.tier_required is not None and not reaches(tier, reward.tier_required, tiers):
        return Problem.TIER_TOO_LOW
    if reward.per_member_limit is not None and redeemed_by_member >= reward.per_member_limit:
        return Problem.LIMIT_REACHED
    if reward.stock == 0 or (reward.has_codes and codes_left == 0):
        return Problem.SOLD_OUT
    return None


def reaches(tier: Tier, required: str, tiers: Sequence[Tier]) -> bool:
    """Whether ``tier`` is ``required`` or above it; an unknown tier name is never reached."""
    wanted = next((known for known in tiers if known.name == required), None)
    return wanted is not None and tier.threshold >= wanted.threshold


def refusal(problem: Problem, reward: Reward) -> HearthError:
    """The error that stops a redemption for ``problem``."""
    if problem is Problem.SOLD_OUT:
        return OutOfStock()
    if problem is Problem.LIMIT_REACHED:
        return RedemptionLimitReached(reward.per_member_limit or 0)
    return RewardUnavailable(problem, reward)


# -- /reward_new <cost> <stock|unlimited> <title…> [limit=N] [tier=gold] [from=…] [until=…]


@dataclass(frozen=True, slots=True)
class RewardDraft:
    """An operator's /reward_new, understood; dates are days in the community's time zone."""

    title: str
    cost: int
    stock: int | None
    per_member_limit: int | None = None
    tier_required: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    has_codes: bool = False

    def for_community(self, timezone: str) -> NewReward:
        """The reward to store: the window runs from the first day's start to the last day's end."""
        return NewReward(
            title=self.title,
            cost=self.cost,
            stock=self.stock,
            per_member_limit=self.per_member_limit,
            tier_required=self.tier_required,
            available_from=(
                start_of_local_day(self.first_day, timezone) if self.first_day else None
            ),
            available_until=(
                start_of_local_day(self.last_day + timedelta(days=1), timezone)
                if self.last_day
                else None
            ),
            has_codes=self.has_codes,
        )


def parse_reward_command(args: str | None, *, tier_names: Collection[str]) -> RewardDraft:
    """Understand the arguments of /reward_new; raises InvalidRewardSpec naming the bad part.

    ``limit=``, ``tier=``, ``from=``, ``until=`` and ``codes=yes|no`` may stand anywhere
    after the stock; every other word belongs to the title.
    """
    words = (args or "").split()
    if len(words) < 3:
        raise InvalidRewardSpec("usage")
    cost = _whole_number(words[0], "cost", 1, MAX_COST)
    stock = (
        None
        if words[1].lower() in UNLIMITED_WORDS
        else _whole_number(words[1], "stock", 1, MAX_STOCK)
    )
    flags: dict[str, str] = {}
    title_words: list[str] = []
    for word in words[2:]:
        flag = _FLAG.fullmatch(word)
        if flag is None:
            title_words.append(word)
            continue
        name, value = flag.group(1).lower(), flag.group(2)
        if name not in _FLAGS or name in flags:
            raise InvalidRewardSpec("flag", word)
        flags[name] = value
    title = " ".join(title_words)
    if not title or len(title) > MAX_TITLE:
        raise InvalidRewardSpec("title", title)
    tier = flags.get("tier", "").lower() or None
    if tier is not None and tier not in tier_names:
        raise InvalidRewardSpec("tier", tier)
    first_day = _day(flags["from"], "from") if "from" in flags else None
    last_day = _day(flags["until"], "until") if "until" in flags else None
    if first_day and last_day and last_day < first_day:
        raise InvalidRewardSpec("window", f"{first_day}…{last_day}")
    codes = flags.get("codes", "no").lower()
    if codes not in {"yes", "no"}:
        raise InvalidRewardSpec("codes", codes)
    return RewardDraft(
        title=title,
        cost=cost,
        stock=stock,
        per_member_limit=(
            _whole_number(flags["limit"], "limit", 1, MAX_STOCK) if "limit" in flags else None
        ),
        tier_required=tier,
        first_day=first_day,
        last_day=last_day,
        has_codes=codes == "yes",
    )


def _whole_number(word: str, part: str, lowest: int, highest: int) -> int:
    if not word.isascii() or not word.isdigit() or not lowest <= int(word) <= highest:
        raise InvalidRewardSpec(part, word)
    return int(word)


def _day(word: str, part: str) -> date:
    if len(word) == 10:  # YYYY-MM-DD only: fromisoformat would also take 20260301
        with suppress(ValueError):
            return date.fromisoformat(word)
    raise InvalidRewardSpec(part, word)


# -- voucher codes from a CSV or text file


class CodeRejection(enum.StrEnum):
    """Why a line of a code file was not taken."""

    TOO_LONG = "too_long"
    BAD_CHARACTERS = "bad_characters"
    TOO_MANY = "too_many"


@dataclass(frozen=True, slots=True)
class CodeFile:
    """The codes of an uploaded file, in order, with the lines that were refused."""

    codes: list[str] = field(default_factory=list)  # distinct, first occurrence kept
    repeated: int = 0  # lines that repeat a code already in this file
    rejected: list[tuple[int, CodeRejection]] = field(default_factory=list)  # (line, why)


def decode_code_file(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (with or without BOM), else GB18030 (Excel in China)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030", errors="replace")


def parse_code_file(text: str) -> CodeFile:
    """One code per line, or the first column of a CSV; blank lines and a ``code`` header skip."""
    codes: list[str] = []
    seen: set[str] = set()
    repeated = 0
    rejected: list[tuple[int, CodeRejection]] = []
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        code = row[0].strip() if row else ""
        if not code or (number == 1 and code.lower() in {"code", "codes", "voucher"}):
            continue
        if code in seen:
            repeated += 1
        elif len(code) > MAX_CODE:
            rejected.append((number, CodeRejection.TOO_LONG))
        elif _CODE.fullmatch(code) is None:
            rejected.append((number, CodeRejection.BAD_CHARACTERS))
        elif len(codes) >= MAX_CODES_PER_IMPORT:
            rejected.append((number, CodeRejection.TOO_MANY))
        else:
            seen.add(code)
            codes.append(code)
    return CodeFile(codes=codes, repeated=repeated, rejected=rejected)
