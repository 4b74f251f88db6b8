"""Lucky draws: operators create and cancel them, members enter, the scheduler draws.

An entry is one transaction: the draw's row (still open, before its closing time), the
entry (one per member), the debit (key ``draw-entry:<draw>:<member>``). When a step
refuses, the caller rolls the whole transaction back, so a refused entry costs nothing.
Cancelling refunds each paid entry under ``draw-refund:<draw>:<member>``; closing records
a fresh seed and the winners drawn from it, which ``verify`` reproduces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hearth.domain.draws import (
    AlreadyEntered,
    Draw,
    DrawDraft,
    DrawSettled,
    DrawStatus,
    DrawUnavailable,
    InvalidDrawSpec,
    Problem,
    UnknownDraw,
    check_closing,
    draw_winners,
    entry_problem,
    new_seed,
)
from hearth.domain.members import CommunityProfile
from hearth.domain.points import EntryKind
from hearth.services import points
from hearth.services.communities import operated_or_unknown
from hearth.services.ports import DrawNotices, DrawsRepository, UnitOfWork, UnitOfWorkFactory

SCHEDULER = 0  # the audit log's actor for what the scheduler does on its own
CLOSING_BATCH = 50


def entry_key(draw_id: int, member_id: int) -> str:
    """The ledger key of a member's entry: whatever happens, it is paid once."""
    return f"draw-entry:{draw_id}:{member_id}"


def refund_key(draw_id: int, member_id: int) -> str:
    """The ledger key of the refund of a cancelled draw's entry: refunded once."""
    return f"draw-refund:{draw_id}:{member_id}"


# -- operators


async def create_draw(
    uow: UnitOfWork,
    draws: DrawsRepository,
    notices: DrawNotices,
    *,
    community: CommunityProfile,
    draft: DrawDraft,
    actor_id: int,
    now: datetime,
) -> Draw:
    """Store an operator's draw (closing time on the community's clock), announce it in
    the group, audited. Raises InvalidDrawSpec for a past closing time, an unknown tier
    or an event of another community."""
    tiers = {tier.name for tier in points.rules_of(community).tiers}
    if draft.min_tier is not None and draft.min_tier not in tiers:
        raise InvalidDrawSpec("tier", draft.min_tier)
    event = await uow.events.get(draft.event_id) if draft.event_id is not None else None
    if draft.event_id is not None and (event is None or event.community_id != community.id):
        raise InvalidDrawSpec("event", str(draft.event_id))
    new = draft.for_community(community.timezone)
    check_closing(new.closes_at, now)
    draw = await draws.add(community.id, new, actor_id=actor_id, now=now)
    await uow.audit.record(
        actor_id=actor_id,
        action="draw.create",
        community_id=community.id,
        details={
            "draw_id": draw.id,
            "prize": draw.prize,
            "winners": draw.winners,
            "cost": draw.cost,
            "min_tier": draw.min_tier,
            "active_days": draw.active_days,
            "event_id": draw.event_id,
            "closes_at": draw.closes_at.isoformat(),
        },
        now=now,
    )
    await notices.announce(
        uow, f"draw-announce:{draw.id}", draw, community, event.title if event else None
    )
    return draw


@dataclass(frozen=True, slots=True)
class Cancellation:
    """A cancelled draw: how many had entered and the points given back."""

    draw: Draw
    entrants: int
    refunded: int
    replayed: bool  # it was cancelled before: nothing was done again


async def cancel_draw(
    uow: UnitOfWork,
    draws: DrawsRepository,
    notices: DrawNotices,
    draw_id: int,
    *,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> Cancellation:
    """Call off an open draw: refund every paid entry, tell the entrants and the group.

    Cancelling again changes nothing. Raises UnknownDraw unless the draw belongs to one
    of the ``operated`` communities, DrawSettled once its winners are drawn.
    """
    found = operated_or_unknown(await draws.get(draw_id), operated, UnknownDraw(draw_id))
    draw = await draws.settle(found.id, DrawStatus.CANCELLED, now)
    if draw is None:  # cancelled or drawn before (perhaps a moment ago, by someone else)
        current = await draws.get(found.id)
        if current is None or current.status is not DrawStatus.CANCELLED:
            raise DrawSettled(current or found)
        return Cancellation(current, current.entries, 0, replayed=True)
    community = await uow.communities.get(draw.community_id)
    assert community is not None  # the draw would have gone with it (ON DELETE CASCADE)
    entries = await draws.entries_of(draw.id)
    refunded = 0
    for entry in entries:
        if entry.cost > 0 and await points.credit(
            uow,
            community_id=community.id,
            member_id=entry.member_id,
            amount=entry.cost,
            kind=EntryKind.GRANT,
            reason="refund",
            key=refund_key(draw.id, entry.member_id),
            now=now,
            timezone=community.timezone,
            rules=points.rules_of(community),
            actor_id=actor_id,
        ):
            refunded += entry.cost
        member = await uow.members.get(entry.member_id)
        if member is not None and member.writable:
            await notices.refunded(
                uow, f"draw-cancelled:{draw.id}:{member.id}", member, community, draw, entry.cost
            )
    if community.active:
        await notices.cancelled(uow, f"draw-cancelled:{draw.id}", draw, community)
    await uow.audit.record(
        actor_id=actor_id,
        action="draw.cancel",
        community_id=community.id,
        details={"draw_id": draw.id, "entrants": len(entries), "refunded": refunded},
        now=now,
    )
    return Cancellation(draw, len(entries), refunded, replayed=False)


# -- the scheduler


async def close_draw(
    uow: UnitOfWork,
    draws: DrawsRepository,
    notices: DrawNotices,
    draw_id: int,
    *,
    now: datetime,
    seed: int | None = None,
) -> Draw | None:
    """Draw the winners of an open draw from a fresh ``seed`` (given only by tests),
    record them, announce them in the group and tell each winner in private, audited.

    None when the draw was not open (closed or cancelled already): nothing happens twice.
    """
    draw = await draws.settle(draw_id, DrawStatus.CLOSED, now)
    if draw is None:
        return None
    seed = new_seed() if seed is None else seed
    entries = await draws.entries_of(draw.id)
    winners = draw_winners([entry.member_id for entry in entries], draw.winners, seed)
    await draws.record_result(draw.id, seed, winners)
    draw = dataclasses.replace(draw, seed=seed)
    community = await uow.communities.get(draw.community_id)
    assert community is not None  # the draw would have gone with it
    names = await uow.members.first_names(winners)
    if community.active:
        await notices.results(
            uow,
            f"draw-result:{draw.id}",
            draw,
            community,
            [(winner, names.get(winner, "")) for winner in winners],
        )
    for winner in winners:
        member = await uow.members.get(winner)
        if member is not None and member.writable:
            await notices.won(uow, f"draw-won:{draw.id}:{winner}", member, community, draw)
    await uow.audit.record(
        actor_id=SCHEDULER,
        action="draw.close",
        community_id=community.id,
        # The seed as text: JSON readers that hold numbers as doubles would round it.
        details={
            "draw_id": draw.id,
            "seed": str(seed),
            "entrants": len(entries),
            "winners": winners,
        },
        now=now,
    )
    return draw


async def close_due(uow_factory: UnitOfWorkFactory, notices: DrawNotices, now: datetime) -> int:
    """The job: close every open draw whose time has come, each in its own transaction;
    how many were closed. Running it twice closes (and announces) nothing more."""
    closed = 0
    while True:
        async with uow_factory() as uow:
            due = await uow.draws.due(now, CLOSING_BATCH)
        done = 0
        for draw_id in due:
            async with uow_factory() as uow:
                if await close_draw(uow, uow.draws, notices, draw_id, now=now) is not None:
                    done += 1
                await uow.commit()
        closed += done
        if len(due) < CLOSING_BATCH or not done:
            return closed


# -- members


@dataclass(frozen=True, slots=True)
class DrawBoard:
    """/draws: a community's open draws, and which of them the member entered."""

    community: CommunityProfile
    draws: list[Draw]
    entered: set[int]

    @property
    def enterable(self) -> list[Draw]:
        return [draw for draw in self.draws if draw.id not in self.entered]


async def open_draws(
    uow: UnitOfWork, draws: DrawsRepository, *, community: CommunityProfile, member_id: int
) -> DrawBoard:
    """The community's open draws for one member (or operator)."""
    listed = await draws.open_in(community.id)
    entered = await draws.entered(member_id, [draw.id for draw in listed])
    return DrawBoard(community=community, draws=listed, entered=entered)


@dataclass(frozen=True, slots=True)
class EntryResult:
    """A member's entry: what it cost and what they have left."""

    draw: Draw
    paid: int
    balance: int


async def enter(
    uow: UnitOfWork, draws: DrawsRepository, *, draw_id: int, member_id: int, now: datetime
) -> EntryResult:
    """Enter a member in a draw, paying its cost, in the caller's transaction.

    Raises DrawUnavailable, AlreadyEntered or NotEnoughPoints; the caller must then roll
    back (something may have been written before the refusal).
    """
    draw = await draws.get(draw_id)
    if draw is None:
        raise DrawUnavailable(Problem.CLOSED)
    community = await uow.communities.get(draw.community_id)
    membership = await uow.memberships.get(draw.community_id, member_id)
    if community is None or membership is None or not membership.is_current:
        raise DrawUnavailable(Problem.NOT_A_MEMBER, draw)
    rules = points.rules_of(community)
    problem = entry_problem(
        draw,
        now=now,
        tier=(
            await points.tier_of(uow, community.id, member_id, now, rules)
            if draw.min_tier is not None
            else rules.tiers[0]
        ),
        tiers=rules.tiers,
        active_recently=(
            draw.active_days is None
            or await draws.active_since(
                community.id, member_id, now - timedelta(days=draw.active_days)
            )
        ),
        attended=draw.event_id is None or await uow.events.attended(draw.event_id, member_id),
    )
    if problem in (Problem.CANCELLED, Problem.CLOSED):
        raise DrawUnavailable(problem, draw)
    if await draws.entered(member_id, [draw.id]):
        raise AlreadyEntered(draw)
    if problem is not None:
        raise DrawUnavailable(problem, draw)
    counted = await draws.count_in(draw.id, now)
    if counted is None:  # closed or cancelled while we looked
        current = await draws.get(draw.id)
        cancelled = current is not None and current.status is DrawStatus.CANCELLED
        raise DrawUnavailable(Problem.CANCELLED if cancelled else Problem.CLOSED, draw)
    if not await draws.add_entry(counted.id, member_id, counted.cost, now):
        raise AlreadyEntered(counted)  # a second press that waited for the first
    if counted.cost > 0:
        await points.debit(
            uow,
            community_id=community.id,
            member_id=member_id,
            amount=counted.cost,
            kind=EntryKind.SPEND,
            reason=counted.prize,
            key=entry_key(counted.id, member_id),
            now=now,
        )
    balance = await uow.points.balance(community.id, member_id)
    return EntryResult(draw=counted, paid=counted.cost, balance=balance)


# -- anyone who may see the draw


@dataclass(frozen=True, slots=True)
class Verification:
    """A closed draw's winners as recorded, and as drawn again from its recorded seed."""

    draw: Draw
    entrants: int
    recorded: list[int]
    redrawn: list[int]

    @property
    def matches(self) -> bool:
        return self.recorded == self.redrawn


@dataclass(frozen=True, slots=True)
class DrawView:
    """/draw N: a draw's state; once closed its winners, seed and their verification."""

    draw: Draw
    community: CommunityProfile
    event_title: str | None
    entered: bool
    winners: list[tuple[int, str]]  # (member id, first name), in the order drawn
    verification: Verification | None


async def verify(draws: DrawsRepository, draw_id: int) -> Verification:
    """Draw a closed draw's winners again from its recorded seed and entries.

    Raises UnknownDraw when there is no such draw or it has no seed yet (open or
    cancelled: there is nothing to verify).
    """
    draw = await draws.get(draw_id)
    if draw is None or draw.seed is None:
        raise UnknownDraw(draw_id)
    entries = await draws.entries_of(draw.id)
    ranked = sorted(
        (entry for entry in entries if entry.rank is not None), key=lambda entry: entry.rank or 0
    )
    return Verification(
        draw=draw,
        entrants=len(entries),
        recorded=[entry.member_id for entry in ranked],
        redrawn=draw_winners([entry.member_id for entry in entries], draw.winners, draw.seed),
    )


async def view(
    uow: UnitOfWork,
    draws: DrawsRepository,
    draw_id: int,
    *,
    viewer_id: int,
    operated: Collection[int],
) -> DrawView:
    """A draw as a member of its community (or an operator of it) may see it.

    Raises UnknownDraw for a draw of another community: it is as unknown as a missing one.
    """
    draw = await draws.get(draw_id)
    if draw is None:
        raise UnknownDraw(draw_id)
    if draw.community_id not in operated:
        membership = await uow.memberships.get(draw.community_id, viewer_id)
        if membership is None or not membership.is_current:
            raise UnknownDraw(draw_id)
    community = await uow.communities.get(draw.community_id)
    if community is None:
        raise UnknownDraw(draw_id)
    event = await uow.events.get(draw.event_id) if draw.event_id is not None else None
    verification = await verify(draws, draw.id) if draw.seed is not None else None
    winners: Sequence[int] = verification.recorded if verification is not None else []
    names = await uow.members.first_names(winners)
    return DrawView(
        draw=draw,
        community=community,
        event_title=event.title if event is not None else None,
        entered=bool(await draws.entered(viewer_id, [draw.id])),
        winners=[(winner, names.get(winner, "")) for winner in winners],
        verification=verification,
    )
