"""aiogram routers, one per feature; ``build_router`` puts them in their order."""

from __future__ import annotations

from aiogram import Router

from hearth.handlers import (
    activity,
    announcements,
    checkin,
    community,
    errors,
    events,
    fallback,
    greetings,
    help,
    membership,
    operators,
    outbox,
    points,
    points_admin,
    quizzes,
    rewards,
    settings,
    start,
)


def build_router() -> Router:
    """The root router. Order matters: chatter first (most traffic), then commands, fallbacks."""
    root = Router(name="hearth")
    root.include_routers(
        errors.build(),
        activity.build(),
        start.build(),
        help.build(),
        settings.build(),
        rewards.build(),
        events.build(),
        announcements.build(),
        greetings.build(),
        quizzes.build(),
        operators.build(),
        outbox.build(),
        checkin.build(),
        points.build(),
        points_admin.build(),
        community.build(),
        membership.build(),
        fallback.build(),
    )
    return root
