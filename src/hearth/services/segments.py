"""Segments and tags for operators (分类): who is in which lifecycle stage and RFM segment, a
page of any stage, segment or tag, and the tags operators put on members.

The standings are the nightly recompute's (``engagement_recompute``); nothing here
recomputes them, so every figure is "as of" the day the recompute last ran.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from hearth.domain.errors import HearthError
from hearth.domain.members import CommunityProfile
from hearth.domain.rfm import tag_slug
from hearth.domain.segments import ListKind, MemberRecord, Selection, StandingsSummary
from hearth.services.ports import UnitOfWork

PAGE_SIZE = 20
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
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    members = await uow.segments.page(community.id, selection, offset=page * size, limit=size)
    return MemberPage(community, selection, members, total, page, pages, size, today)


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
