"""Honour boards' tables and repository. The repository never commits.

A report's natural key is the private message that carried it (member × message id); a
decision is conditional on the report still pending, so that of two operators pressing at
once exactly one decides. Boards are sums of approved reports, done by the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Row,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlmodel import Field, SQLModel, col

from hearth.domain.honour import (
    HonourMetric,
    HonourReport,
    MetricDraft,
    NewReport,
    ReportStatus,
    name_key,
)
from hearth.storage import tables
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId


class HonourMetricRow(SQLModel, table=True):
    """A custom metric members report for a community's monthly honour board."""

    __tablename__ = "honour_metric"
    __table_args__ = (
        UniqueConstraint("community_id", "name_key", name="uq_honour_metric_name"),
        CheckConstraint("max_amount > 0", name="ck_honour_metric_max_positive"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    name: str = Field(max_length=64)
    name_key: str = Field(max_length=64)  # the name case-folded: unique in the community
    unit: str = Field(default="", max_length=16)
    needs_approval: bool = False
    max_amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # hundredths
    post_board: bool = True
    active: bool = True
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _utc()


class HonourReportRow(SQLModel, table=True):
    """A member's value for one metric and month, with an optional photo as proof."""

    __tablename__ = "honour_report"
    __table_args__ = (
        UniqueConstraint("member_id", "message_id", name="uq_honour_report_source"),
        CheckConstraint("amount > 0", name="ck_honour_report_amount_positive"),
        Index("ix_honour_report_board", "metric_id", "month", "status"),
        Index("ix_honour_report_member", "member_id", "reported_at"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    metric_id: int = Field(
        sa_column=Column(
            BigInteger, ForeignKey("honour_metric.id", ondelete="CASCADE"), nullable=False
        )
    )
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    month: str = Field(max_length=7)  # "YYYY-MM" in the community's time zone
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # hundredths
    photo: str | None = Field(default=None, max_length=255)  # Telegram file id
    status: str = Field(default=ReportStatus.PENDING.value, max_length=16)
    reported_at: datetime = _utc()
    decided_at: datetime | None = _utc(default=None, nullable=True)
    decided_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


_METRIC_COLUMNS = (
    col(HonourMetricRow.id),
    col(HonourMetricRow.community_id),
    col(HonourMetricRow.name),
    col(HonourMetricRow.unit),
    col(HonourMetricRow.needs_approval),
    col(HonourMetricRow.max_amount),
    col(HonourMetricRow.post_board),
    col(HonourMetricRow.active),
)

_REPORT_COLUMNS = (
    col(HonourReportRow.id),
    col(HonourReportRow.metric_id),
    col(HonourReportRow.community_id),
    col(HonourReportRow.member_id),
    col(HonourReportRow.month),
    col(HonourReportRow.amount),
    col(HonourReportRow.status),
    col(HonourReportRow.photo),
    col(HonourReportRow.reported_at),
)


def _metric(row: Row[*tuple[Any, ...]]) -> HonourMetric:
    return HonourMetric(
        id=int(row.id),
        community_id=int(row.community_id),
        name=str(row.name),
        unit=str(row.unit),
        needs_approval=bool(row.needs_approval),
        max_amount=int(row.max_amount),
        post_board=bool(row.post_board),
        active=bool(row.active),
    )


def _report(row: Row[*tuple[Any, ...]]) -> HonourReport:
    return HonourReport(
        id=int(row.id),
        metric_id=int(row.metric_id),
        community_id=int(row.community_id),
        member_id=int(row.member_id),
        month=str(row.month),
        amount=int(row.amount),
        status=ReportStatus(row.status),
        photo=row.photo,
        reported_at=row.reported_at,
    )


class SqlHonourRepository(_Repository):
    """Metrics, reports and the sums behind the boards."""

    # -- metrics

    async def add_metric(
        self, community_id: int, draft: MetricDraft, *, actor_id: int, now: datetime
    ) -> HonourMetric | None:
        return await self._mapped(
            insert_ignoring_duplicates(self.dialect, HonourMetricRow)
            .values(
                community_id=community_id,
                name=draft.name[:64],
                name_key=name_key(draft.name)[:64],
                unit=draft.unit[:16],
                needs_approval=draft.needs_approval,
                max_amount=draft.max_amount,
                post_board=draft.post_board,
                active=True,
                created_by=actor_id,
                created_at=now,
            )
            .returning(*_METRIC_COLUMNS),
            _metric,
        )

    async def metric(self, metric_id: int) -> HonourMetric | None:
        return await self._mapped(
            select(*_METRIC_COLUMNS).where(col(HonourMetricRow.id) == metric_id), _metric
        )

    async def metrics(self, community_ids: list[int]) -> list[HonourMetric]:
        if not community_ids:
            return []
        result = await self.session.execute(
            select(*_METRIC_COLUMNS)
            .where(
                col(HonourMetricRow.community_id).in_(community_ids),
                col(HonourMetricRow.active).is_(True),
            )
            .order_by(col(HonourMetricRow.community_id), col(HonourMetricRow.id))
        )
        return [_metric(row) for row in result]

    # -- reports

    async def add_report(self, report: NewReport, now: datetime) -> HonourReport | None:
        return await self._mapped(
            insert_ignoring_duplicates(self.dialect, HonourReportRow)
            .values(
                metric_id=report.metric.id,
                community_id=report.metric.community_id,
                member_id=report.member_id,
                message_id=report.message_id,
                month=report.month,
                amount=report.amount,
                photo=report.photo,
                status=report.status.value,
                reported_at=now,
                decided_at=None if report.status is ReportStatus.PENDING else now,
            )
            .returning(*_REPORT_COLUMNS),
            _report,
        )

    async def report(self, report_id: int) -> HonourReport | None:
        return await self._mapped(
            select(*_REPORT_COLUMNS).where(col(HonourReportRow.id) == report_id), _report
        )

    async def report_by_message(self, member_id: int, message_id: int) -> HonourReport | None:
        return await self._mapped(
            select(*_REPORT_COLUMNS).where(
                col(HonourReportRow.member_id) == member_id,
                col(HonourReportRow.message_id) == message_id,
            ),
            _report,
        )

    async def reported_since(self, member_id: int, since: datetime) -> list[datetime]:
        result = await self.session.scalars(
            select(col(HonourReportRow.reported_at)).where(
                col(HonourReportRow.member_id) == member_id,
                col(HonourReportRow.reported_at) > since,
            )
        )
        return list(result)

    async def decide(
        self, report_id: int, *, becomes: ReportStatus, actor_id: int, now: datetime
    ) -> HonourReport | None:
        return await self._mapped(
            update(HonourReportRow)
            .where(
                col(HonourReportRow.id) == report_id,
                col(HonourReportRow.status) == ReportStatus.PENDING.value,
            )
            .values(status=becomes.value, decided_at=now, decided_by=actor_id)
            .returning(*_REPORT_COLUMNS)
            .execution_options(synchronize_session=False),
            _report,
        )

    async def totals(self, metric_id: int, month: str, limit: int) -> list[tuple[int, str, int]]:
        total = func.sum(col(HonourReportRow.amount))
        result = await self.session.execute(
            select(col(HonourReportRow.member_id), col(tables.Member.first_name), total)
            .join(tables.Member, col(tables.Member.id) == col(HonourReportRow.member_id))
            .where(
                col(HonourReportRow.metric_id) == metric_id,
                col(HonourReportRow.month) == month,
                col(HonourReportRow.status) == ReportStatus.APPROVED.value,
            )
            .group_by(col(HonourReportRow.member_id), col(tables.Member.first_name))
            .order_by(total.desc(), func.min(col(HonourReportRow.reported_at)))
            .limit(limit)
        )
        return [(int(member_id), str(name), int(amount)) for member_id, name, amount in result]
