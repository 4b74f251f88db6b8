"""The bot joining and leaving groups, and community settings operators change."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hearth.domain.members import CommunityProfile
from hearth.domain.points import rules_from_settings
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class CommunityDefaults:
    """Settings a new community starts with."""

    timezone: str
    locale: str


class Placement(enum.StrEnum):
    """What the bot being added to a group changed."""

    CREATED = "created"
    REACTIVATED = "reactivated"
    UPDATED = "updated"


async def load_community(
    uow: UnitOfWork,
    directory: Directory,
    community_id: int,
    title: str,
    defaults: CommunityDefaults,
    now: datetime,
) -> CommunityProfile:
    """The community of a group chat, registering it the first time Hearth sees the group."""
    known = directory.community(community_id)
    if known is not None:
        return known
    await uow.communities.add(
        community_id, title, timezone=defaults.timezone, locale=defaults.locale, now=now
    )
    profile = await _fetch(uow, community_id)
    uow.on_commit(lambda: directory.remember_community(profile))
    return profile


async def bot_added(
    uow: UnitOfWork,
    directory: Directory,
    *,
    community_id: int,
    title: str,
    bot_is_admin: bool,
    defaults: CommunityDefaults,
    now: datetime,
) -> tuple[Placement, CommunityProfile]:
    """The bot became a member or an administrator of a group."""
    created = await uow.communities.add(
        community_id, title, timezone=defaults.timezone, locale=defaults.locale, now=now
    )
    before = await _fetch(uow, community_id)
    await uow.communities.update(
        community_id, title=title, active=True, bot_is_admin=bot_is_admin, deactivated_at=None
    )
    profile = await _fetch(uow, community_id)
    uow.on_commit(lambda: directory.remember_community(profile))
    if created:
        return Placement.CREATED, profile
    return (Placement.UPDATED if before.active else Placement.REACTIVATED), profile


async def bot_removed(
    uow: UnitOfWork, directory: Directory, *, community_id: int, now: datetime
) -> CommunityProfile | None:
    """The bot left or was removed: the community goes inactive, its data is kept."""
    if await uow.communities.get(community_id) is None:
        return None
    await uow.communities.update(community_id, active=False, bot_is_admin=False, deactivated_at=now)
    profile = await _fetch(uow, community_id)
    uow.on_commit(lambda: directory.remember_community(profile))
    return profile


async def set_welcome(
    uow: UnitOfWork,
    directory: Directory,
    *,
    community_id: int,
    enabled: bool,
    actor_id: int,
    now: datetime,
) -> CommunityProfile:
    """Turn the group welcome for newcomers on or off; recorded in the audit log."""
    await uow.communities.update(community_id, welcome_enabled=enabled)
    await uow.audit.record(
        actor_id=actor_id,
        action="welcome.enabled" if enabled else "welcome.disabled",
        community_id=community_id,
        details={},
        now=now,
    )
    profile = await _fetch(uow, community_id)
    uow.on_commit(lambda: directory.remember_community(profile))
    return profile


async def _fetch(uow: UnitOfWork, community_id: int) -> CommunityProfile:
    profile = await uow.communities.get(community_id)
    if profile is None:  # pragma: no cover - just inserted in this transaction
        raise LookupError(f"community {community_id} vanished inside its transaction")
    return profile


async def set_points_rule(
    uow: UnitOfWork,
    directory: Directory,
    *,
    community: CommunityProfile,
    name: str,
    value: int,
    actor_id: int,
    now: datetime,
) -> CommunityProfile:
    """Change one points rule (KeyError: unknown rule, ValueError: out of range); audited."""
    rules = rules_from_settings(community.points_rules).changed(name, value)
    await uow.communities.update(community.id, points_rules=rules.settings())
    await uow.audit.record(
        actor_id=actor_id,
        action="points.rule",
        community_id=community.id,
        details={"rule": name, "value": value},
        now=now,
    )
    profile = await _fetch(uow, community.id)
    uow.on_commit(lambda: directory.remember_community(profile))
    return profile


async def set_milestone_announcements(
    uow: UnitOfWork,
    directory: Directory,
    *,
    community_id: int,
    enabled: bool,
    actor_id: int,
    now: datetime,
) -> CommunityProfile:
    """Whether 7+ day streaks are congratulated in the group; audited."""
    await uow.communities.update(community_id, announce_milestones=enabled)
    await uow.audit.record(
        actor_id=actor_id,
        action="milestones.announced" if enabled else "milestones.quiet",
        community_id=community_id,
        details={},
        now=now,
    )
    profile = await _fetch(uow, community_id)
    uow.on_commit(lambda: directory.remember_community(profile))
    return profile
