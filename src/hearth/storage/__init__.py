"""SQL storage: tables, repositories that never commit, the unit of work that does."""

# Every table joins the metadata whichever storage module is imported first.
from hearth.storage import (  # noqa: F401
    announcements,
    engagement,
    events,
    nudges,
    outbox,
    quizzes,
    rewards,
    tables,
)
