"""The unit of work: one transaction, opened only when something actually needs the database."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hearth.domain.activity import ActivityRecord
from hearth.storage import attachments, tags  # noqa: F401 - registers their tables
from hearth.storage.announcements import SqlAnnouncementRepository
from hearth.storage.attachments import SqlAttachmentRepository
from hearth.storage.attribution import SqlAttributionRepository
from hearth.storage.cars import SqlCarRepository
from hearth.storage.channels import SqlChannelRepository
from hearth.storage.cohorts import SqlCohortRepository
from hearth.storage.console import SqlConsoleLinkRepository
from hearth.storage.conversions import SqlConversionRepository, SqlMemberContactRepository
from hearth.storage.draws import SqlDrawsRepository
from hearth.storage.engagement import SqlEngagementRepository
from hearth.storage.events import SqlEventsRepository
from hearth.storage.exit_survey import SqlExitSurveyRepository
from hearth.storage.exports import SqlExportRepository
from hearth.storage.feedback_box import SqlFeedbackBoxRepository
from hearth.storage.greetings import SqlGreetingsRepository
from hearth.storage.honour import SqlHonourRepository
from hearth.storage.insight import SqlInsightRepository
from hearth.storage.member_card import SqlMemberCardQueries
from hearth.storage.missions import SqlMissionRepository
from hearth.storage.nudges import SqlNudgeRepository
from hearth.storage.outbox import SqlOutboxRepository
from hearth.storage.privacy import SqlPrivacyRepository
from hearth.storage.profile import SqlProfileRepository
from hearth.storage.quizzes import SqlQuizRepository
from hearth.storage.referrals import SqlReferralRepository
from hearth.storage.repositories import (
    SqlActivityRepository,
    SqlAuditLog,
    SqlCheckinRepository,
    SqlCommunityRepository,
    SqlMemberRepository,
    SqlMembershipRepository,
    SqlPointsRepository,
    SqlProcessedUpdates,
)
from hearth.storage.rewards import SqlRewardsRepository
from hearth.storage.segments import SqlSegmentsRepository
from hearth.storage.tags import SqlTagRepository

log = logging.getLogger(__name__)

# Work that belongs in the transaction that wrote activity, given the rows it wrote (the
# newcomer missions are read from the activity stream, whichever path wrote it).
ActivityHook = Callable[["SqlUnitOfWork", list[ActivityRecord]], Awaitable[None]]


class SqlUnitOfWork:
    """Owns one AsyncSession, created lazily: an update that needs no SQL costs no transaction."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        dialect: str,
        on_activity: ActivityHook | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._dialect = dialect
        self._session: AsyncSession | None = None
        self._after_commit: list[Callable[[], None]] = []
        self._before_commit: list[Callable[[], Awaitable[None]]] = []
        self._on_activity = on_activity
        self._activity_written: list[ActivityRecord] = []

    @property
    def in_transaction(self) -> bool:
        """Whether uncommitted work is open (and, on SQLite, the write lock held)."""
        return self._session is not None and self._session.in_transaction()

    @property
    def started(self) -> bool:
        """Whether a transaction was opened."""
        return self._session is not None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._session_factory()
        return self._session

    @property
    def communities(self) -> SqlCommunityRepository:
        return SqlCommunityRepository(self.session, self._dialect)

    @property
    def members(self) -> SqlMemberRepository:
        return SqlMemberRepository(self.session, self._dialect)

    @property
    def memberships(self) -> SqlMembershipRepository:
        return SqlMembershipRepository(self.session, self._dialect)

    @property
    def activity(self) -> SqlActivityRepository:
        if self._on_activity is None:
            return SqlActivityRepository(self.session, self._dialect)
        return _WatchedActivity(self.session, self._dialect, self._activity_written)

    @property
    def audit(self) -> SqlAuditLog:
        return SqlAuditLog(self.session, self._dialect)

    @property
    def checkins(self) -> SqlCheckinRepository:
        return SqlCheckinRepository(self.session, self._dialect)

    @property
    def points(self) -> SqlPointsRepository:
        return SqlPointsRepository(self.session, self._dialect)

    @property
    def rewards(self) -> SqlRewardsRepository:
        return SqlRewardsRepository(self.session, self._dialect)

    @property
    def events(self) -> SqlEventsRepository:
        return SqlEventsRepository(self.session, self._dialect)

    @property
    def announcements(self) -> SqlAnnouncementRepository:
        return SqlAnnouncementRepository(self.session, self._dialect)

    @property
    def greetings(self) -> SqlGreetingsRepository:
        return SqlGreetingsRepository(self.session, self._dialect)

    @property
    def processed_updates(self) -> SqlProcessedUpdates:
        return SqlProcessedUpdates(self.session, self._dialect)

    @property
    def outbox(self) -> SqlOutboxRepository:
        return SqlOutboxRepository(self.session, self._dialect)

    @property
    def quizzes(self) -> SqlQuizRepository:
        return SqlQuizRepository(self.session, self._dialect)

    @property
    def engagement(self) -> SqlEngagementRepository:
        return SqlEngagementRepository(self.session, self._dialect)

    @property
    def insight(self) -> SqlInsightRepository:
        return SqlInsightRepository(self.session, self._dialect)

    @property
    def segments(self) -> SqlSegmentsRepository:
        return SqlSegmentsRepository(self.session, self._dialect)

    @property
    def tags(self) -> SqlTagRepository:
        return SqlTagRepository(self.session, self._dialect)

    @property
    def exports(self) -> SqlExportRepository:
        return SqlExportRepository(self.session, self._dialect)

    @property
    def member_cards(self) -> SqlMemberCardQueries:
        return SqlMemberCardQueries(self.session, self._dialect)

    @property
    def privacy(self) -> SqlPrivacyRepository:
        return SqlPrivacyRepository(self.session, self._dialect)

    @property
    def cohorts(self) -> SqlCohortRepository:
        return SqlCohortRepository(self.session, self._dialect)

    @property
    def attachments(self) -> SqlAttachmentRepository:
        return SqlAttachmentRepository(self.session, self._dialect)

    @property
    def nudges(self) -> SqlNudgeRepository:
        return SqlNudgeRepository(self.session, self._dialect)

    @property
    def profile(self) -> SqlProfileRepository:
        return SqlProfileRepository(self.session, self._dialect)

    @property
    def referrals(self) -> SqlReferralRepository:
        return SqlReferralRepository(self.session, self._dialect)

    @property
    def conversions(self) -> SqlConversionRepository:
        return SqlConversionRepository(self.session, self._dialect)

    @property
    def member_contacts(self) -> SqlMemberContactRepository:
        return SqlMemberContactRepository(self.session, self._dialect)

    @property
    def attribution(self) -> SqlAttributionRepository:
        return SqlAttributionRepository(self.session, self._dialect)

    @property
    def console_links(self) -> SqlConsoleLinkRepository:
        return SqlConsoleLinkRepository(self.session, self._dialect)

    @property
    def draws(self) -> SqlDrawsRepository:
        return SqlDrawsRepository(self.session, self._dialect)

    @property
    def feedback_box(self) -> SqlFeedbackBoxRepository:
        return SqlFeedbackBoxRepository(self.session, self._dialect)

    @property
    def exit_surveys(self) -> SqlExitSurveyRepository:
        return SqlExitSurveyRepository(self.session, self._dialect)

    @property
    def honour(self) -> SqlHonourRepository:
        return SqlHonourRepository(self.session, self._dialect)

    @property
    def missions(self) -> SqlMissionRepository:
        return SqlMissionRepository(self.session, self._dialect)

    @property
    def cars(self) -> SqlCarRepository:
        return SqlCarRepository(self.session, self._dialect)

    @property
    def channels(self) -> SqlChannelRepository:
        return SqlChannelRepository(self.session, self._dialect)

    def on_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def before_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Run ``hook`` inside the first transaction that commits (once; none if none does)."""
        self._before_commit.append(hook)

    async def commit(self) -> None:
        if self.in_transaction:
            await self._hand_over_activity()
            hooks, self._before_commit = self._before_commit, []
            for hook in hooks:
                await hook()
        if self._session is not None:
            await self._session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def _hand_over_activity(self) -> None:
        """Give the activity written in this transaction to the hook, once."""
        if self._on_activity is not None and self._activity_written:
            written = list(self._activity_written)
            self._activity_written.clear()
            await self._on_activity(self, written)

    async def rollback(self) -> None:
        self._after_commit.clear()
        self._activity_written.clear()
        if self._session is not None:
            await self._session.rollback()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SqlUnitOfWork:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Leaving without commit() discards the work: nothing half-done is ever kept.
        await self.rollback()
        await self.close()


class _WatchedActivity(SqlActivityRepository):
    """The activity repository of a unit of work with an activity hook: notes what it writes."""

    def __init__(self, session: AsyncSession, dialect: str, written: list[ActivityRecord]) -> None:
        super().__init__(session, dialect)
        self._written = written

    async def add_many(self, records: Iterable[ActivityRecord]) -> None:
        records = list(records)
        await super().add_many(records)
        self._written.extend(records)


class UnitOfWorkFactory:
    """Makes units of work for one database; ``on_activity`` runs in each transaction that
    wrote activity, just before it commits."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], dialect: str) -> None:
        self.session_factory = session_factory
        self.dialect = dialect
        self.on_activity: ActivityHook | None = None

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory, self.dialect, self.on_activity)
