"""The rewards store on the real database: a redemption is all or nothing, and exactly once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlmodel import col

from hearth.domain.errors import HearthError
from hearth.domain.members import ChatRole, Person
from hearth.domain.points import EntryKind, NotEnoughPoints, PointsRules
from hearth.domain.rewards import (
    CodeRejection,
    NewReward,
    OutOfStock,
    Problem,
    RedemptionClosed,
    RedemptionLimitReached,
    RedemptionStatus,
    Reward,
    RewardDraft,
    RewardUnavailable,
    UnknownRedemption,
    UnknownReward,
)
from hearth.services import points
from hearth.services import rewards as store
from hearth.storage import tables
from hearth.storage.rewards import RedemptionRow, SqlRewardsRepository, VoucherCodeRow
from hearth.storage.unit_of_work import SqlUnitOfWork, UnitOfWorkFactory

GROUP, OTHER_GROUP = -1001000000001, -1001000000002
OPERATOR = 7
ALICE, BORIS = 101, 102
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RULES = PointsRules()


def repository(uow: SqlUnitOfWork, uow_factory: UnitOfWorkFactory) -> SqlRewardsRepository:
    return SqlRewardsRepository(uow.session, uow_factory.dialect)


async def seed(
    uow_factory: UnitOfWorkFactory, members: dict[int, int], *, community: int = GROUP
) -> None:
    """A community whose members (id → points) each earned their points today."""
    async with uow_factory() as uow:
        await uow.communities.add(community, "Owners", timezone="UTC", locale="en", now=NOW)
        for member_id, balance in members.items():
            await uow.members.upsert(Person(member_id, f"Member {member_id}"), NOW)
            await uow.memberships.add(community, member_id, role=ChatRole.MEMBER, now=NOW)
            if balance:
                await points.credit(
                    uow,
                    community_id=community,
                    member_id=member_id,
                    amount=balance,
                    kind=EntryKind.EARN,
                    reason="test",
                    key=f"seed:{community}:{member_id}",
                    now=NOW,
                    timezone="UTC",
                    rules=RULES,
                )
        await uow.commit()


async def add_reward(
    uow_factory: UnitOfWorkFactory,
    *,
    cost: int = 30,
    stock: int | None = 5,
    community: int = GROUP,
    codes: list[str] | None = None,
    **terms: Any,
) -> Reward:
    async with uow_factory() as uow:
        rewards = repository(uow, uow_factory)
        reward = await rewards.add(
            community,
            NewReward(title="Club mug", cost=cost, stock=stock, **terms),
            actor_id=OPERATOR,
            now=NOW,
        )
        if codes is not None:
            await rewards.add_codes(reward.id, codes)
        await uow.commit()
    return await reward_now(uow_factory, reward.id)


async def reward_now(uow_factory: UnitOfWorkFactory, reward_id: int) -> Reward:
    async with uow_factory() as uow:
        reward = await repository(uow, uow_factory).get(reward_id)
    assert reward is not None
    return reward


async def redeem(
    uow_factory: UnitOfWorkFactory,
    member_id: int,
    reward_id: int,
    key: str,
    now: datetime = NOW,
) -> store.RedemptionResult | HearthError:
    """One confirmation press in its own transaction: committed, or rolled back on refusal."""
    async with uow_factory() as uow:
        try:
            result = await store.redeem(
                uow,
                repository(uow, uow_factory),
                reward_id=reward_id,
                member_id=member_id,
                key=key,
                now=now,
            )
        except HearthError as refused:
            return refused  # leaving without commit() rolls the attempt back
        await uow.commit()
        return result


class HeardNotes:
    """Records the members' notes of settled redemptions instead of queueing them."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, int]] = []

    async def redemption_settled(
        self, uow: Any, key: str, member: Any, community: Any, redemption: Any, title: str
    ) -> bool:
        self.notes.append((key, member.id))
        return True


async def settle(
    uow_factory: UnitOfWorkFactory,
    action: str,
    redemption_id: int,
    operated: set[int] | None = None,
) -> Any:
    async with uow_factory() as uow:
        use_case = store.cancel if action == "cancel" else store.fulfil
        result = await use_case(
            uow,
            repository(uow, uow_factory),
            HeardNotes(),
            redemption_id,
            actor_id=OPERATOR,
            operated=operated if operated is not None else {GROUP},
            now=NOW + timedelta(hours=1),
        )
        await uow.commit()
        return result


@dataclass(frozen=True)
class Books:
    """Everything a redemption can move."""

    balances: dict[int, int]
    ledgers: dict[int, int]
    stock: int | None
    redemptions: int
    codes_taken: int


async def books(uow_factory: UnitOfWorkFactory, reward_id: int, members: list[int]) -> Books:
    async with uow_factory() as uow:
        reward = await repository(uow, uow_factory).get(reward_id)
        assert reward is not None
        redemptions = await uow.session.scalar(
            select(func.count())
            .select_from(RedemptionRow)
            .where(col(RedemptionRow.reward_id) == reward_id)
        )
        taken = await uow.session.scalar(
            select(func.count())
            .select_from(VoucherCodeRow)
            .where(
                col(VoucherCodeRow.reward_id) == reward_id,
                col(VoucherCodeRow.redemption_id).is_not(None),
            )
        )
        return Books(
            balances={m: await uow.points.balance(GROUP, m) for m in members},
            ledgers={m: await uow.points.ledger_sum(GROUP, m) for m in members},
            stock=reward.stock,
            redemptions=int(redemptions or 0),
            codes_taken=int(taken or 0),
        )


async def audit_trail(uow_factory: UnitOfWorkFactory) -> list[tuple[str, int, dict[str, Any]]]:
    """(action, actor, details) of every audit row, oldest first."""
    async with uow_factory() as uow:
        rows = await uow.session.scalars(select(tables.AuditLog).order_by(col(tables.AuditLog.id)))
        return [(row.action, row.actor_id, dict(row.details)) for row in rows]


# -- redeeming


async def test_redeeming_takes_the_points_one_unit_and_one_code_in_one_go(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, cost=30, stock=5, codes=["MUG-1", "MUG-2"])

    result = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(result, store.RedemptionResult)
    assert not result.replayed
    assert result.redemption.status is RedemptionStatus.PENDING
    assert result.redemption.code == "MUG-1"
    assert result.redemption.cost == 30
    assert await books(uow_factory, reward.id, [ALICE]) == Books(
        balances={ALICE: 70}, ledgers={ALICE: 70}, stock=4, redemptions=1, codes_taken=1
    )
    async with uow_factory() as uow:
        [spend] = [line for line in await uow.points.recent(GROUP, ALICE, 5) if line.amount < 0]
    assert (spend.kind, spend.amount, spend.reason) == (EntryKind.SPEND, -30, "Club mug")


async def test_a_reward_without_codes_is_redeemed_for_the_team_to_hand_over(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, stock=None)

    result = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(result, store.RedemptionResult)
    assert result.redemption.code is None
    assert (await reward_now(uow_factory, reward.id)).stock is None  # unlimited stays unlimited


async def test_confirming_the_same_redemption_twice_redeems_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, codes=["MUG-1", "MUG-2"])
    first = await redeem(uow_factory, ALICE, reward.id, "a:1")

    again = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(first, store.RedemptionResult)
    assert isinstance(again, store.RedemptionResult)
    assert again.replayed
    assert again.redemption == first.redemption
    assert await books(uow_factory, reward.id, [ALICE]) == Books(
        balances={ALICE: 70}, ledgers={ALICE: 70}, stock=4, redemptions=1, codes_taken=1
    )


async def test_two_simultaneous_presses_of_one_button_redeem_once(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory)

    results = await asyncio.gather(*(redeem(uow_factory, ALICE, reward.id, "a:1") for _ in "12"))

    done = [result for result in results if isinstance(result, store.RedemptionResult)]
    assert sorted(result.replayed for result in done) == [False, True]
    assert (await books(uow_factory, reward.id, [ALICE])).balances == {ALICE: 70}


async def test_a_key_of_another_members_redemption_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100, BORIS: 100})
    reward = await add_reward(uow_factory)
    await redeem(uow_factory, ALICE, reward.id, "a:1")

    refused = await redeem(uow_factory, BORIS, reward.id, "a:1")

    assert isinstance(refused, RewardUnavailable)
    assert (await books(uow_factory, reward.id, [BORIS])).balances == {BORIS: 100}


async def test_a_member_without_enough_points_is_refused_and_nothing_changes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 20})
    reward = await add_reward(uow_factory, cost=30, codes=["MUG-1"])

    refused = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(refused, NotEnoughPoints)
    assert (refused.balance, refused.wanted) == (20, 30)
    assert await books(uow_factory, reward.id, [ALICE]) == Books(
        balances={ALICE: 20}, ledgers={ALICE: 20}, stock=5, redemptions=0, codes_taken=0
    )


async def test_a_member_cannot_redeem_more_often_than_the_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, cost=10, per_member_limit=2)

    outcomes = [await redeem(uow_factory, ALICE, reward.id, f"a:{n}") for n in range(3)]

    assert [type(outcome).__name__ for outcome in outcomes] == [
        "RedemptionResult",
        "RedemptionResult",
        "RedemptionLimitReached",
    ]
    assert isinstance(outcomes[2], RedemptionLimitReached)
    assert outcomes[2].limit == 2
    assert (await books(uow_factory, reward.id, [ALICE])).balances == {ALICE: 80}


async def test_simultaneous_redemptions_by_one_member_keep_to_the_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, cost=10, per_member_limit=1)

    outcomes = await asyncio.gather(
        *(redeem(uow_factory, ALICE, reward.id, f"a:{n}") for n in range(5))
    )

    assert sum(isinstance(outcome, store.RedemptionResult) for outcome in outcomes) == 1
    assert sum(isinstance(outcome, RedemptionLimitReached) for outcome in outcomes) == 4
    assert (await books(uow_factory, reward.id, [ALICE])).balances == {ALICE: 90}


async def test_a_cancelled_redemption_does_not_count_towards_the_limit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, cost=10, per_member_limit=1)
    first = await redeem(uow_factory, ALICE, reward.id, "a:1")
    assert isinstance(first, store.RedemptionResult)
    await settle(uow_factory, "cancel", first.redemption.id)

    assert isinstance(await redeem(uow_factory, ALICE, reward.id, "a:2"), store.RedemptionResult)


async def test_a_reward_above_the_members_tier_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    await seed(uow_factory, {ALICE: 2000, BORIS: 600})  # gold and silver
    reward = await add_reward(uow_factory, tier_required="gold")

    refused = await redeem(uow_factory, BORIS, reward.id, "b:1")
    allowed = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(refused, RewardUnavailable)
    assert refused.problem is Problem.TIER_TOO_LOW
    assert isinstance(allowed, store.RedemptionResult)


async def test_a_reward_can_be_redeemed_only_within_its_window(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(
        uow_factory,
        available_from=NOW + timedelta(days=1),
        available_until=NOW + timedelta(days=2),
    )

    early = await redeem(uow_factory, ALICE, reward.id, "a:1", now=NOW)
    late = await redeem(uow_factory, ALICE, reward.id, "a:2", now=NOW + timedelta(days=2))
    on_time = await redeem(uow_factory, ALICE, reward.id, "a:3", now=NOW + timedelta(days=1))

    assert isinstance(early, RewardUnavailable)
    assert early.problem is Problem.NOT_YET
    assert isinstance(late, RewardUnavailable)
    assert late.problem is Problem.ENDED
    assert isinstance(on_time, store.RedemptionResult)


async def test_an_archived_reward_is_refused_and_nothing_changes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory)
    async with uow_factory() as uow:
        await store.archive_reward(
            uow,
            repository(uow, uow_factory),
            reward.id,
            actor_id=OPERATOR,
            operated={GROUP},
            now=NOW,
        )
        await uow.commit()

    refused = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(refused, RewardUnavailable)
    assert refused.problem is Problem.ARCHIVED
    assert await books(uow_factory, reward.id, [ALICE]) == Books(
        balances={ALICE: 100}, ledgers={ALICE: 100}, stock=5, redemptions=0, codes_taken=0
    )


async def test_a_reward_that_does_not_exist_is_unavailable(uow_factory: UnitOfWorkFactory) -> None:
    await seed(uow_factory, {ALICE: 100})

    refused = await redeem(uow_factory, ALICE, 424242, "a:1")

    assert isinstance(refused, RewardUnavailable)
    assert refused.problem is Problem.ARCHIVED


async def test_a_reward_of_a_community_the_member_is_not_in_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    await seed(uow_factory, {BORIS: 100}, community=OTHER_GROUP)
    reward = await add_reward(uow_factory, community=OTHER_GROUP)

    refused = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(refused, RewardUnavailable)
    assert refused.problem is Problem.NOT_A_MEMBER


async def test_a_sold_out_reward_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    await seed(uow_factory, {ALICE: 100, BORIS: 100})
    reward = await add_reward(uow_factory, stock=1)
    await redeem(uow_factory, ALICE, reward.id, "a:1")

    refused = await redeem(uow_factory, BORIS, reward.id, "b:1")

    assert isinstance(refused, OutOfStock)
    assert await books(uow_factory, reward.id, [ALICE, BORIS]) == Books(
        balances={ALICE: 70, BORIS: 100},
        ledgers={ALICE: 70, BORIS: 100},
        stock=0,
        redemptions=1,
        codes_taken=0,
    )


async def test_a_reward_whose_codes_ran_out_is_sold_out_even_with_stock_left(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100, BORIS: 100})
    reward = await add_reward(uow_factory, stock=None, codes=["ONLY-ONE"])
    await redeem(uow_factory, ALICE, reward.id, "a:1")

    refused = await redeem(uow_factory, BORIS, reward.id, "b:1")

    assert isinstance(refused, OutOfStock)
    assert (await books(uow_factory, reward.id, [BORIS])).balances == {BORIS: 100}


async def test_a_reward_waiting_for_its_codes_cannot_be_redeemed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, has_codes=True)

    refused = await redeem(uow_factory, ALICE, reward.id, "a:1")

    assert isinstance(refused, OutOfStock)
    assert (await books(uow_factory, reward.id, [ALICE])).stock == 5


async def test_fifty_members_racing_for_the_last_ten_units_get_ten_and_forty_sold_out(
    uow_factory: UnitOfWorkFactory,
) -> None:
    members = list(range(1000, 1050))
    await seed(uow_factory, dict.fromkeys(members, 100))
    reward = await add_reward(
        uow_factory, cost=30, stock=10, codes=[f"CODE-{n}" for n in range(20)]
    )

    outcomes = await asyncio.gather(
        *(redeem(uow_factory, member, reward.id, f"{member}:race") for member in members)
    )

    won = [outcome for outcome in outcomes if isinstance(outcome, store.RedemptionResult)]
    assert len(won) == 10
    assert sum(isinstance(outcome, OutOfStock) for outcome in outcomes) == 40
    assert len({result.redemption.code for result in won}) == 10  # no code handed out twice
    final = await books(uow_factory, reward.id, members)
    assert (final.stock, final.redemptions, final.codes_taken) == (0, 10, 10)
    assert final.balances == final.ledgers
    winners = {result.redemption.member_id for result in won}
    assert final.balances == {member: 70 if member in winners else 100 for member in members}


# -- operators settle redemptions


async def test_cancelling_refunds_the_points_and_returns_the_unit_and_the_code(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, codes=["MUG-1"])
    result = await redeem(uow_factory, ALICE, reward.id, "a:1")
    assert isinstance(result, store.RedemptionResult)

    cancelled = await settle(uow_factory, "cancel", result.redemption.id)
    again = await settle(uow_factory, "cancel", result.redemption.id)

    assert cancelled.status is RedemptionStatus.CANCELLED
    assert again == cancelled
    assert await books(uow_factory, reward.id, [ALICE]) == Books(
        balances={ALICE: 100}, ledgers={ALICE: 100}, stock=5, redemptions=1, codes_taken=0
    )
    async with uow_factory() as uow:
        refunds = [line for line in await uow.points.recent(GROUP, ALICE, 10) if line.amount > 0]
    assert [(line.kind, line.reason, line.amount) for line in refunds][:1] == [
        (EntryKind.GRANT, "refund", 30)
    ]
    assert [action for action, _, _ in await audit_trail(uow_factory)] == ["redemption.cancel"]
    # The code went back to the pool: the next redemption gets it.
    next_one = await redeem(uow_factory, ALICE, reward.id, "a:2")
    assert isinstance(next_one, store.RedemptionResult)
    assert next_one.redemption.code == "MUG-1"


async def test_fulfilling_settles_a_redemption_which_can_then_no_longer_be_cancelled(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory)
    result = await redeem(uow_factory, ALICE, reward.id, "a:1")
    assert isinstance(result, store.RedemptionResult)

    fulfilled = await settle(uow_factory, "fulfil", result.redemption.id)
    again = await settle(uow_factory, "fulfil", result.redemption.id)

    assert fulfilled.status is RedemptionStatus.FULFILLED
    assert again == fulfilled
    with pytest.raises(RedemptionClosed):
        await settle(uow_factory, "cancel", result.redemption.id)
    assert (await books(uow_factory, reward.id, [ALICE])).balances == {ALICE: 70}


async def test_a_cancelled_redemption_cannot_be_fulfilled(uow_factory: UnitOfWorkFactory) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory)
    result = await redeem(uow_factory, ALICE, reward.id, "a:1")
    assert isinstance(result, store.RedemptionResult)
    await settle(uow_factory, "cancel", result.redemption.id)

    with pytest.raises(RedemptionClosed):
        await settle(uow_factory, "fulfil", result.redemption.id)


async def test_operators_cannot_settle_redemptions_of_communities_they_do_not_operate(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory)
    result = await redeem(uow_factory, ALICE, reward.id, "a:1")
    assert isinstance(result, store.RedemptionResult)

    with pytest.raises(UnknownRedemption):
        await settle(uow_factory, "cancel", result.redemption.id, operated={OTHER_GROUP})
    with pytest.raises(UnknownRedemption):
        await settle(uow_factory, "cancel", 999_999)
    assert (await books(uow_factory, reward.id, [ALICE])).balances == {ALICE: 70}


async def test_pending_redemptions_list_the_oldest_first_with_names_and_titles(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100, BORIS: 100})
    reward = await add_reward(uow_factory)
    for member, minute in ((BORIS, 1), (ALICE, 2)):
        await redeem(uow_factory, member, reward.id, f"{member}:1", NOW + timedelta(minutes=minute))

    async with uow_factory() as uow:
        listing = await store.pending_redemptions(
            repository(uow, uow_factory), operated={GROUP}, limit=1
        )
        elsewhere = await store.pending_redemptions(
            repository(uow, uow_factory), operated={OTHER_GROUP}
        )

    assert listing.total == 2
    [line] = listing.lines
    assert (line.member_name, line.reward_title) == (f"Member {BORIS}", "Club mug")
    assert elsewhere == store.PendingRedemptions(lines=[], total=0)


# -- operators stock the store


async def test_creating_a_reward_stores_its_terms_in_the_communitys_time_and_audits_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.communities.add(GROUP, "Owners", timezone="Asia/Shanghai", locale="en", now=NOW)
        community = await uow.communities.get(GROUP)
        assert community is not None
        draft = RewardDraft(
            title="Track day",
            cost=500,
            stock=3,
            per_member_limit=1,
            tier_required="gold",
            last_day=NOW.date(),
        )
        reward = await store.create_reward(
            uow,
            repository(uow, uow_factory),
            community=community,
            draft=draft,
            actor_id=OPERATOR,
            now=NOW,
        )
        await uow.commit()
    [(action, actor, details)] = await audit_trail(uow_factory)

    stored = await reward_now(uow_factory, reward.id)
    assert stored == reward
    assert (stored.title, stored.cost, stored.stock, stored.per_member_limit) == (
        "Track day",
        500,
        3,
        1,
    )
    # Until the end of 2 March in Shanghai, which is 16:00 UTC that day.
    assert stored.available_until == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    assert (action, actor, details["reward_id"]) == ("reward.create", OPERATOR, reward.id)


async def test_archiving_twice_archives_once_and_only_in_operated_communities(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 0})
    reward = await add_reward(uow_factory)

    async def archive(operated: set[int]) -> Reward:
        async with uow_factory() as uow:
            archived = await store.archive_reward(
                uow,
                repository(uow, uow_factory),
                reward.id,
                actor_id=OPERATOR,
                operated=operated,
                now=NOW,
            )
            await uow.commit()
            return archived

    with pytest.raises(UnknownReward):
        await archive({OTHER_GROUP})
    first, second = await archive({GROUP}), await archive({GROUP})

    assert (first.active, second.active) == (True, False)  # as each found it
    assert [action for action, _, _ in await audit_trail(uow_factory)] == ["reward.archive"]


async def test_importing_codes_reports_what_was_added_repeated_and_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    reward = await add_reward(uow_factory, codes=["KNOWN-1"])
    csv_text = "\n".join(
        [
            "code,valid until",
            "NEW-1,2026-12-31",
            "KNOWN-1,2026-12-31",
            "NEW-1,again in this file",
            "",
            "has space,x",
            "X" * 65,
            '"NEW-2",quoted',
        ]
    )

    async with uow_factory() as uow:
        report = await store.import_codes(
            uow,
            repository(uow, uow_factory),
            reward.id,
            csv_text,
            actor_id=OPERATOR,
            operated={GROUP},
            now=NOW,
        )
        await uow.commit()

    assert (report.added, report.duplicates) == (2, 2)
    assert report.rejected == [(6, CodeRejection.BAD_CHARACTERS), (7, CodeRejection.TOO_LONG)]
    async with uow_factory() as uow:
        left = await repository(uow, uow_factory).codes_left([reward.id])
    assert left == {reward.id: 3}
    [(_, _, details)] = await audit_trail(uow_factory)
    assert details == {"reward_id": reward.id, "added": 2, "duplicates": 2, "rejected": 2}


async def test_importing_codes_into_an_archived_or_foreign_reward_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 0})
    reward = await add_reward(uow_factory)

    async def import_into(operated: set[int]) -> store.ImportReport:
        async with uow_factory() as uow:
            return await store.import_codes(
                uow,
                repository(uow, uow_factory),
                reward.id,
                "A-1",
                actor_id=OPERATOR,
                operated=operated,
                now=NOW,
            )

    with pytest.raises(UnknownReward):
        await import_into({OTHER_GROUP})
    async with uow_factory() as uow:
        await repository(uow, uow_factory).archive(reward.id, NOW)
        await uow.commit()
    with pytest.raises(RewardUnavailable):
        await import_into({GROUP})


# -- the catalogue


async def test_the_catalogue_tells_a_member_what_they_can_redeem_and_why_not_the_rest(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    cheap = await add_reward(uow_factory, cost=30)
    dear = await add_reward(uow_factory, cost=300)
    gold = await add_reward(uow_factory, cost=40, tier_required="gold")
    sold = await add_reward(uow_factory, cost=50, stock=0)
    waiting = await add_reward(uow_factory, cost=60, has_codes=True)
    soon = await add_reward(uow_factory, cost=70, available_from=NOW + timedelta(days=1))
    await add_reward(uow_factory, cost=80, available_until=NOW)  # ended: not listed
    archived = await add_reward(uow_factory, cost=90)
    async with uow_factory() as uow:
        await repository(uow, uow_factory).archive(archived.id, NOW)
        await uow.commit()

    async with uow_factory() as uow:
        community = await uow.communities.get(GROUP)
        assert community is not None
        shelf = await store.catalogue(
            uow,
            repository(uow, uow_factory),
            member_id=ALICE,
            community=community,
            now=NOW,
            rules=RULES,
        )

    assert shelf.balance == 100
    assert [(offer.reward.id, offer.problem) for offer in shelf.offers] == [
        (cheap.id, None),
        (gold.id, Problem.TIER_TOO_LOW),
        (sold.id, Problem.SOLD_OUT),
        (waiting.id, Problem.SOLD_OUT),
        (soon.id, Problem.NOT_YET),
        (dear.id, Problem.NOT_ENOUGH_POINTS),
    ]
    assert shelf.redeemable == [offer.reward for offer in shelf.offers if offer.problem is None]


async def test_the_catalogue_is_refused_to_someone_outside_the_community(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    await seed(uow_factory, {BORIS: 100}, community=OTHER_GROUP)

    async with uow_factory() as uow:
        community = await uow.communities.get(GROUP)
        assert community is not None
        with pytest.raises(RewardUnavailable):
            await store.catalogue(
                uow,
                repository(uow, uow_factory),
                member_id=BORIS,
                community=community,
                now=NOW,
                rules=RULES,
            )


async def test_an_offer_shows_the_balance_and_refuses_what_the_member_cannot_afford(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await seed(uow_factory, {ALICE: 100})
    cheap = await add_reward(uow_factory, cost=30)
    dear = await add_reward(uow_factory, cost=300)

    async with uow_factory() as uow:
        rewards = repository(uow, uow_factory)
        reward, balance = await store.offer(
            uow, rewards, reward_id=cheap.id, member_id=ALICE, now=NOW
        )
        with pytest.raises(NotEnoughPoints):
            await store.offer(uow, rewards, reward_id=dear.id, member_id=ALICE, now=NOW)

    assert (reward, balance) == (cheap, 100)
