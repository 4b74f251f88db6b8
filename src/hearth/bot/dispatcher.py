"""The dispatcher with its outer middlewares, in order."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.utils.i18n import I18n

from hearth.bot.acknowledgements import Acknowledgements
from hearth.bot.metrics import Metrics, MetricsMiddleware
from hearth.bot.middlewares.dedupe import DedupeMiddleware, RecentUpdates, SharedUpdateClaims
from hearth.bot.middlewares.inflight import InFlightMiddleware
from hearth.bot.middlewares.locale import LocaleMiddleware
from hearth.bot.middlewares.registration import RegistrationMiddleware
from hearth.bot.middlewares.unit_of_work import UnitOfWorkMiddleware
from hearth.bot.operators import ChatAdminOperators
from hearth.bot.quiz_rounds import QuizRounds
from hearth.bot.welcomes import GroupWelcomes
from hearth.handlers import build_router
from hearth.services.communities import CommunityDefaults
from hearth.services.console import ConsoleAccess
from hearth.services.directory import Directory
from hearth.services.ports import (
    AnnouncementTimetable,
    Announcer,
    Clock,
    ConversionNotices,
    DrawNotices,
    EventNotices,
    ExitSurveyAsker,
    FeedbackNotices,
    HonourNotices,
    RedemptionNotices,
    ReferralNotices,
    ScheduleWatcher,
    ServiceNotices,
)
from hearth.storage.activity_buffer import ActivityBuffer
from hearth.storage.unit_of_work import UnitOfWorkFactory


def build_dispatcher(
    *,
    uow_factory: UnitOfWorkFactory,
    buffer: ActivityBuffer,
    clock: Clock,
    i18n: I18n,
    operators: ChatAdminOperators,
    defaults: CommunityDefaults,
    recent_updates: RecentUpdates,
    inflight: InFlightMiddleware,
    welcomes: GroupWelcomes,
    directory: Directory,
    acks: Acknowledgements,
    announcer: Announcer,
    timetable: AnnouncementTimetable,
    event_notices: EventNotices,
    quiz_rounds: QuizRounds,
    quiz_timetable: ScheduleWatcher,
    storage: BaseStorage | None = None,
    shared_claims: SharedUpdateClaims | None = None,
    metrics: Metrics | None = None,
    draw_notices: DrawNotices | None = None,
    feedback_notices: FeedbackNotices | None = None,
    exit_surveys: ExitSurveyAsker | None = None,
    honour_notices: HonourNotices | None = None,
    referral_notices: ReferralNotices | None = None,
    redemption_notices: RedemptionNotices | None = None,
    console_access: ConsoleAccess | None = None,
    conversion_notices: ConversionNotices | None = None,
    service_notices: ServiceNotices | None = None,
) -> Dispatcher:
    """A dispatcher with Hearth's routers and middlewares; workflow data carries the services."""
    dispatcher = Dispatcher(
        storage=storage,
        i18n=i18n,  # the error handler's, should an update fail before its locale is chosen
        clock=clock,
        directory=directory,
        operators=operators,
        defaults=defaults,
        welcomes=welcomes,
        acks=acks,
        announcer=announcer,
        timetable=timetable,
        event_notices=event_notices,
        quiz_rounds=quiz_rounds,
        quiz_timetable=quiz_timetable,
        draw_notices=draw_notices,
        feedback_notices=feedback_notices,
        exit_surveys=exit_surveys,
        honour_notices=honour_notices,
        referral_notices=referral_notices,
        redemption_notices=redemption_notices,
        console_access=console_access,
        conversion_notices=conversion_notices,
        service_notices=service_notices,
    )
    if metrics is not None:
        dispatcher.update.outer_middleware(MetricsMiddleware(metrics))
    dispatcher.update.outer_middleware(inflight)
    on_skip = metrics.duplicates.inc if metrics is not None else None
    dispatcher.update.outer_middleware(DedupeMiddleware(recent_updates, shared_claims, on_skip))
    dispatcher.update.outer_middleware(UnitOfWorkMiddleware(uow_factory, buffer, clock))
    dispatcher.update.outer_middleware(RegistrationMiddleware(directory, buffer, defaults, clock))
    dispatcher.update.outer_middleware(LocaleMiddleware(i18n))
    dispatcher.include_router(build_router())
    return dispatcher
