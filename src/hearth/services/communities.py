"""The bot joining and leaving groups, and community settings operators change."""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from hearth.domain.errors import HearthError
from hearth.domain.members import CommunityProfile
from hearth.domain.points import rules_from_settings
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork


class OfACommunity(Protocol):
    @property
    def community_id(self) -> int: ...


Owned = TypeVar("Owned", bound=OfACommunity)


def operated_or_unknown(
    found: Owned | None, operated: Collection[int], unknown: HearthError
) -> Owned:
    """``found`` when it belongs to one of the ``operated`` communities; raises ``unknown``
    otherwise: another community's row is as unknown to this operator as a missing one."""
    if found is None or found.community_id not in operated:
        raise unknown
    return found


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
    return await _remember(uow, directory, community_id)


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
    profile = await _remember(uow, directory, community_id)
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
    return await _remember(uow, directory, community_id)


@dataclass(frozen=True, slots=True)
class OnOffSetting:
    """Turns the community's boolean ``column`` on or off for an operator, with an audit row
    whose action is ``on`` or ``off``: the switches differ only in these."""

    column: str
    on: str
    off: str

    async def __call__(
        self,
        uow: UnitOfWork,
        directory: Directory,
        *,
        community_id: int,
        enabled: bool,
        actor_id: int,
        now: datetime,
    ) -> CommunityProfile:
        return await _operator_change(
            uow,
            directory,
            community_id,
            {self.column: enabled},
            action=self.on if enabled else self.off,
            details={},
            actor_id=actor_id,
            now=now,
        )


# The group welcome for newcomers.
set_welcome = OnOffSetting("welcome_enabled", on="welcome.enabled", off="welcome.disabled")
# Whether 7+ day streaks are congratulated in the group.
set_milestone_announcements = OnOffSetting(
    "announce_milestones", on="milestones.announced", off="milestones.quiet"
)
# Whether the community's operators get the weekly digest in private.
set_digest = OnOffSetting("digest_enabled", on="digest.enabled", off="digest.disabled")


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
    return await _operator_change(
        uow,
        directory,
        community.id,
        {"points_rules": rules.settings()},
        action="points.rule",
        details={"rule": name, "value": value},
        actor_id=actor_id,
        now=now,
    )


async def _operator_change(
    uow: UnitOfWork,
    directory: Directory,
    community_id: int,
    changes: dict[str, Any],
    *,
    action: str,
    details: dict[str, Any],
    actor_id: int,
    now: datetime,
) -> CommunityProfile:
    """Change community settings for an operator, with an audit row; the cache follows."""
    await uow.communities.update(community_id, **changes)
    await uow.audit.record(
        actor_id=actor_id, action=action, community_id=community_id, details=details, now=now
    )
    return await _remember(uow, directory, community_id)


async def _remember(uow: UnitOfWork, directory: Directory, community_id: int) -> CommunityProfile:
    """The stored community, remembered in memory once its transaction commits."""
    profile = await _fetch(uow, community_id)
    uow.on_commit(lambda: directory.remember_community(profile))
    return profile
