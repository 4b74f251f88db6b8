"""The one bootstrap: settings in, a wired Hearth out. Nothing is created at import time."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from hearth.bot.acknowledgements import Acknowledgements
from hearth.bot.announcer import OutboxAnnouncer, OutboxGreeter
from hearth.bot.clock import SystemClock
from hearth.bot.commit_first import CommitBeforeRequest, KeepResponseModels
from hearth.bot.conversion_notices import OutboxConversionNotices
from hearth.bot.delivery import DeliveryWorker, SendBudget
from hearth.bot.digest import OutboxDigests
from hearth.bot.dispatcher import build_dispatcher
from hearth.bot.draw_notices import OutboxDrawNotices
from hearth.bot.event_notices import OutboxEventNotices
from hearth.bot.exit_survey import OutboxExitSurvey
from hearth.bot.feedback_notices import OutboxFeedbackNotices
from hearth.bot.honour_notices import OutboxHonourNotices
from hearth.bot.leader import Leadership
from hearth.bot.metrics import Metrics
from hearth.bot.middlewares.dedupe import (
    DEFAULT_WINDOW_SECONDS,
    RecentUpdates,
    SharedUpdateClaims,
)
from hearth.bot.middlewares.inflight import InFlightMiddleware
from hearth.bot.mission_notices import OutboxMissionNotices
from hearth.bot.notifier import OutboxWriter, PrivateNotifier
from hearth.bot.nudges import OutboxNudges
from hearth.bot.operators import ChatAdminOperators
from hearth.bot.quiz_rounds import QuizRounds
from hearth.bot.referral_notices import OutboxReferralNotices
from hearth.bot.service_notices import OutboxServiceNotices
from hearth.bot.shared_limits import SharedLimits
from hearth.bot.startup import publish_commands
from hearth.bot.welcomes import GroupWelcomes
from hearth.config import Settings
from hearth.domain.activity import ActivityRecord
from hearth.domain.members import CommunityProfile
from hearth.domain.schedules import schedule_from_spec
from hearth.i18n import build_i18n
from hearth.scheduler.announcements import AnnouncementTimetable
from hearth.scheduler.jobs import build_scheduler
from hearth.scheduler.quizzes import QuizTimetable
from hearth.services import activity_points, missions
from hearth.services.communities import CommunityDefaults
from hearth.services.console import ConsoleAccess, ConsoleKeys, console_secret
from hearth.services.directory import Directory
from hearth.services.ports import Clock, MissionNotices, UnitOfWork
from hearth.storage.activity_buffer import ActivityBuffer, BatchHook
from hearth.storage.engine import create_engine, unit_of_work_factory
from hearth.storage.unit_of_work import ActivityHook, UnitOfWorkFactory

log = logging.getLogger(__name__)

REDIS_CONNECTIONS = 200  # per worker: handlers, delivery and acknowledgements together

# Update types Hearth asks Telegram for, on top of those its handlers use.
EXTRA_UPDATE_TYPES = ("chat_member", "message_reaction", "poll_answer", "my_chat_member")


class MissingToken(RuntimeError):
    """``HEARTH_BOT_TOKEN`` is not set."""


@dataclass
class Hearth:
    """Everything one Hearth process runs on."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    buffer: ActivityBuffer
    i18n: I18n
    bot: Bot
    operators: ChatAdminOperators
    recent_updates: RecentUpdates
    inflight: InFlightMiddleware
    welcomes: GroupWelcomes
    acks: Acknowledgements
    outbox: OutboxWriter
    notifier: PrivateNotifier
    event_notices: OutboxEventNotices
    digests: OutboxDigests
    nudges: OutboxNudges
    draw_notices: OutboxDrawNotices
    delivery: DeliveryWorker
    quiz_rounds: QuizRounds
    quiz_timetable: QuizTimetable
    timetable: AnnouncementTimetable
    scheduler: AsyncIOScheduler
    dispatcher: Dispatcher
    metrics: Metrics
    redis: Redis | None = None
    leadership: Leadership | None = None
    console_access: ConsoleAccess | None = None  # when HEARTH_CONSOLE_URL is set
    service_notices: OutboxServiceNotices | None = None

    @property
    def allowed_updates(self) -> list[str]:
        return sorted(set(self.dispatcher.resolve_used_update_types()) | set(EXTRA_UPDATE_TYPES))

    async def on_startup(self) -> None:
        """Remember recently processed updates, start the writer, publish the command menu."""
        since = self.clock.now() - timedelta(seconds=DEFAULT_WINDOW_SECONDS)
        async with self.uow_factory() as uow:
            await uow.processed_updates.prune(since)
            self.recent_updates.preload(await uow.processed_updates.since(since))
            await uow.commit()
        await self.buffer.start()
        await self.delivery.start()
        if self.settings.scheduler:
            self.leadership = Leadership(
                self.settings.database_url,
                on_elected=self._lead,
                on_deposed=self._step_down,
                retry_seconds=self.settings.leader_retry_seconds,
            )
            await self.leadership.start()
        await publish_commands(self.bot, self.i18n)
        log.info("Hearth is up (%d recent updates remembered)", len(self.recent_updates))

    async def _lead(self) -> None:
        """This worker won the scheduler lock: run the jobs and the rounds left running."""
        if self.scheduler.running:
            self.scheduler.resume()
        else:
            self.scheduler.start()
        await self.quiz_rounds.resume()  # rounds that were running when the last leader stopped

    async def _step_down(self) -> None:
        if self.scheduler.running:
            self.scheduler.pause()

    async def on_shutdown(self) -> None:
        """Let running handlers finish, write buffered activity, close the database."""
        if self.leadership is not None:
            await self.leadership.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if not await self.inflight.wait_idle(timeout=30):
            log.warning("%d updates still running at shutdown", self.inflight.running)
        await self.welcomes.drain()
        await self.acks.stop()
        await self.quiz_rounds.stop()
        await self.delivery.stop()
        await self.buffer.stop()
        await self.engine.dispose()
        if self.redis is not None:
            await self.operators.settle()  # what this worker told the others goes first
            await self.delivery.budget.settle()
            await self.redis.aclose()
        log.info("Hearth stopped; %d activity rows written", self.buffer.written)


def build_hearth(
    settings: Settings,
    *,
    clock: Clock | None = None,
    session: BaseSession | None = None,
    storage: BaseStorage | None = None,
) -> Hearth:
    """Wire the real adapters. ``session`` replaces the HTTP session (tests record with it)."""
    if settings.bot_token is None:
        raise MissingToken("HEARTH_BOT_TOKEN is not set")
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    uow_factory = unit_of_work_factory(engine)
    buffer = ActivityBuffer(
        uow_factory,
        clock,
        max_rows=settings.activity_flush_rows,
        max_delay=settings.activity_flush_seconds,
    )
    i18n = build_i18n(settings.default_locale)
    if session is None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
    session.middleware(CommitBeforeRequest())
    session.middleware(KeepResponseModels())
    bot = Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    # One Redis connection pool per worker, for everything shared between workers.
    redis = None
    if settings.redis_url:
        # A request waits for a free connection rather than failing when all are busy.
        pool = BlockingConnectionPool.from_url(
            settings.redis_url, max_connections=REDIS_CONNECTIONS, timeout=10
        )
        redis = Redis.from_pool(pool)  # (closing the client closes the pool)
    shared_claims = None
    if redis is not None:
        from aiogram.fsm.storage.redis import RedisStorage

        if storage is None:
            storage = RedisStorage(redis)
        shared_claims = SharedUpdateClaims(
            redis, f"hearth:{bot.id}", lease=settings.update_lease_seconds
        )
    metrics = Metrics()
    operators = ChatAdminOperators(
        settings.operator_ids,
        settings.admin_cache_seconds,
        redis=redis,
        namespace=f"hearth:{bot.id}",
    )
    recent_updates = RecentUpdates()
    inflight = InFlightMiddleware(settings.max_concurrent_updates)
    welcomes = GroupWelcomes(i18n, settings.welcome_batch_seconds)
    directory = Directory()
    buffer.on_batch = _message_points(directory)
    rates = {
        "per_second": settings.messages_per_second,
        "per_private_chat_per_second": settings.private_messages_per_second,
        "per_group_per_minute": settings.group_messages_per_minute,
    }
    # With Redis, the workers share one budget: 30 messages a second together, not each.
    shared_limits = None if redis is None else SharedLimits(redis, f"hearth:{bot.id}", **rates)
    budget = SendBudget(**rates, shared=shared_limits)
    delivery = DeliveryWorker(
        bot,
        uow_factory,
        directory,
        budget,
        clock,
        concurrency=settings.delivery_concurrency,
        lease=timedelta(seconds=settings.outbox_lease_seconds),
    )
    outbox = OutboxWriter(i18n, clock)
    outbox.wake = delivery.wake
    uow_factory.on_activity = _mission_progress(directory, OutboxMissionNotices(outbox), clock)
    notifier = PrivateNotifier(outbox)
    event_notices = OutboxEventNotices(outbox)
    draw_notices = OutboxDrawNotices(outbox)
    digests = OutboxDigests(bot, operators, outbox, clock)
    honour_notices = OutboxHonourNotices(outbox, digests.operators)
    announcer = OutboxAnnouncer(outbox)
    service_notices = OutboxServiceNotices(outbox, digests.operators)
    nudges = OutboxNudges(outbox)
    timetable = AnnouncementTimetable(
        uow_factory,
        announcer,
        clock,
        grace=timedelta(minutes=settings.announcement_grace_minutes),
    )
    acks = Acknowledgements(bot, uow_factory, directory, budget)
    quiz_rounds = QuizRounds(bot, uow_factory, outbox, budget, clock)
    quiz_timetable = QuizTimetable(uow_factory, quiz_rounds, clock)
    console_access = _console_access(settings)
    dispatcher = build_dispatcher(
        uow_factory=uow_factory,
        buffer=buffer,
        clock=clock,
        i18n=i18n,
        operators=operators,
        defaults=CommunityDefaults(settings.default_timezone, settings.default_locale),
        recent_updates=recent_updates,
        inflight=inflight,
        welcomes=welcomes,
        directory=directory,
        acks=acks,
        announcer=announcer,
        timetable=timetable,
        event_notices=event_notices,
        quiz_rounds=quiz_rounds,
        quiz_timetable=quiz_timetable,
        storage=storage,
        shared_claims=shared_claims,
        metrics=metrics,
        draw_notices=draw_notices,
        feedback_notices=OutboxFeedbackNotices(outbox, digests.operators),
        exit_surveys=OutboxExitSurvey(outbox),
        honour_notices=honour_notices,
        referral_notices=OutboxReferralNotices(outbox),
        conversion_notices=OutboxConversionNotices(outbox),
        redemption_notices=notifier,
        console_access=console_access,
        service_notices=service_notices,
    )
    hearth = Hearth(
        settings=settings,
        clock=clock,
        engine=engine,
        uow_factory=uow_factory,
        buffer=buffer,
        i18n=i18n,
        bot=bot,
        operators=operators,
        recent_updates=recent_updates,
        inflight=inflight,
        welcomes=welcomes,
        acks=acks,
        outbox=outbox,
        notifier=notifier,
        event_notices=event_notices,
        digests=digests,
        nudges=nudges,
        draw_notices=draw_notices,
        delivery=delivery,
        quiz_rounds=quiz_rounds,
        quiz_timetable=quiz_timetable,
        timetable=timetable,
        scheduler=build_scheduler(
            uow_factory,
            notifier,
            clock,
            timetable=timetable,
            quiz_timetable=quiz_timetable,
            greeter=OutboxGreeter(outbox),
            event_notices=event_notices,
            event_reminder_hours=settings.event_reminder_hours,
            digests=digests,
            digest_schedule=schedule_from_spec(settings.digest_schedule),
            lifecycle_rules=settings.lifecycle,
            nudge_sender=nudges,
            draw_notices=draw_notices,
            honour_notices=honour_notices,
            service_notices=service_notices,
        ),
        dispatcher=dispatcher,
        metrics=metrics,
        redis=redis,
        console_access=console_access,
        service_notices=service_notices,
    )
    dispatcher.startup.register(hearth.on_startup)
    dispatcher.shutdown.register(hearth.on_shutdown)
    return hearth


def _mission_progress(directory: Directory, notices: MissionNotices, clock: Clock) -> ActivityHook:
    """Newcomer missions, detected in every transaction that writes activity."""

    async def observe(uow: UnitOfWork, records: list[ActivityRecord]) -> None:
        async def community_of(community_id: int) -> CommunityProfile | None:
            return directory.community(community_id) or await uow.communities.get(community_id)

        await missions.observe(uow, records, community_of, clock.now(), notices)

    return observe


def _message_points(directory: Directory) -> BatchHook:
    """Points for the conversation, credited in the transaction that writes its activity."""

    async def credit(uow: UnitOfWork, records: list[ActivityRecord], now: datetime) -> None:
        async def community_of(community_id: int) -> CommunityProfile | None:
            return directory.community(community_id) or await uow.communities.get(community_id)

        await activity_points.credit_messages(uow, records, community_of, now)

    return credit


def _console_access(settings: Settings) -> ConsoleAccess | None:
    """The operator console's address and keys, when it is set up."""
    if settings.console_url is None or settings.bot_token is None:
        return None
    configured = settings.console_secret.get_secret_value() if settings.console_secret else None
    secret = console_secret(configured, settings.bot_token.get_secret_value())
    return ConsoleAccess(settings.console_url, ConsoleKeys(secret))
