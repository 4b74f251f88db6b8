"""Reactivation nudges: every decision (planned, sent, held out, skipped) and its outcome,
the communities' nudge settings and templates, and the members' own choices. Never commits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence, Set
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    UniqueConstraint,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, SQLModel, col

from hearth.domain.activity import PARTICIPATION_KINDS
from hearth.domain.calendar import local_day
from hearth.domain.events import EventStatus
from hearth.domain.lifecycle import Stage
from hearth.domain.nudges import (
    DEFAULT_NUDGE_SETTINGS,
    DRIFTING_STAGES,
    EVENT_HORIZON_DAYS,
    EXPIRY_HORIZON_DAYS,
    NUDGE_GAP_DAYS,
    RETURN_WINDOW_DAYS,
    Candidate,
    Contact,
    Decision,
    KindOutcome,
    MemberContacts,
    NudgeFacts,
    NudgeKind,
    NudgeOutcomes,
    NudgePreference,
    NudgeRecord,
    NudgeSettings,
    NudgeStatus,
    NudgeTemplate,
    QuietHours,
    SkipReason,
    UpcomingEvent,
    habitual_hour,
    member_returns,
)
from hearth.domain.profile import answered_values
from hearth.domain.quizzes import TopicBook, TopicRecord
from hearth.domain.rfm import tag_slug
from hearth.storage import tables
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.events import EventRow
from hearth.storage.quizzes import QuestionRow, QuizAnswerRow
from hearth.storage.repositories import _as_date, _Repository, _table, insert_ignoring_duplicates
from hearth.storage.tags import SqlTagRepository
from hearth.storage.types import BigId, UTCDateTime


class NudgeRow(SQLModel, table=True):
    """One decision about one member on one local day, and what came of it.

    Unique per membership and local day: the daily plan can run again (or twice) and
    decides nothing more. ``status`` is a ``NudgeStatus``; ``reason`` a ``SkipReason``.
    """

    __tablename__ = "nudge"
    __table_args__ = (
        UniqueConstraint("community_id", "member_id", "planned_on", name="uq_nudge_day"),
        Index("ix_nudge_status_due", "status", "due_at"),
        Index("ix_nudge_member", "community_id", "member_id", "planned_on"),
        Index("ix_nudge_community_day", "community_id", "planned_on"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    member_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("member.id", ondelete="CASCADE"), nullable=False)
    )
    planned_on: date  # local day of the decision
    episode: date  # the dormancy episode: the member's last active day before it
    step: int  # 1, 2 or 3 within the episode
    status: str = Field(max_length=16)
    kind: str | None = Field(default=None, max_length=16)  # what it says (sent and planned)
    reason: str | None = Field(default=None, max_length=16)  # why it was skipped
    template: str | None = Field(default=None, max_length=32)  # "streak:1", "custom:7"
    event_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    decided_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    clicked_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    returned_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    opted_out_at: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    offer_points: int | None = Field(default=None, nullable=True)  # a comeback's bonus, fixed


class NudgeSettingsRow(SQLModel, table=True):
    """A community's nudge settings; no row means the defaults."""

    __tablename__ = "nudge_settings"

    community_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("community.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    paused: bool = False
    daily_cap: int = 50
    holdout_percent: int = 10
    comeback_points: int = 30
    planned_on: date | None = None  # the local day of the last plan made
    updated_at: datetime = Field(sa_type=UTCDateTime)


class NudgePreferenceRow(SQLModel, table=True):
    """A member's own choice (all communities): nudges on or off, quiet hours (local)."""

    __tablename__ = "nudge_preference"

    member_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("member.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    enabled: bool = True
    quiet_start: int = 21  # local hour, in each community's time zone
    quiet_end: int = 9
    updated_at: datetime = Field(sa_type=UTCDateTime)


class NudgeTemplateRow(SQLModel, table=True):
    """An operator's own template for one kind of nudge; it replaces the built-in ones."""

    __tablename__ = "nudge_template"
    __table_args__ = (Index("ix_nudge_template_kind", "community_id", "kind"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    kind: str = Field(max_length=16)
    text: str = Field(max_length=1000)
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_type=UTCDateTime)


# -- the repository

_CHUNK = 500  # member ids per IN list
_HABIT_DAYS = 90  # the habitual hour is read from this many days of activity
_PARTICIPATION = sorted(kind.value for kind in PARTICIPATION_KINDS)
_DRIFTING = [stage.value for stage in DRIFTING_STAGES]
_CONTACT_STATUSES = [NudgeStatus.SENT.value, NudgeStatus.HELD_OUT.value, NudgeStatus.PLANNED.value]
# Planned nudges and holdout contacts not yet confirmed: the sender looks at them when due.
_AWAITING_CONTACT = or_(
    col(NudgeRow.status) == NudgeStatus.PLANNED.value,
    and_(col(NudgeRow.status) == NudgeStatus.HELD_OUT.value, col(NudgeRow.sent_at).is_(None)),
)
_COUNTED_STATUSES = [NudgeStatus.PLANNED.value, NudgeStatus.SENT.value]


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _aware(moment: Any) -> datetime:
    """A UTC instant as read by an aggregate (SQLite may return text)."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    assert isinstance(moment, datetime)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _record(row: NudgeRow) -> NudgeRecord:
    return NudgeRecord(
        id=int(row.id or 0),
        community_id=row.community_id,
        member_id=row.member_id,
        planned_on=_as_date(row.planned_on),
        episode=_as_date(row.episode),
        step=row.step,
        status=NudgeStatus(row.status),
        kind=None if row.kind is None else NudgeKind(row.kind),
        reason=None if row.reason is None else SkipReason(row.reason),
        due_at=row.due_at,
        template=row.template,
        event_id=row.event_id,
        sent_at=row.sent_at,
        clicked_at=row.clicked_at,
        returned_at=row.returned_at,
        opted_out_at=row.opted_out_at,
        offer_points=row.offer_points,
    )


def _settings(row: NudgeSettingsRow | None) -> NudgeSettings:
    if row is None:
        return DEFAULT_NUDGE_SETTINGS
    return NudgeSettings(
        paused=row.paused,
        daily_cap=row.daily_cap,
        holdout_percent=row.holdout_percent,
        comeback_points=row.comeback_points,
    )


def _preference(enabled: Any, start: Any, end: Any) -> NudgePreference:
    if enabled is None:
        return NudgePreference()
    return NudgePreference(bool(enabled), QuietHours(int(start), int(end)))


def _practice_topic(topics: Sequence[tuple[str, int, int]], bank: Set[str]) -> str | None:
    """Of the topics a member answered (topic, answered, right), the one /quiz practice
    would serve first: still in the bank, not mastered, least practised; None if none is."""
    book = TopicBook({topic: TopicRecord(answered, right) for topic, answered, right in topics})
    ordered = book.to_practise(topic for topic in book.records if topic in bank)
    return ordered[0] if ordered else None


class SqlNudgeRepository(_Repository):
    """Nudge decisions and outcomes, settings, templates and members' choices
    (``ports.NudgeRepository``). The planner's reads are a few statements per community,
    none per member."""

    # -- settings and the daily claim

    async def settings(self, community_id: int) -> NudgeSettings:
        row = (
            await self.session.scalars(
                select(NudgeSettingsRow)
                .where(col(NudgeSettingsRow.community_id) == community_id)
                .execution_options(populate_existing=True)
            )
        ).one_or_none()
        return _settings(row)

    async def save_settings(
        self, community_id: int, settings: NudgeSettings, now: datetime
    ) -> None:
        values = {
            "paused": settings.paused,
            "daily_cap": settings.daily_cap,
            "holdout_percent": settings.holdout_percent,
            "comeback_points": settings.comeback_points,
            "updated_at": now,
        }
        await self._upsert(NudgeSettingsRow, "community_id", community_id, values)

    async def planned_on(self, community_id: int) -> date | None:
        day = await self.session.scalar(
            select(col(NudgeSettingsRow.planned_on)).where(
                col(NudgeSettingsRow.community_id) == community_id
            )
        )
        return None if day is None else _as_date(day)

    async def claim_plan(self, community_id: int, day: date, now: datetime) -> bool:
        defaults = _settings(None)
        await self._inserted(
            insert_ignoring_duplicates(self.dialect, NudgeSettingsRow),
            {
                "community_id": community_id,
                "paused": defaults.paused,
                "daily_cap": defaults.daily_cap,
                "holdout_percent": defaults.holdout_percent,
                "comeback_points": defaults.comeback_points,
                "planned_on": None,
                "updated_at": now,
            },
        )
        planned_on = col(NudgeSettingsRow.planned_on)
        result = await self.session.execute(
            update(NudgeSettingsRow)
            .where(
                col(NudgeSettingsRow.community_id) == community_id,
                or_(planned_on.is_(None), planned_on < day),
            )
            .values(planned_on=day)
        )
        return bool(getattr(result, "rowcount", 0))

    # -- members' choices

    async def preference(self, member_id: int) -> NudgePreference:
        row = (
            await self.session.execute(
                select(
                    col(NudgePreferenceRow.enabled),
                    col(NudgePreferenceRow.quiet_start),
                    col(NudgePreferenceRow.quiet_end),
                ).where(col(NudgePreferenceRow.member_id) == member_id)
            )
        ).one_or_none()
        return NudgePreference() if row is None else _preference(*row)

    async def set_preference(
        self, member_id: int, preference: NudgePreference, now: datetime
    ) -> None:
        values = {
            "enabled": preference.enabled,
            "quiet_start": preference.quiet.start,
            "quiet_end": preference.quiet.end,
            "updated_at": now,
        }
        await self._upsert(NudgePreferenceRow, "member_id", member_id, values)

    async def _upsert(
        self, model: type[SQLModel], key: str, key_value: int, values: dict[str, Any]
    ) -> None:
        module: Any = postgresql if self.dialect == "postgresql" else sqlite
        statement = module.insert(_table(model)).values(**{key: key_value}, **values)
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=[key], set_=values)
        )

    # -- the planner's candidates

    async def candidates(
        self, community_id: int, timezone: str, today: date, now: datetime
    ) -> list[Candidate]:
        membership, member, stage = tables.Membership, tables.Member, MembershipStageRow
        preference = NudgePreferenceRow
        rows = (
            await self.session.execute(
                select(
                    col(membership.member_id),
                    col(membership.joined_at),
                    col(stage.stage),
                    col(stage.high_value),
                    col(stage.value_score),
                    col(stage.tags),
                    col(member.started_bot),
                    col(member.reachable),
                    col(member.forgotten_at),
                    col(preference.enabled),
                    col(preference.quiet_start),
                    col(preference.quiet_end),
                )
                .join(
                    stage,
                    and_(
                        col(stage.community_id) == col(membership.community_id),
                        col(stage.member_id) == col(membership.member_id),
                    ),
                )
                .join(member, col(member.id) == col(membership.member_id))
                .outerjoin(preference, col(preference.member_id) == col(membership.member_id))
                .where(
                    col(membership.community_id) == community_id,
                    col(membership.left_at).is_(None),
                    col(stage.stage).in_(_DRIFTING),
                )
                .order_by(col(membership.member_id))
            )
        ).all()
        if not rows:
            return []
        ids = [int(row[0]) for row in rows]
        tags = {int(row[0]): tuple(row[5] or ()) for row in rows}
        last_active = await self._last_active(community_id, ids)
        hours = await self._local_hours(community_id, ids, timezone, now)
        contacts = await self._contacts(community_id, ids)
        contacted = await self._contacted_anywhere(ids, now)
        facts = await self._facts(community_id, tags, timezone, now)
        zone = ZoneInfo(timezone)
        found: list[Candidate] = []
        for (
            member_id, joined_at, stage_name, high_value, value_score, _,
            started_bot, reachable, forgotten_at, enabled, quiet_start, quiet_end,
        ) in rows:  # fmt: skip
            choice = _preference(enabled, quiet_start, quiet_end)
            found.append(
                Candidate(
                    member_id=int(member_id),
                    stage=Stage(stage_name),
                    high_value=bool(high_value),
                    value_score=None if value_score is None else int(value_score),
                    joined_on=_aware(joined_at).astimezone(zone).date(),
                    last_active_on=last_active.get(member_id),
                    in_group=True,
                    started_bot=bool(started_bot),
                    reachable=bool(reachable) and forgotten_at is None,
                    nudges_enabled=choice.enabled,
                    quiet_hours=choice.quiet,
                    habitual_hour=habitual_hour(hours.get(member_id, ())),
                    contacts=tuple(contacts.get(member_id, ())),
                    facts=facts.get(member_id, NudgeFacts()),
                    contacted_at=tuple(contacted.get(member_id, ())),
                )
            )
        return found

    async def _last_active(self, community_id: int, ids: Sequence[int]) -> dict[int, date]:
        """Each member's latest local day of participation in the community."""
        activity = tables.Activity
        found: dict[int, date] = {}
        for chunk in _chunks(ids):
            result = await self.session.execute(
                select(col(activity.member_id), func.max(col(activity.local_day)))
                .where(
                    col(activity.community_id) == community_id,
                    col(activity.member_id).in_(chunk),
                    col(activity.kind).in_(_PARTICIPATION),
                )
                .group_by(col(activity.member_id))
            )
            found.update((int(member), _as_date(day)) for member, day in result)
        return found

    async def _local_hours(
        self, community_id: int, ids: Sequence[int], timezone: str, now: datetime
    ) -> dict[int, list[int]]:
        """The local hours of each member's participation over the last ``_HABIT_DAYS``."""
        activity = tables.Activity
        zone = ZoneInfo(timezone)
        found: defaultdict[int, list[int]] = defaultdict(list)
        for chunk in _chunks(ids):
            result = await self.session.execute(
                select(col(activity.member_id), col(activity.occurred_at)).where(
                    col(activity.community_id) == community_id,
                    col(activity.member_id).in_(chunk),
                    col(activity.kind).in_(_PARTICIPATION),
                    col(activity.occurred_at) >= now - timedelta(days=_HABIT_DAYS),
                    col(activity.occurred_at) <= now,
                )
            )
            for member, moment in result:
                found[int(member)].append(_aware(moment).astimezone(zone).hour)
        return found

    async def _contacts(self, community_id: int, ids: Sequence[int]) -> dict[int, list[Contact]]:
        """Each member's nudges sent, planned and held out in the community, oldest first."""
        nudge = NudgeRow
        found: defaultdict[int, list[Contact]] = defaultdict(list)
        for chunk in _chunks(ids):
            result = await self.session.execute(
                select(
                    col(nudge.member_id),
                    col(nudge.planned_on),
                    col(nudge.episode),
                    col(nudge.kind),
                    col(nudge.template),
                )
                .where(
                    col(nudge.community_id) == community_id,
                    col(nudge.member_id).in_(chunk),
                    col(nudge.status).in_(_CONTACT_STATUSES),
                )
                .order_by(col(nudge.member_id), col(nudge.planned_on), col(nudge.id))
            )
            for member, day, episode, kind, template in result:
                found[int(member)].append(
                    Contact(
                        _as_date(day),
                        _as_date(episode),
                        None if kind is None else NudgeKind(kind),
                        template,
                    )
                )
        return found

    async def _contacted_anywhere(
        self, ids: Sequence[int], now: datetime
    ) -> dict[int, list[datetime]]:
        """When each member was (or is planned to be) contacted in any community, within
        the gap's reach: a member of two communities is one person to nudge."""
        nudge = NudgeRow
        at = func.coalesce(col(nudge.sent_at), col(nudge.due_at))
        found: defaultdict[int, list[datetime]] = defaultdict(list)
        for chunk in _chunks(ids):
            result = await self.session.execute(
                select(col(nudge.member_id), at).where(
                    col(nudge.member_id).in_(chunk),
                    col(nudge.status).in_(_CONTACT_STATUSES),
                    # (a nudge is sent within LATE_GRACE of its time: due_at is as good)
                    col(nudge.due_at) >= now - timedelta(days=NUDGE_GAP_DAYS + 1),
                )
            )
            for member, moment in result:
                found[int(member)].append(_aware(moment))
        return found

    # -- the facts a nudge may mention

    async def facts(
        self, community_id: int, member_ids: Sequence[int], timezone: str, now: datetime
    ) -> dict[int, NudgeFacts]:
        """What is true about each of these members as of ``now`` (``NudgeFacts``); members
        with nothing to mention are left out."""
        stage = MembershipStageRow
        tags: dict[int, tuple[str, ...]] = dict.fromkeys(member_ids, ())
        for chunk in _chunks(list(member_ids)):
            result = await self.session.execute(
                select(col(stage.member_id), col(stage.tags)).where(
                    col(stage.community_id) == community_id, col(stage.member_id).in_(chunk)
                )
            )
            tags.update((int(member), tuple(each or ())) for member, each in result)
        return await self._facts(community_id, tags, timezone, now)

    async def _facts(
        self,
        community_id: int,
        tags: Mapping[int, Sequence[str]],
        timezone: str,
        now: datetime,
    ) -> dict[int, NudgeFacts]:
        ids = sorted(tags)
        streaks = await self._best_streaks(community_id, ids)
        expiring = await self._expiring(community_id, ids, timezone, now)
        topics = await self._practice_topics(community_id, ids)
        events = await self._upcoming_events(community_id, now)
        interests = await self._answered(community_id, ids) if events else {}
        found: dict[int, NudgeFacts] = {}
        for member_id in ids:
            points, expiring_on = expiring.get(member_id, (0, None))
            event, matches = _event_for(events, [*tags[member_id], *interests.get(member_id, ())])
            facts = NudgeFacts(
                best_streak=streaks.get(member_id, 0),
                expiring_points=points,
                expiring_on=expiring_on,
                event=event,
                event_matches_interest=matches,
                quiz_topic=topics.get(member_id),
            )
            if facts != NudgeFacts():
                found[member_id] = facts
        return found

    async def _answered(self, community_id: int, ids: Sequence[int]) -> dict[int, list[str]]:
        """Per member: what they chose in the questionnaire (``city:shanghai`` → shanghai),
        which an event of that type matches as an interest does."""
        tags = SqlTagRepository(self.session, self.dialect)
        found: dict[int, list[str]] = {}
        for chunk in _chunks(ids):
            for member_id, own in (await tags.of_members(community_id, chunk)).items():
                found[member_id] = answered_values(own)
        return found

    async def _best_streaks(self, community_id: int, ids: Sequence[int]) -> dict[int, int]:
        checkin = tables.Checkin
        found: dict[int, int] = {}
        for chunk in _chunks(ids):
            result = await self.session.execute(
                select(col(checkin.member_id), func.max(col(checkin.best)))
                .where(col(checkin.community_id) == community_id, col(checkin.member_id).in_(chunk))
                .group_by(col(checkin.member_id))
            )
            found.update((int(member), int(best or 0)) for member, best in result)
        return found

    async def _expiring(
        self, community_id: int, ids: Sequence[int], timezone: str, now: datetime
    ) -> dict[int, tuple[int, date]]:
        """Per member: the first local day within ``EXPIRY_HORIZON_DAYS`` on which points
        of theirs expire, and how many expire that day (a nudge names both together)."""
        lot = tables.PointsEntry
        expires = col(lot.expires_at)
        found: dict[int, tuple[int, date]] = {}
        for chunk in _chunks(ids):
            result = await self.session.execute(
                select(col(lot.member_id), col(lot.remaining), expires)
                .where(
                    col(lot.community_id) == community_id,
                    col(lot.member_id).in_(chunk),
                    col(lot.remaining) > 0,
                    expires > now,
                    expires <= now + timedelta(days=EXPIRY_HORIZON_DAYS),
                )
                .order_by(col(lot.member_id), expires)
            )
            for member, points, expiry in result:
                day = local_day(_aware(expiry), timezone)
                total, first = found.get(int(member), (0, day))
                if day == first:
                    found[int(member)] = (total + int(points or 0), day)
        return found

    async def _practice_topics(self, community_id: int, ids: Sequence[int]) -> dict[int, str]:
        """Per member: the quiz topic a nudge may name (``_practice_topic``)."""
        bank = set(
            await self.session.scalars(
                select(col(QuestionRow.topic))
                .where(col(QuestionRow.community_id) == community_id, col(QuestionRow.active))
                .distinct()
            )
        )
        if not bank:
            return {}
        answer = QuizAnswerRow
        per_member: defaultdict[int, list[tuple[str, int, int]]] = defaultdict(list)
        for chunk in _chunks(ids):
            result = await self.session.execute(
                select(
                    col(answer.member_id),
                    col(answer.topic),
                    func.count(),
                    func.count(case((col(answer.correct), 1))),
                )
                .where(
                    col(answer.community_id) == community_id,
                    col(answer.member_id).in_(chunk),
                    col(answer.option).is_not(None),
                )
                .group_by(col(answer.member_id), col(answer.topic))
            )
            for member, topic, answered, right in result:
                per_member[int(member)].append((str(topic), int(answered), int(right)))
        found: dict[int, str] = {}
        for member_id, topics in per_member.items():
            named = _practice_topic(topics, bank)
            if named is not None:
                found[member_id] = named
        return found

    async def _upcoming_events(self, community_id: int, now: datetime) -> list[UpcomingEvent]:
        """Scheduled events starting within ``EVENT_HORIZON_DAYS`` whose registration is
        still open, soonest first."""
        event = EventRow
        result = await self.session.execute(
            select(col(event.id), col(event.title), col(event.starts_at), col(event.tag))
            .where(
                col(event.community_id) == community_id,
                col(event.status) == EventStatus.SCHEDULED.value,
                col(event.starts_at) > now,
                col(event.starts_at) <= now + timedelta(days=EVENT_HORIZON_DAYS),
                col(event.registration_deadline) > now,
            )
            .order_by(col(event.starts_at), col(event.id))
        )
        return [
            UpcomingEvent(int(event_id or 0), str(title), _aware(starts_at), tag)
            for event_id, title, starts_at, tag in result
        ]

    # -- decisions

    async def record(
        self, community_id: int, planned_on: date, decisions: Sequence[Decision], now: datetime
    ) -> int:
        if not decisions:
            return 0
        before = await self._count_day(community_id, planned_on)
        rows = [
            {
                "community_id": community_id,
                "member_id": decision.member_id,
                "planned_on": planned_on,
                "episode": decision.episode,
                "step": decision.step,
                "status": decision.status.value,
                "kind": None if decision.kind is None else decision.kind.value,
                "reason": None if decision.reason is None else decision.reason.value,
                "template": None,
                "event_id": None,
                "decided_at": now,
                "due_at": decision.due_at,
                "sent_at": None,
                "clicked_at": None,
                "returned_at": None,
                "opted_out_at": None,
                "offer_points": decision.offer_points,
            }
            for decision in decisions
        ]
        await self.session.execute(insert_ignoring_duplicates(self.dialect, NudgeRow), rows)
        return await self._count_day(community_id, planned_on) - before

    async def _count_day(
        self, community_id: int, day: date, statuses: Sequence[str] | None = None
    ) -> int:
        statement = (
            select(func.count())
            .select_from(NudgeRow)
            .where(col(NudgeRow.community_id) == community_id, col(NudgeRow.planned_on) == day)
        )
        if statuses is not None:
            statement = statement.where(col(NudgeRow.status).in_(list(statuses)))
        return int(await self.session.scalar(statement) or 0)

    async def count_sent(self, community_id: int, day: date) -> int:
        return await self._count_day(community_id, day, _COUNTED_STATUSES)

    async def due(self, now: datetime, limit: int) -> list[NudgeRecord]:
        rows = await self.session.scalars(
            select(NudgeRow)
            .where(_AWAITING_CONTACT, col(NudgeRow.due_at) <= now)
            .order_by(col(NudgeRow.due_at), col(NudgeRow.id))
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        return [_record(row) for row in rows]

    async def decided_on(self, community_id: int, day: date) -> list[NudgeRecord]:
        rows = await self.session.scalars(
            select(NudgeRow)
            .where(col(NudgeRow.community_id) == community_id, col(NudgeRow.planned_on) == day)
            .order_by(col(NudgeRow.id))
            .execution_options(populate_existing=True)
        )
        return [_record(row) for row in rows]

    async def get(self, nudge_id: int) -> NudgeRecord | None:
        row = (
            await self.session.scalars(
                select(NudgeRow)
                .where(col(NudgeRow.id) == nudge_id)
                .execution_options(populate_existing=True)
            )
        ).one_or_none()
        return None if row is None else _record(row)

    async def mark_sent(
        self,
        nudge_id: int,
        *,
        kind: NudgeKind,
        template: str,
        event_id: int | None,
        now: datetime,
    ) -> bool:
        return await self._change(
            nudge_id,
            col(NudgeRow.status) == NudgeStatus.PLANNED.value,
            status=NudgeStatus.SENT.value,
            kind=kind.value,
            template=template,
            event_id=event_id,
            sent_at=now,
        )

    async def mark_held_out(self, nudge_id: int, now: datetime) -> bool:
        return await self._change(
            nudge_id,
            col(NudgeRow.status) == NudgeStatus.HELD_OUT.value,
            col(NudgeRow.sent_at).is_(None),
            sent_at=now,
        )

    async def mark_skipped(self, nudge_id: int, reason: SkipReason) -> bool:
        return await self._change(
            nudge_id,
            _AWAITING_CONTACT,
            status=NudgeStatus.SKIPPED.value,
            reason=reason.value,
        )

    async def mark_expired(self, nudge_id: int) -> bool:
        return await self._change(
            nudge_id,
            col(NudgeRow.status) == NudgeStatus.SENT.value,
            status=NudgeStatus.SKIPPED.value,
            reason=SkipReason.LATE.value,
            sent_at=None,
        )

    async def mark_clicked(self, nudge_id: int, now: datetime) -> bool:
        return await self._change(nudge_id, col(NudgeRow.clicked_at).is_(None), clicked_at=now)

    async def mark_opted_out(self, nudge_id: int, now: datetime) -> bool:
        return await self._change(nudge_id, col(NudgeRow.opted_out_at).is_(None), opted_out_at=now)

    async def clear_opted_out(self, nudge_id: int) -> bool:
        return await self._change(
            nudge_id, col(NudgeRow.opted_out_at).is_not(None), opted_out_at=None
        )

    async def _change(self, nudge_id: int, *conditions: Any, **values: Any) -> bool:
        """A conditional update of one nudge: True when the conditions held (and it changed)."""
        result = await self.session.execute(
            update(NudgeRow).where(col(NudgeRow.id) == nudge_id, *conditions).values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def active_on(self, community_id: int, member_id: int, day: date) -> bool:
        activity = tables.Activity
        found = await self.session.scalar(
            select(col(activity.id))
            .where(
                col(activity.community_id) == community_id,
                col(activity.member_id) == member_id,
                col(activity.local_day) == day,
                col(activity.kind).in_(_PARTICIPATION),
            )
            .limit(1)
        )
        return found is not None

    # -- outcomes

    async def record_returns(self, now: datetime) -> int:
        window = timedelta(days=RETURN_WINDOW_DAYS)
        nudge = NudgeRow
        contact_at = col(nudge.sent_at)  # for the holdout: when the contact was confirmed
        open_contacts = (
            await self.session.execute(
                select(
                    col(nudge.id),
                    col(nudge.community_id),
                    col(nudge.member_id),
                    col(nudge.sent_at),
                )
                .where(
                    col(nudge.status).in_([NudgeStatus.SENT.value, NudgeStatus.HELD_OUT.value]),
                    col(nudge.returned_at).is_(None),
                    contact_at >= now - window - timedelta(days=1),
                    contact_at < now,
                )
                .order_by(col(nudge.community_id), col(nudge.member_id))
            )
        ).all()
        # (community, member) -> [(nudge id, contact time)]
        contacts: defaultdict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
        for nudge_id, community_id, member_id, sent_at in open_contacts:
            if nudge_id is not None and sent_at is not None:
                contacts[(int(community_id), int(member_id))].append((int(nudge_id), sent_at))
        by_community: defaultdict[int, list[int]] = defaultdict(list)
        for community_id, member_id in contacts:
            by_community[community_id].append(member_id)
        marked = 0
        activity = tables.Activity
        for community_id, ids in by_community.items():
            earliest = min(
                moment for member_id in ids for _, moment in contacts[(community_id, member_id)]
            )
            for chunk in _chunks(ids):
                result = await self.session.execute(
                    select(col(activity.member_id), col(activity.occurred_at))
                    .where(
                        col(activity.community_id) == community_id,
                        col(activity.member_id).in_(chunk),
                        col(activity.kind).in_(_PARTICIPATION),
                        col(activity.occurred_at) > earliest,
                        col(activity.occurred_at) <= now,
                    )
                    .order_by(col(activity.member_id), col(activity.occurred_at))
                )
                seen: defaultdict[int, list[datetime]] = defaultdict(list)
                for member_id, moment in result:
                    seen[int(member_id)].append(_aware(moment))
                for member_id, moments in seen.items():
                    for nudge_id, contact in contacts[(community_id, member_id)]:
                        first = next(
                            (each for each in moments if contact < each <= contact + window),
                            None,
                        )
                        if first is not None and await self._change(
                            nudge_id, col(nudge.returned_at).is_(None), returned_at=first
                        ):
                            marked += 1
        return marked

    async def outcomes(self, community_id: int, since: date, now: datetime) -> NudgeOutcomes:
        nudge = NudgeRow
        contact_at = col(nudge.sent_at)  # for the holdout: when the contact was confirmed
        # a contact counts once its return window is over, returned or not: counting early
        # returns as well would let recent contacts in only when they returned
        matured = contact_at <= now - timedelta(days=RETURN_WINDOW_DAYS)
        returned = and_(matured, col(nudge.returned_at).is_not(None))
        result = await self.session.execute(
            select(
                col(nudge.status),
                col(nudge.kind),
                col(nudge.reason),
                func.count(),
                func.count(case((matured, 1))),
                func.count(case((returned, 1))),
                func.count(col(nudge.clicked_at)),
                func.count(col(nudge.opted_out_at)),
                col(nudge.sent_at).is_(None),
            )
            .where(col(nudge.community_id) == community_id, col(nudge.planned_on) >= since)
            .group_by(
                col(nudge.status), col(nudge.kind), col(nudge.reason), col(nudge.sent_at).is_(None)
            )
        )
        by_kind: dict[NudgeKind, KindOutcome] = {}
        holdout = KindOutcome(None, 0, 0, 0, 0, 0)
        skipped: dict[SkipReason, int] = {}
        planned = 0
        for status, kind, reason, contacts, ripe, back, clicked, opted_out, pending in result:
            if status == NudgeStatus.HELD_OUT.value and pending:
                continue  # a holdout contact not yet due: neither a contact nor a send
            figures = (int(contacts), int(ripe), int(back), int(clicked), int(opted_out))
            if status == NudgeStatus.SENT.value and kind is not None:
                each = NudgeKind(kind)
                before = by_kind.get(each, KindOutcome(each, 0, 0, 0, 0, 0))
                by_kind[each] = KindOutcome(
                    each, *(a + b for a, b in zip(before[1:], figures, strict=True))
                )
            elif status == NudgeStatus.HELD_OUT.value:
                holdout = KindOutcome(
                    None, *(a + b for a, b in zip(holdout[1:], figures, strict=True))
                )
            elif status == NudgeStatus.SKIPPED.value and reason is not None:
                skipped[SkipReason(reason)] = skipped.get(SkipReason(reason), 0) + int(contacts)
            elif status == NudgeStatus.PLANNED.value:
                planned += int(contacts)
        ordered = tuple(by_kind[kind] for kind in NudgeKind if kind in by_kind)
        per_member = await self.session.execute(
            select(
                col(nudge.member_id),
                col(nudge.status),
                func.min(contact_at),
                func.count(case((matured, 1))),
                func.count(case((returned, 1))),
            )
            .where(
                col(nudge.community_id) == community_id,
                col(nudge.planned_on) >= since,
                col(nudge.status).in_([NudgeStatus.SENT.value, NudgeStatus.HELD_OUT.value]),
                contact_at.is_not(None),
            )
            .group_by(col(nudge.member_id), col(nudge.status))
        )
        members = member_returns(
            MemberContacts(
                int(member_id),
                status == NudgeStatus.HELD_OUT.value,
                _aware(first_at),
                int(ripe),
                int(back),
            )
            for member_id, status, first_at, ripe, back in per_member
        )
        return NudgeOutcomes(ordered, holdout, skipped, planned, members)

    async def history(self, community_id: int, member_id: int) -> list[NudgeRecord]:
        rows = await self.session.scalars(
            select(NudgeRow)
            .where(col(NudgeRow.community_id) == community_id, col(NudgeRow.member_id) == member_id)
            .order_by(col(NudgeRow.planned_on).desc(), col(NudgeRow.id).desc())
            .execution_options(populate_existing=True)
        )
        return [_record(row) for row in rows]

    # -- templates

    async def templates(self, community_id: int) -> list[NudgeTemplate]:
        result = await self.session.execute(
            select(col(NudgeTemplateRow.id), col(NudgeTemplateRow.kind), col(NudgeTemplateRow.text))
            .where(col(NudgeTemplateRow.community_id) == community_id)
            .order_by(col(NudgeTemplateRow.kind), col(NudgeTemplateRow.id))
        )
        return [
            NudgeTemplate(int(each or 0), NudgeKind(kind), str(text)) for each, kind, text in result
        ]

    async def add_template(
        self, community_id: int, template: NudgeTemplate, actor_id: int, now: datetime
    ) -> int:
        result = await self.session.execute(
            insert(NudgeTemplateRow)
            .values(
                community_id=community_id,
                kind=template.kind.value,
                text=template.text,
                created_by=actor_id,
                created_at=now,
            )
            .returning(col(NudgeTemplateRow.id))
        )
        return int(result.scalar_one() or 0)

    async def remove_template(self, community_id: int, template_id: int) -> bool:
        result = await self.session.execute(
            delete(NudgeTemplateRow).where(
                col(NudgeTemplateRow.community_id) == community_id,
                col(NudgeTemplateRow.id) == template_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))


def _event_for(
    events: Sequence[UpcomingEvent], tags: Sequence[str]
) -> tuple[UpcomingEvent | None, bool]:
    """The soonest event whose type is among the member's tags, else the soonest of all."""
    for event in events:
        if event.tag is not None and tag_slug(event.tag) in tags:
            return event, True
    return (events[0], False) if events else (None, False)
