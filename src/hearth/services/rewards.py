"""The rewards store: operators stock rewards, members redeem them with points.

A redemption is one transaction: the claim (its idempotency key), the stock, the debit,
the voucher code. When any step refuses, the caller rolls the whole transaction back, so
a refused redemption changes nothing; a replayed key returns the first redemption.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind, NotEnoughPoints, PointsRules
from hearth.domain.rewards import (
    CodeRejection,
    InvalidRewardSpec,
    OutOfStock,
    Problem,
    Redemption,
    RedemptionClosed,
    RedemptionLimitReached,
    RedemptionLine,
    RedemptionStatus,
    Reward,
    RewardDraft,
    RewardUnavailable,
    UnknownRedemption,
    UnknownReward,
    eligibility,
    parse_code_file,
    refusal,
)
from hearth.services import points
from hearth.services.communities import operated_or_unknown
from hearth.services.ports import RedemptionNotices, RewardsRepository, UnitOfWork

# -- operators


async def create_reward(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    *,
    community: CommunityProfile,
    draft: RewardDraft,
    actor_id: int,
    now: datetime,
) -> Reward:
    """Store an operator's new reward (dates in the community's time zone), audited."""
    tiers = {tier.name for tier in points.rules_of(community).tiers}
    if draft.tier_required is not None and draft.tier_required not in tiers:
        raise InvalidRewardSpec("tier", draft.tier_required)
    reward = await rewards.add(
        community.id, draft.for_community(community.timezone), actor_id=actor_id, now=now
    )
    await uow.audit.record(
        actor_id=actor_id,
        action="reward.create",
        community_id=community.id,
        details={
            "reward_id": reward.id,
            "title": reward.title,
            "cost": reward.cost,
            "stock": reward.stock,
            "per_member_limit": reward.per_member_limit,
            "tier_required": reward.tier_required,
        },
        now=now,
    )
    return reward


async def archive_reward(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    reward_id: int,
    *,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> Reward:
    """Withdraw a reward from the store (pending redemptions stay); audited once.

    Raises UnknownReward unless it belongs to one of the ``operated`` communities.
    """
    reward = await _operated_reward(rewards, reward_id, operated)
    if await rewards.archive(reward.id, now):
        await uow.audit.record(
            actor_id=actor_id,
            action="reward.archive",
            community_id=reward.community_id,
            details={"reward_id": reward.id, "title": reward.title},
            now=now,
        )
    return reward


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import of voucher codes did."""

    reward: Reward
    added: int
    duplicates: int  # repeated in the file or already in the pool
    rejected: list[tuple[int, CodeRejection]] = field(default_factory=list)  # (line, why)


async def import_codes(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    reward_id: int,
    csv_text: str,
    *,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> ImportReport:
    """Add the codes of a file (one per line, or a CSV's first column) to a reward's pool.

    From then on every redemption of the reward hands out one code; a known code is
    counted as a duplicate, never added twice.
    """
    reward = await _operated_reward(rewards, reward_id, operated)
    if not reward.active:
        raise RewardUnavailable(Problem.ARCHIVED, reward)
    parsed = parse_code_file(csv_text)
    added = await rewards.add_codes(reward.id, parsed.codes) if parsed.codes else 0
    report = ImportReport(
        reward=reward,
        added=added,
        duplicates=parsed.repeated + len(parsed.codes) - added,
        rejected=parsed.rejected,
    )
    await uow.audit.record(
        actor_id=actor_id,
        action="reward.codes",
        community_id=reward.community_id,
        # Never the codes themselves: the audit log is not a place for secrets.
        details={
            "reward_id": reward.id,
            "added": report.added,
            "duplicates": report.duplicates,
            "rejected": len(report.rejected),
        },
        now=now,
    )
    return report


@dataclass(frozen=True, slots=True)
class PendingRedemptions:
    """The oldest pending redemptions and how many there are in all."""

    lines: list[RedemptionLine]
    total: int


async def pending_redemptions(
    rewards: RewardsRepository, *, operated: Collection[int], limit: int = 10
) -> PendingRedemptions:
    """What the operators still have to fulfil or cancel, oldest first."""
    return PendingRedemptions(
        lines=await rewards.pending(operated, limit), total=await rewards.count_pending(operated)
    )


async def fulfil(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    notices: RedemptionNotices,
    redemption_id: int,
    *,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> Redemption:
    """Mark a pending redemption as handed over and tell the member; doing it again
    changes nothing.

    Raises RedemptionClosed for a cancelled redemption.
    """
    redemption = await _operated_redemption(rewards, redemption_id, operated)
    if redemption.status is RedemptionStatus.FULFILLED:
        return redemption
    changed = await rewards.change_status(
        redemption.id,
        was=RedemptionStatus.PENDING,
        becomes=RedemptionStatus.FULFILLED,
        actor_id=actor_id,
        now=now,
    )
    if changed is None:  # another operator got there first
        return await _settled_as(rewards, redemption.id, RedemptionStatus.FULFILLED)
    await uow.audit.record(
        actor_id=actor_id,
        action="redemption.fulfil",
        community_id=changed.community_id,
        details={"redemption_id": changed.id, "reward_id": changed.reward_id},
        now=now,
    )
    await _tell_member(uow, rewards, notices, changed)
    return changed


async def cancel(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    notices: RedemptionNotices,
    redemption_id: int,
    *,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> Redemption:
    """Cancel a pending redemption: refund its points, return the unit and the code, and
    tell the member.

    Cancelling again changes nothing; raises RedemptionClosed for a fulfilled redemption.
    """
    redemption = await _operated_redemption(rewards, redemption_id, operated)
    if redemption.status is RedemptionStatus.CANCELLED:
        return redemption
    changed = await rewards.change_status(
        redemption.id,
        was=RedemptionStatus.PENDING,
        becomes=RedemptionStatus.CANCELLED,
        actor_id=actor_id,
        now=now,
    )
    if changed is None:
        return await _settled_as(rewards, redemption.id, RedemptionStatus.CANCELLED)
    await rewards.put_back(changed.reward_id)
    await rewards.release_code(changed.id)
    community = await uow.communities.get(changed.community_id)
    assert community is not None  # the redemption would have gone with it (ON DELETE CASCADE)
    await points.credit(
        uow,
        community_id=changed.community_id,
        member_id=changed.member_id,
        amount=changed.cost,
        kind=EntryKind.GRANT,
        reason="refund",
        key=f"refund:{changed.id}",
        now=now,
        timezone=community.timezone,
        rules=points.rules_of(community),
        actor_id=actor_id,
    )
    await uow.audit.record(
        actor_id=actor_id,
        action="redemption.cancel",
        community_id=changed.community_id,
        details={
            "redemption_id": changed.id,
            "reward_id": changed.reward_id,
            "member_id": changed.member_id,
            "refund": changed.cost,
        },
        now=now,
    )
    await _tell_member(uow, rewards, notices, changed)
    return changed


async def _tell_member(
    uow: UnitOfWork, rewards: RewardsRepository, notices: RedemptionNotices, settled: Redemption
) -> None:
    """Queue the member's note of a settlement, when the bot may write to them."""
    member = await uow.members.get(settled.member_id)
    community = await uow.communities.get(settled.community_id)
    reward = await rewards.get(settled.reward_id)
    if member is None or community is None or reward is None or not member.writable:
        return
    key = f"redemption-{settled.status.value}:{settled.id}"
    await notices.redemption_settled(uow, key, member, community, settled, reward.title)


@dataclass(frozen=True, slots=True)
class ShelfItem:
    """A reward on the shelf as operators see it, with how many are left (None: unlimited)."""

    reward: Reward
    left: int | None
    codes_left: int | None  # what remains of the voucher codes; None: it hands out none


async def shelf(rewards: RewardsRepository, community_id: int) -> list[ShelfItem]:
    """The community's rewards that are not archived; a reward that hands out voucher codes
    has no more left than it has codes."""
    listed = await rewards.active(community_id)
    codes = await rewards.codes_left([reward.id for reward in listed if reward.has_codes])
    items: list[ShelfItem] = []
    for reward in listed:
        codes_left = codes.get(reward.id, 0) if reward.has_codes else None
        left = reward.stock
        if codes_left is not None:
            left = codes_left if left is None else min(left, codes_left)
        items.append(ShelfItem(reward=reward, left=left, codes_left=codes_left))
    return items


async def _operated_reward(
    rewards: RewardsRepository, reward_id: int, operated: Collection[int]
) -> Reward:
    return operated_or_unknown(await rewards.get(reward_id), operated, UnknownReward(reward_id))


async def _operated_redemption(
    rewards: RewardsRepository, redemption_id: int, operated: Collection[int]
) -> Redemption:
    return operated_or_unknown(
        await rewards.redemption(redemption_id), operated, UnknownRedemption(redemption_id)
    )


async def _settled_as(
    rewards: RewardsRepository, redemption_id: int, wanted: RedemptionStatus
) -> Redemption:
    """The redemption a concurrent operator settled: fine if as ``wanted``, else closed."""
    current = await rewards.redemption(redemption_id)
    if current is None:
        raise UnknownRedemption(redemption_id)
    if current.status is not wanted:
        raise RedemptionClosed(current.status)
    return current


# -- members


class Offer(NamedTuple):
    """A reward as one member sees it: redeemable (problem None) or why not."""

    reward: Reward
    problem: Problem | None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """/rewards: the member's balance and the community's rewards, ended ones left out."""

    community: CommunityProfile
    balance: int
    offers: list[Offer]

    @property
    def redeemable(self) -> list[Reward]:
        return [offer.reward for offer in self.offers if offer.problem is None]


async def catalogue(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    *,
    member_id: int,
    community: CommunityProfile,
    now: datetime,
    rules: PointsRules,
) -> Catalogue:
    """The community's rewards for one member, each with the reason it cannot be redeemed.

    Raises RewardUnavailable(NOT_A_MEMBER) when the member is not in the community.
    """
    await _ensure_member(uow, community.id, member_id)
    listed = await rewards.active(community.id)
    counts = await rewards.redeemed_counts(member_id, [reward.id for reward in listed])
    codes = await rewards.codes_left([reward.id for reward in listed if reward.has_codes])
    tier = await points.tier_of(uow, community.id, member_id, now, rules)
    balance = await uow.points.balance(community.id, member_id)
    offers: list[Offer] = []
    for reward in listed:
        problem = eligibility(
            reward,
            now=now,
            tier=tier,
            tiers=rules.tiers,
            redeemed_by_member=counts.get(reward.id, 0),
            codes_left=codes.get(reward.id),
        )
        if problem is Problem.ENDED:
            continue
        if problem is None and balance < reward.cost:
            problem = Problem.NOT_ENOUGH_POINTS
        offers.append(Offer(reward, problem))
    return Catalogue(community=community, balance=balance, offers=offers)


async def offer(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    *,
    reward_id: int,
    member_id: int,
    now: datetime,
) -> tuple[Reward, int]:
    """A reward the member may redeem now, with their balance (for the confirmation).

    Raises RewardUnavailable, RedemptionLimitReached, OutOfStock or NotEnoughPoints, as
    redeeming would. Writes nothing.
    """
    reward, community = await _redeemable(uow, rewards, reward_id, member_id, now)
    balance = await uow.points.balance(community.id, member_id)
    if balance < reward.cost:
        raise NotEnoughPoints(balance, reward.cost)
    return reward, balance


@dataclass(frozen=True, slots=True)
class RedemptionResult:
    """A redemption and the reward it was for; ``replayed`` when the key was used before."""

    redemption: Redemption
    reward: Reward
    replayed: bool


async def redeem(
    uow: UnitOfWork,
    rewards: RewardsRepository,
    *,
    reward_id: int,
    member_id: int,
    key: str,
    now: datetime,
) -> RedemptionResult:
    """Redeem a reward for a member, in the caller's transaction; ``key`` makes it once-only.

    Raises RewardUnavailable, RedemptionLimitReached, OutOfStock or NotEnoughPoints; the
    caller must then roll back (something may have been written before the refusal).
    """
    earlier = await rewards.redemption_by_key(key)
    if earlier is not None:
        return await _replay(rewards, earlier, member_id)
    reward, _ = await _redeemable(uow, rewards, reward_id, member_id, now)
    # The claim comes first: of two presses of the same button, the second waits here for
    # the first transaction and then finds its redemption.
    redemption_id = await rewards.claim(reward, member_id, key=key, now=now)
    if redemption_id is None:
        earlier = await rewards.redemption_by_key(key)
        # A conflicting claim that was rolled back would have let this one in instead.
        assert earlier is not None
        return await _replay(rewards, earlier, member_id)
    taken = await rewards.take_one(reward.id)
    if taken is None:
        current = await rewards.get(reward.id)
        if current is None or not current.active:
            raise RewardUnavailable(Problem.ARCHIVED, reward)
        raise OutOfStock()
    if taken.per_member_limit is not None:
        # Counted again now that this reward's row is locked (PostgreSQL) or the database
        # is (SQLite): a concurrent redemption by the same member has committed by now.
        counted = await rewards.redeemed_counts(member_id, [taken.id])
        if counted[taken.id] > taken.per_member_limit:  # this claim included
            raise RedemptionLimitReached(taken.per_member_limit)
    await points.debit(
        uow,
        community_id=taken.community_id,
        member_id=member_id,
        amount=reward.cost,
        kind=EntryKind.SPEND,
        reason=taken.title,
        key=f"redeem:{key}",
        now=now,
    )
    code = None
    if taken.has_codes:
        code = await rewards.take_code(taken.id, redemption_id)
        if code is None:
            raise OutOfStock()
    redemption = await rewards.redemption(redemption_id)
    assert redemption is not None  # inserted in this very transaction
    return RedemptionResult(redemption=redemption, reward=taken, replayed=False)


async def _redeemable(
    uow: UnitOfWork, rewards: RewardsRepository, reward_id: int, member_id: int, now: datetime
) -> tuple[Reward, CommunityProfile]:
    reward = await rewards.get(reward_id)
    if reward is None:
        raise RewardUnavailable(Problem.ARCHIVED)
    community = await _ensure_member(uow, reward.community_id, member_id, reward)
    rules = points.rules_of(community)
    counts = await rewards.redeemed_counts(member_id, [reward.id])
    codes = await rewards.codes_left([reward.id]) if reward.has_codes else {}
    problem = eligibility(
        reward,
        now=now,
        tier=await points.tier_of(uow, community.id, member_id, now, rules),
        tiers=rules.tiers,
        redeemed_by_member=counts[reward.id],
        codes_left=codes.get(reward.id),
    )
    if problem is not None:
        raise refusal(problem, reward)
    return reward, community


async def _ensure_member(
    uow: UnitOfWork, community_id: int, member_id: int, reward: Reward | None = None
) -> CommunityProfile:
    community = await uow.communities.get(community_id)
    membership = await uow.memberships.get(community_id, member_id)
    if community is None or membership is None or not membership.is_current:
        raise RewardUnavailable(Problem.NOT_A_MEMBER, reward)
    return community


async def _replay(
    rewards: RewardsRepository, earlier: Redemption, member_id: int
) -> RedemptionResult:
    reward = await rewards.get(earlier.reward_id)
    # Keys carry the member's id; a key of someone else's redemption is forged.
    if earlier.member_id != member_id or reward is None:
        raise RewardUnavailable(Problem.NOT_A_MEMBER, reward)
    return RedemptionResult(redemption=earlier, reward=reward, replayed=True)
