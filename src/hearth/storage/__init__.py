"""SQL storage: tables, repositories that never commit, the unit of work that does."""

# Every table joins the metadata whichever storage module is imported first.
from hearth.storage import (  # noqa: F401
    announcements,
    cars,
    channels,
    console,
    conversions,
    draws,
    engagement,
    events,
    exit_survey,
    feedback_box,
    honour,
    missions,
    nudges,
    outbox,
    profile,
    quizzes,
    referrals,
    rewards,
    tables,
)
