"""aiogram routers, one per feature; ``build_router`` puts them in their order."""

from __future__ import annotations

from aiogram import Router

from hearth.handlers import (
    activity,
    announcements,
    checkin,
    cohorts,
    community,
    digest,
    errors,
    events,
    export,
    fallback,
    greetings,
    help,
    member_card,
    membership,
    nudge_taps,
    nudges,
    operators,
    outbox,
    points,
    points_admin,
    privacy,
    quizzes,
    rewards,
    segments,
    settings,
    start,
    tags,
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
        nudge_taps.build(),
        rewards.build(),
        events.build(),
        announcements.build(),
        greetings.build(),
        quizzes.build(),
        operators.build(),
        segments.build(),
        cohorts.build(),
        digest.build(),
        nudges.build(),
        member_card.build(),
        privacy.build(),
        tags.build(),
        export.build(),
        outbox.build(),
        checkin.build(),
        points.build(),
        points_admin.build(),
        community.build(),
        membership.build(),
        fallback.build(),
    )
    return root
