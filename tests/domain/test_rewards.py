"""Who may redeem what, how /reward_new reads, and how a file of voucher codes is read."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from hearth.domain.points import DEFAULT_TIERS, Tier
from hearth.domain.rewards import (
    CodeRejection,
    InvalidRewardSpec,
    NewReward,
    OutOfStock,
    Problem,
    RedemptionLimitReached,
    Reward,
    RewardDraft,
    RewardUnavailable,
    decode_code_file,
    eligibility,
    parse_code_file,
    parse_reward_command,
    refusal,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MEMBER, SILVER, GOLD, PLATINUM = DEFAULT_TIERS
TIER_NAMES = {tier.name for tier in DEFAULT_TIERS}
MUG = Reward(
    id=1,
    community_id=-100,
    title="Club mug",
    cost=300,
    stock=5,
    per_member_limit=None,
    tier_required=None,
    available_from=None,
    available_until=None,
    has_codes=False,
    active=True,
)


def problem_of(
    reward: Reward,
    *,
    now: datetime = NOW,
    tier: Tier = MEMBER,
    redeemed_by_member: int = 0,
    codes_left: int | None = None,
) -> Problem | None:
    return eligibility(
        reward,
        now=now,
        tier=tier,
        tiers=DEFAULT_TIERS,
        redeemed_by_member=redeemed_by_member,
        codes_left=codes_left,
    )


# -- eligibility


@pytest.mark.parametrize(
    ("reward", "overrides", "expected"),
    [
        (MUG, {}, None),
        (replace(MUG, active=False), {}, Problem.ARCHIVED),
        (replace(MUG, available_from=NOW + timedelta(seconds=1)), {}, Problem.NOT_YET),
        (replace(MUG, available_from=NOW), {}, None),
        (replace(MUG, available_until=NOW), {}, Problem.ENDED),
        (replace(MUG, available_until=NOW + timedelta(seconds=1)), {}, None),
        (replace(MUG, tier_required="gold"), {"tier": SILVER}, Problem.TIER_TOO_LOW),
        (replace(MUG, tier_required="gold"), {"tier": GOLD}, None),
        (replace(MUG, tier_required="gold"), {"tier": PLATINUM}, None),
        (replace(MUG, tier_required="diamond"), {"tier": PLATINUM}, Problem.TIER_TOO_LOW),
        (replace(MUG, per_member_limit=2), {"redeemed_by_member": 1}, None),
        (replace(MUG, per_member_limit=2), {"redeemed_by_member": 2}, Problem.LIMIT_REACHED),
        (replace(MUG, stock=0), {}, Problem.SOLD_OUT),
        (replace(MUG, stock=None), {}, None),
        (replace(MUG, has_codes=True), {"codes_left": 0}, Problem.SOLD_OUT),
        (replace(MUG, has_codes=True), {"codes_left": 1}, None),
        (replace(MUG, has_codes=True), {"codes_left": None}, None),  # unknown: the take decides
    ],
)
def test_eligibility_names_the_reason_a_member_cannot_redeem(
    reward: Reward, overrides: dict[str, Any], expected: Problem | None
) -> None:
    assert problem_of(reward, **overrides) is expected


def test_an_archived_reward_is_reported_as_archived_before_anything_else() -> None:
    withdrawn = replace(MUG, active=False, stock=0, tier_required="platinum")

    assert problem_of(withdrawn) is Problem.ARCHIVED


def test_each_problem_stops_a_redemption_with_its_own_error() -> None:
    limited = replace(MUG, per_member_limit=3)

    assert isinstance(refusal(Problem.SOLD_OUT, MUG), OutOfStock)
    limit = refusal(Problem.LIMIT_REACHED, limited)
    assert isinstance(limit, RedemptionLimitReached)
    assert limit.limit == 3
    unavailable = refusal(Problem.TIER_TOO_LOW, MUG)
    assert isinstance(unavailable, RewardUnavailable)
    assert unavailable.problem is Problem.TIER_TOO_LOW


# -- /reward_new


def test_a_reward_command_with_every_option_is_understood() -> None:
    draft = parse_reward_command(
        "300 20 Club mug limit=1 tier=Gold from=2026-03-01 until=2026-03-31 codes=yes",
        tier_names=TIER_NAMES,
    )

    assert draft == RewardDraft(
        title="Club mug",
        cost=300,
        stock=20,
        per_member_limit=1,
        tier_required="gold",
        first_day=date(2026, 3, 1),
        last_day=date(2026, 3, 31),
        has_codes=True,
    )


def test_unlimited_stock_and_options_between_title_words_are_understood() -> None:
    draft = parse_reward_command("50 Unlimited Sticker Limit=3 pack", tier_names=TIER_NAMES)

    assert (draft.title, draft.stock, draft.per_member_limit) == ("Sticker pack", None, 3)


def test_a_chinese_operator_may_write_unlimited_as_they_say_it() -> None:
    draft = parse_reward_command("50 不限 贴纸", tier_names=TIER_NAMES)

    assert (draft.title, draft.stock) == ("贴纸", None)


def test_a_title_may_contain_an_equals_sign_that_is_not_an_option() -> None:
    draft = parse_reward_command("10 5 1+1=2 mug", tier_names=TIER_NAMES)

    assert draft.title == "1+1=2 mug"


@pytest.mark.parametrize(
    ("arguments", "part"),
    [
        (None, "usage"),
        ("300 20", "usage"),
        ("free 20 Mug", "cost"),
        ("0 20 Mug", "cost"),
        ("1000001 20 Mug", "cost"),
        ("-5 20 Mug", "cost"),
        ("３００ 20 Mug", "cost"),  # full-width digits are digits to Python, not to us
        ("300 0 Mug", "stock"),
        ("300 lots Mug", "stock"),
        ("300 20 limit=1", "title"),
        ("300 20 " + "x" * 101, "title"),
        ("300 20 Mug limit=0", "limit"),
        ("300 20 Mug limit=many", "limit"),
        ("300 20 Mug tier=diamond", "tier"),
        ("300 20 Mug from=2026-02-30", "from"),
        ("300 20 Mug until=20260301", "until"),
        ("300 20 Mug from=2026-03-02 until=2026-03-01", "window"),
        ("300 20 Mug codes=maybe", "codes"),
        ("300 20 Mug colour=red", "flag"),
        ("300 20 Mug limit=1 limit=2", "flag"),
    ],
)
def test_a_bad_reward_command_names_the_part_that_is_wrong(
    arguments: str | None, part: str
) -> None:
    with pytest.raises(InvalidRewardSpec) as refused:
        parse_reward_command(arguments, tier_names=TIER_NAMES)

    assert refused.value.part == part


def test_a_drafts_window_covers_its_days_in_the_communitys_time_zone() -> None:
    draft = RewardDraft(
        title="Mug", cost=1, stock=1, first_day=date(2026, 3, 1), last_day=date(2026, 3, 1)
    )

    reward = draft.for_community("Asia/Shanghai")

    assert reward == NewReward(
        title="Mug",
        cost=1,
        stock=1,
        available_from=datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
        available_until=datetime(2026, 3, 1, 16, 0, tzinfo=UTC),
    )


# -- voucher code files


def test_a_code_file_takes_one_code_per_line_or_the_first_csv_column() -> None:
    text = 'Code,Expires\nA-1,2026-12-31\n\n  B-2  \n"C,3",x\nA-1\n'

    parsed = parse_code_file(text)

    assert parsed.codes == ["A-1", "B-2", "C,3"]
    assert parsed.repeated == 1
    assert parsed.rejected == []


def test_a_code_file_refuses_long_or_odd_codes_by_line_number() -> None:
    text = "\n".join(["OK-1", "x" * 65, "with space", "émoji", "x" * 64])

    parsed = parse_code_file(text)

    assert parsed.codes == ["OK-1", "x" * 64]
    assert parsed.rejected == [
        (2, CodeRejection.TOO_LONG),
        (3, CodeRejection.BAD_CHARACTERS),
        (4, CodeRejection.BAD_CHARACTERS),
    ]


def test_a_code_file_takes_at_most_ten_thousand_codes() -> None:
    parsed = parse_code_file("\n".join(f"C-{n}" for n in range(10_002)))

    assert len(parsed.codes) == 10_000
    assert parsed.rejected == [(10_001, CodeRejection.TOO_MANY), (10_002, CodeRejection.TOO_MANY)]


def test_code_files_from_excel_are_read_in_utf8_with_bom_or_gb18030() -> None:
    assert decode_code_file("\ufeffA-1\n".encode()) == "A-1\n"
    assert decode_code_file("代码\nA-1\n".encode("gb18030")) == "代码\nA-1\n"
