"""/cohorts: retention of the members who joined in each of the last weeks."""

from __future__ import annotations

from datetime import date

from hearth.domain.cohorts import DEFAULT_COHORTS, RetentionTable, cohort_starts, retention
from hearth.domain.members import CommunityProfile
from hearth.services.ports import UnitOfWork


async def retention_table(
    uow: UnitOfWork, community: CommunityProfile, today: date, cohorts: int = DEFAULT_COHORTS
) -> RetentionTable:
    """The last ``cohorts`` weekly join cohorts as of the community's local day ``today``,
    each with the share of its members active in every week since (ValueError: ``cohorts``
    outside 1-``MAX_COHORTS``)."""
    starts = cohort_starts(today, cohorts)
    counts = await uow.cohorts.cohort_counts(community.id, starts, community.timezone)
    return retention(counts, today, cohorts)
