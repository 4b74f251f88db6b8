"""Honour boards: operators define a metric, members report their values for the month,
operators approve them when the metric asks for it, and each month has its board.

A report counts in the month of the community's time zone in which it was made. Only
approved reports count; a metric without approval approves its reports at once. Each
operator action is audited. The finished month's board goes to the group once (its outbox
key names the metric and the month).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from hearth.domain import rate_limits
from hearth.domain.honour import (
    BOARD_SIZE,
    REPORT_LIMITS,
    AmbiguousMetric,
    Board,
    HonourMetric,
    HonourReport,
    MetricDraft,
    MetricExists,
    NewReport,
    ReportDraft,
    ReportSettled,
    ReportStatus,
    UnknownMetric,
    UnknownReport,
    board_due,
    check_report,
    metric_number,
    month_of,
    name_key,
    rank,
)
from hearth.domain.members import CommunityProfile
from hearth.services.communities import operated_or_unknown
from hearth.services.ports import HonourNotices, UnitOfWork, UnitOfWorkFactory

# -- operators


async def create_metric(
    uow: UnitOfWork,
    *,
    community: CommunityProfile,
    draft: MetricDraft,
    actor_id: int,
    now: datetime,
) -> HonourMetric:
    """Store an operator's new metric, audited; raises MetricExists for a name in use."""
    metric = await uow.honour.add_metric(community.id, draft, actor_id=actor_id, now=now)
    if metric is None:
        raise MetricExists(draft.name)
    await uow.audit.record(
        actor_id=actor_id,
        action="honour.metric_create",
        community_id=community.id,
        details={
            "metric_id": metric.id,
            "name": metric.name,
            "unit": metric.unit,
            "needs_approval": metric.needs_approval,
            "max_amount": metric.max_amount,
            "post_board": metric.post_board,
        },
        now=now,
    )
    return metric


@dataclass(frozen=True, slots=True)
class Decided:
    report: HonourReport
    metric: HonourMetric


async def decide(
    uow: UnitOfWork,
    notices: HonourNotices,
    report_id: int,
    *,
    approve: bool,
    actor_id: int,
    operated: Collection[int],
    now: datetime,
) -> Decided:
    """Approve or reject a pending report, audited; the member is told. Raises
    UnknownReport (not in a community the operator runs) or ReportSettled."""
    report = operated_or_unknown(
        await uow.honour.report(report_id), operated, UnknownReport(report_id)
    )
    if report.status is not ReportStatus.PENDING:
        raise ReportSettled(report.status)
    becomes = ReportStatus.APPROVED if approve else ReportStatus.REJECTED
    decided = await uow.honour.decide(report.id, becomes=becomes, actor_id=actor_id, now=now)
    if decided is None:  # another operator decided first
        current = await uow.honour.report(report.id)
        raise ReportSettled(current.status if current else ReportStatus.REJECTED)
    metric = await uow.honour.metric(decided.metric_id)
    assert metric is not None  # the report would have gone with it (ON DELETE CASCADE)
    await uow.audit.record(
        actor_id=actor_id,
        action=f"honour.{'approve' if approve else 'reject'}",
        community_id=decided.community_id,
        details={
            "report_id": decided.id,
            "metric_id": decided.metric_id,
            "member_id": decided.member_id,
            "amount": decided.amount,
            "month": decided.month,
        },
        now=now,
    )
    member = await uow.members.get(decided.member_id)
    community = await uow.communities.get(decided.community_id)
    if member is not None and community is not None:
        await notices.decided(
            uow, f"honour-decision:{decided.id}", member, community, metric, decided
        )
    return Decided(decided, metric)


# -- members


async def metrics_of(
    uow: UnitOfWork, communities: Collection[CommunityProfile]
) -> list[HonourMetric]:
    """The active metrics of ``communities``."""
    return await uow.honour.metrics([community.id for community in communities])


async def find_metric(
    uow: UnitOfWork, reference: str, communities: Collection[CommunityProfile]
) -> HonourMetric:
    """The active metric of one of ``communities`` named by ``reference`` (its name, in any
    case, or "#<number>"). Raises UnknownMetric or AmbiguousMetric."""
    metrics = await metrics_of(uow, communities)
    number = metric_number(reference)
    wanted = name_key(reference)
    found = [
        metric
        for metric in metrics
        if (metric.id == number if number is not None else name_key(metric.name) == wanted)
    ]
    if not found:
        raise UnknownMetric(reference)
    if len(found) > 1:
        raise AmbiguousMetric(found)
    return found[0]


@dataclass(frozen=True, slots=True)
class Reported:
    """A stored report; ``replayed`` when its message had been stored before."""

    report: HonourReport
    metric: HonourMetric
    replayed: bool


async def submit_report(
    uow: UnitOfWork,
    notices: HonourNotices,
    *,
    member_id: int,
    draft: ReportDraft,
    photo: str | None,
    message_id: int,
    now: datetime,
) -> Reported:
    """Store a member's value for the current month of the metric's community; operators
    review it when the metric needs approval. Raises UnknownMetric, AmbiguousMetric,
    InvalidReport or OverLimit."""
    communities = await uow.memberships.communities_of(member_id)
    metric = await find_metric(uow, draft.reference, communities)
    check_report(draft, metric)
    community = next(each for each in communities if each.id == metric.community_id)
    # may ask Telegram (which commits what is open): before anything is written
    operator_ids = await notices.operators(community) if metric.needs_approval else []
    earlier = await uow.honour.report_by_message(member_id, message_id)
    if earlier is not None:
        return Reported(earlier, metric, replayed=True)
    longest = max(limit.window for limit in REPORT_LIMITS)
    sent = await uow.honour.reported_since(member_id, now - longest)
    rate_limits.check(sent, now, REPORT_LIMITS)
    stored = await uow.honour.add_report(
        NewReport(
            metric=metric,
            member_id=member_id,
            month=month_of(now, community.timezone),
            amount=draft.amount,
            photo=photo,
            message_id=message_id,
            status=ReportStatus.PENDING if metric.needs_approval else ReportStatus.APPROVED,
        ),
        now,
    )
    if stored is None:  # the same message, stored by a concurrent delivery of it
        again = await uow.honour.report_by_message(member_id, message_id)
        assert again is not None
        return Reported(again, metric, replayed=True)
    reporter = await uow.members.get(member_id)
    for operator_id in operator_ids:
        operator = await uow.members.get(operator_id)
        if operator is not None and operator.writable:
            await notices.review(
                uow,
                f"honour-review:{stored.id}:{operator_id}",
                operator,
                community,
                metric,
                stored,
                reporter.first_name if reporter else str(member_id),
            )
    return Reported(stored, metric, replayed=False)


# -- boards


async def board(uow: UnitOfWork, metric: HonourMetric, month: str) -> Board:
    """The metric's board of ``month``: approved reports summed per member, best first."""
    totals = await uow.honour.totals(metric.id, month, BOARD_SIZE)
    return Board(metric=metric, month=month, standings=rank(totals))


def board_key(metric_id: int, month: str) -> str:
    """The outbox key of a finished month's board in the group."""
    return f"honour-board:{metric_id}:{month}"


async def post_due_boards(
    uow_factory: UnitOfWorkFactory, notices: HonourNotices, now: datetime
) -> int:
    """Queue the board of the month that just ended, for each metric that posts its board
    and has approved reports, in each active community where it is due (``board_due``);
    once per metric and month. How many boards were queued."""
    async with uow_factory() as uow:
        communities = await uow.communities.active()
    posted = 0
    for community in communities:
        month = board_due(now, community.timezone)
        if month is None:
            continue
        async with uow_factory() as uow:
            for metric in await uow.honour.metrics([community.id]):
                key = board_key(metric.id, month)
                if not metric.post_board or await uow.outbox.status_of(key) is not None:
                    continue
                finished = await board(uow, metric, month)
                if finished.standings and await notices.board(uow, key, community, finished):
                    posted += 1
            await uow.commit()
    return posted
