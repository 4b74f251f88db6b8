"""Segments and tags for operators (分类): who is in which lifecycle stage and RFM segment, a
page of any stage, segment or tag, the console's roster of current members (searched,
narrowed and sorted), and the tags operators put on members.

The standings are the nightly recompute's (``engagement_recompute``); nothing here
recomputes them, so every figure is "as of" the day the recompute last ran.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from hearth.domain.errors import HearthError
from hearth.domain.lifecycle import Stage
from hearth.domain.members import CommunityProfile
from hearth.domain.rfm import Segment, tag_slug
from hearth.domain.segments import (
    ListKind,
    MemberFilter,
    MemberRecord,
    Selection,
    StandingsSummary,
)
from hearth.services import points
from hearth.services.ports import UnitOfWork

PAGE_SIZE = 20
ROSTER_PAGE_SIZE = 50  # the console shows more members a page than a message can
MAX_TAGS_AT_ONCE = 10


class BadTag(HearthError):
    """A word that cannot be a tag (no letters or digits)."""

    def __init__(self, word: str) -> None:
        super().__init__(word)
        self.word = word


class TooManyTags(HearthError):
    """More tags in one command than ``MAX_TAGS_AT_ONCE``."""


@dataclass(frozen=True, slots=True)
class MemberPage:
    """One page of the members of a selection; ``page`` counts from 0."""

    community: CommunityProfile
    selection: Selection
    members: list[MemberRecord]
    total: int
    page: int
    pages: int
    size: int
    today: date  # the community's local day, for "active N days ago"

    @property
    def first_position(self) -> int:
        return self.page * self.size + 1


@dataclass(frozen=True, slots=True)
class Roster:
    """One page of the current members a console filter holds; ``page`` counts from 0."""

    wanted: MemberFilter
    members: list[MemberRecord]
    total: int
    page: int
    pages: int
    size: int
    today: date  # the community's local day

    @property
    def first_position(self) -> int:
        """The position of the page's first member (1 for the first), 0 when none."""
        return self.page * self.size + 1 if self.members else 0

    @property
    def last_position(self) -> int:
        return self.page * self.size + len(self.members)

    @property
    def has_previous(self) -> bool:
        return self.page > 0

    @property
    def has_next(self) -> bool:
        return self.page + 1 < self.pages


@dataclass(frozen=True, slots=True)
class RosterChoices:
    """What a roster can be narrowed to: the values current members have."""

    stages: list[Stage]
    segments: list[Segment]
    tags: list[str]
    tiers: list[str]


@dataclass(frozen=True, slots=True)
class TagCounts:
    """Current members per tag: the operators' and the automatic ones."""

    operator: dict[str, int] = field(default_factory=dict)
    automatic: dict[str, int] = field(default_factory=dict)

    @property
    def all(self) -> list[str]:
        """Every tag in use, operator tags first."""
        return list(dict.fromkeys([*self.operator, *self.automatic]))


@dataclass(frozen=True, slots=True)
class TagChange:
    """What /tag or /untag did: the tags changed and the member's operator tags now."""

    changed: list[str]
    tags: list[str]


async def summary(uow: UnitOfWork, community: CommunityProfile) -> StandingsSummary:
    """Members per stage and segment as of the latest recompute."""
    return await uow.segments.summary(community.id)


async def member_page(
    uow: UnitOfWork,
    community: CommunityProfile,
    selection: Selection,
    page: int,
    *,
    today: date,
    size: int = PAGE_SIZE,
) -> MemberPage:
    """The ``page``-th page (from 0) of the selection's members; a page past the end (the
    list shrank since the button was made) shows the last one."""
    total = await uow.segments.count(community.id, selection)
    page, pages = _within(page, total, size)
    members = await uow.segments.page(community.id, selection, offset=page * size, limit=size)
    return MemberPage(community, selection, members, total, page, pages, size, today)


async def roster(
    uow: UnitOfWork,
    community: CommunityProfile,
    wanted: MemberFilter,
    page: int,
    *,
    today: date,
    size: int = ROSTER_PAGE_SIZE,
) -> Roster:
    """The ``page``-th page (from 0) of the current members ``wanted`` holds, in its order;
    a page past the end shows the last one."""
    total = await uow.segments.count_matching(community.id, wanted)
    page, pages = _within(page, total, size)
    members = await uow.segments.matching(community.id, wanted, offset=page * size, limit=size)
    return Roster(wanted, members, total, page, pages, size, today)


async def roster_batches(
    uow: UnitOfWork, community: CommunityProfile, wanted: MemberFilter, size: int
) -> AsyncIterator[list[MemberRecord]]:
    """Every current member ``wanted`` holds, in its order, ``size`` at a time (for a file)."""
    offset = 0
    while True:
        members = await uow.segments.matching(community.id, wanted, offset=offset, limit=size)
        if members:
            yield members
        if len(members) < size:
            return
        offset += size


async def roster_choices(uow: UnitOfWork, community: CommunityProfile) -> RosterChoices:
    """The stages, segments, tags and tiers current members have, for a roster's filter."""
    standings = await uow.segments.summary(community.id)
    rank = {tier.name: tier.threshold for tier in points.rules_of(community).tiers}
    tiers = await uow.segments.tier_counts(community.id)
    return RosterChoices(
        stages=[stage for stage in Stage if standings.stages.get(stage)],
        segments=[segment for segment in Segment if standings.segments.get(segment)],
        tags=(await tag_counts(uow, community)).all,
        tiers=sorted(tiers, key=lambda name: (rank.get(name, math.inf), name)),
    )


def _within(page: int, total: int, size: int) -> tuple[int, int]:
    """(the page, from 0, moved within the pages; how many pages ``total`` items fill)."""
    pages = max(1, -(-total // size))
    return min(max(page, 0), pages - 1), pages


async def tag_counts(uow: UnitOfWork, community: CommunityProfile) -> TagCounts:
    return TagCounts(
        operator=await uow.tags.counts(community.id),
        automatic=await uow.segments.automatic_tag_counts(community.id),
    )


def tag_names(words: Iterable[str]) -> list[str]:
    """Tags (slugs, without repeats) from the words of a command; raises BadTag for a word
    without letters or digits and TooManyTags past ``MAX_TAGS_AT_ONCE``."""
    tags: list[str] = []
    for word in words:
        slug = tag_slug(word)
        if slug is None:
            raise BadTag(word)
        tags.append(slug)
    tags = list(dict.fromkeys(tags))
    if len(tags) > MAX_TAGS_AT_ONCE:
        raise TooManyTags()
    return tags


async def tag(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    tags: list[str],
    *,
    actor_id: int,
    now: datetime,
) -> TagChange:
    """Put operator tags on a member (audited); tags they had already change nothing."""
    added = await uow.tags.add(community.id, member_id, tags, actor_id=actor_id, now=now)
    if added:
        await _audit(uow, community, "tags.add", member_id, added, actor_id, now)
    return TagChange(added, await uow.tags.of_member(community.id, member_id))


async def untag(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    tags: list[str],
    *,
    actor_id: int,
    now: datetime,
) -> TagChange:
    """Take operator tags off a member (audited); tags they did not have change nothing."""
    removed = await uow.tags.remove(community.id, member_id, tags)
    if removed:
        await _audit(uow, community, "tags.remove", member_id, removed, actor_id, now)
    return TagChange(removed, await uow.tags.of_member(community.id, member_id))


async def _audit(
    uow: UnitOfWork,
    community: CommunityProfile,
    action: str,
    member_id: int,
    tags: list[str],
    actor_id: int,
    now: datetime,
) -> None:
    await uow.audit.record(
        actor_id=actor_id,
        action=action,
        community_id=community.id,
        details={"member_id": member_id, "tags": tags},
        now=now,
    )


# A tag travels in a button's callback data (at most 64 bytes in all): a long one (in
# bytes: Chinese takes three per character), or a questionnaire answer (``city:shanghai``,
# whose colon separates callback fields), travels as "#" and a digest of it instead.
INLINE_TAG_BYTES = 30


def tag_reference(name: str) -> str:
    """What a button carries for a tag: the tag itself if short, else "#" + a digest."""
    if len(name.encode()) <= INLINE_TAG_BYTES and ":" not in name:
        return name
    return "#" + hashlib.sha256(name.encode()).hexdigest()[:12]


async def selection_for(
    uow: UnitOfWork, community: CommunityProfile, kind: ListKind, reference: str
) -> Selection | None:
    """The selection a button names, checked; a tag's digest is looked up among the tags in
    use. None when it names nothing valid (an old or forged button)."""
    value = reference
    if kind is ListKind.TAG and reference.startswith("#"):
        used = (await tag_counts(uow, community)).all
        value = next((name for name in used if tag_reference(name) == reference), "")
    try:
        return Selection.of(kind, value)
    except ValueError:
        return None
