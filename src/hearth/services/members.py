"""Members: registration, joining and leaving, starting the bot, language and reachability."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hearth.domain.activity import ActivityKind, ActivityRecord
from hearth.domain.calendar import local_day
from hearth.domain.channels import Channel
from hearth.domain.deep_links import (
    parse_channel_payload,
    parse_community_payload,
    parse_referral_payload,
)
from hearth.domain.errors import UnsupportedLocale
from hearth.domain.members import (
    ChatRole,
    CommunityProfile,
    JoinOutcome,
    JoinVia,
    LeaveOutcome,
    MemberProfile,
    Person,
    join_outcome,
    leave_outcome,
)
from hearth.domain.referrals import ReferralOutcome
from hearth.services import channels, referrals
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork


async def load_member(
    uow: UnitOfWork, directory: Directory, person: Person, now: datetime
) -> MemberProfile:
    """The member behind an update, registering them the first time Hearth sees them."""
    known = directory.member(person.id)
    if known is not None:
        return known
    await uow.members.upsert(person, now)
    profile = await _fetch(uow, person.id)
    uow.on_commit(lambda: directory.remember_member(profile))
    return profile


async def ensure_membership(
    uow: UnitOfWork, directory: Directory, community_id: int, member_id: int, now: datetime
) -> None:
    """Record that a member who takes part in a group belongs to it (first seen, not a join)."""
    if directory.knows_membership(community_id, member_id):
        return
    await uow.memberships.add(
        community_id, member_id, role=ChatRole.MEMBER, now=now, via=JoinVia.SEEN
    )
    uow.on_commit(lambda: directory.remember_membership(community_id, member_id))


async def member_joined(
    uow: UnitOfWork,
    directory: Directory,
    *,
    community: CommunityProfile,
    person: Person,
    role: ChatRole,
    at: datetime,
    update_id: int | None,
) -> JoinOutcome:
    """A member joined the group; a second signal for the same join changes nothing."""
    await uow.members.upsert(person, at)
    outcome = join_outcome(await uow.memberships.get(community.id, person.id))
    if outcome is JoinOutcome.JOINED:
        await uow.memberships.add(community.id, person.id, role=role, now=at)
        await referrals.joined(uow, community.id, person.id, at)
    elif outcome is JoinOutcome.REJOINED:
        await uow.memberships.rejoin(community.id, person.id, at)
    if outcome is not JoinOutcome.ALREADY_MEMBER:
        await record_activity(uow, community, person.id, ActivityKind.JOIN, at, update_id)
    uow.on_commit(lambda: directory.remember_membership(community.id, person.id))
    uow.on_commit(lambda: directory.forget_member(person.id))
    return outcome


async def member_left(
    uow: UnitOfWork,
    directory: Directory,
    *,
    community: CommunityProfile,
    member_id: int,
    at: datetime,
    update_id: int | None,
) -> LeaveOutcome:
    """A member left or was removed; their history stays."""
    outcome = leave_outcome(await uow.memberships.get(community.id, member_id))
    if outcome is LeaveOutcome.LEFT:
        await uow.memberships.leave(community.id, member_id, at)
        await record_activity(uow, community, member_id, ActivityKind.LEAVE, at, update_id)
    uow.on_commit(lambda: directory.forget_membership(community.id, member_id))
    return outcome


async def role_changed(
    uow: UnitOfWork, *, community_id: int, member_id: int, role: ChatRole
) -> None:
    """A member was promoted to or demoted from chat administrator."""
    if await uow.memberships.get(community_id, member_id) is not None:
        await uow.memberships.set_role(community_id, member_id, role)


@dataclass(frozen=True, slots=True)
class StartResult:
    """What /start found out about the member and the link they came through."""

    member: MemberProfile
    first_start: bool
    linked_community: CommunityProfile | None
    unknown_link: bool  # the payload named a community Hearth does not serve
    communities: list[CommunityProfile]
    referral: ReferralOutcome | None = None  # what opening a member's invite did
    inviter: MemberProfile | None = None  # whose invite it was
    channel: Channel | None = None  # the channel (a dealer's, a store's) whose link it was


async def start_bot(
    uow: UnitOfWork,
    directory: Directory,
    *,
    person: Person,
    payload: str | None,
    at: datetime,
    update_id: int | None,
) -> StartResult:
    """A member opened the private chat: they may now receive private messages."""
    await uow.members.upsert(person, at)
    before = await _fetch(uow, person.id)
    await uow.members.update(
        person.id, started_bot=True, reachable=True, started_at=_first_start_time(before, at)
    )
    member = await _fetch(uow, person.id)
    uow.on_commit(lambda: directory.remember_member(member))

    linked: CommunityProfile | None = None
    referral: ReferralOutcome | None = None
    channel: Channel | None = None
    invite = parse_referral_payload(payload)
    via_channel = parse_channel_payload(payload)
    community_id = (
        invite[0]
        if invite is not None
        else via_channel[0]
        if via_channel is not None
        else parse_community_payload(payload)
    )
    if community_id is not None:
        found = await uow.communities.get(community_id)
        if found is not None and found.active and via_channel is not None:
            channel = await channels.touched(uow, found, via_channel[1], person.id, at)
            if channel is None:  # archived, or not this community's: an unknown link
                found = None
        if found is not None and found.active:
            linked = found
            if invite is not None:
                known = before.started_bot or (
                    await uow.memberships.get(found.id, person.id) is not None
                )
                referral = await referrals.record(
                    uow,
                    community=found,
                    referrer_id=invite[1],
                    person_id=person.id,
                    known=known,
                    now=at,
                )
            await record_activity(uow, found, person.id, ActivityKind.START, at, update_id)
    return StartResult(
        member=member,
        first_start=not before.started_bot,
        linked_community=linked,
        unknown_link=bool(payload) and linked is None,
        communities=await uow.memberships.communities_of(person.id),
        referral=referral,
        inviter=None if invite is None or referral is None else await uow.members.get(invite[1]),
        channel=channel,
    )


def _first_start_time(member: MemberProfile, at: datetime) -> datetime | None:
    """Keep the first start time; only a member who never started gets ``at``."""
    return None if member.started_bot else at


async def set_language(
    uow: UnitOfWork,
    directory: Directory,
    *,
    member_id: int,
    locale: str,
    available: frozenset[str],
) -> MemberProfile:
    """The member's own language choice, which wins over Telegram's."""
    if locale not in available:
        raise UnsupportedLocale(locale)
    await uow.members.update(member_id, locale=locale)
    member = await _fetch(uow, member_id)
    uow.on_commit(lambda: directory.remember_member(member))
    return member


async def set_reachable(
    uow: UnitOfWork, directory: Directory, *, member_id: int, reachable: bool
) -> None:
    """A member blocked (403) or unblocked the bot; no private message goes to a blocked one."""
    if await uow.members.get(member_id) is None:
        return
    await uow.members.update(member_id, reachable=reachable)
    uow.on_commit(lambda: directory.forget_member(member_id))


async def record_activity(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    kind: ActivityKind,
    at: datetime,
    update_id: int | None,
) -> None:
    """Record one thing the member did in the community, dated in its local day."""
    await uow.activity.add_many(
        [
            ActivityRecord(
                community_id=community.id,
                member_id=member_id,
                kind=kind,
                occurred_at=at,
                local_day=local_day(at, community.timezone),
                update_id=update_id,
            )
        ]
    )


async def _fetch(uow: UnitOfWork, member_id: int) -> MemberProfile:
    profile = await uow.members.get(member_id)
    if profile is None:  # pragma: no cover - just upserted in this transaction
        raise LookupError(f"member {member_id} vanished inside its transaction")
    return profile


async def set_checkin_reminder(
    uow: UnitOfWork, *, member_id: int, hour: int | None
) -> list[CommunityProfile]:
    """Turn the daily check-in reminder on (local hour 0–23) or off in every community."""
    if hour is not None and not 0 <= hour <= 23:
        raise ValueError("hour must be 0-23")
    communities = await uow.memberships.communities_of(member_id)
    for community in communities:
        await uow.memberships.set_reminder_hour(community.id, member_id, hour)
    return communities


# How an operator names a member in a command: "@username" or the Telegram user id.
MEMBER_REFERENCE = r"@[A-Za-z0-9_]{3,32}|-?\d{1,19}"
# Telegram user ids fit in 52 bits; a larger number is nobody (and would not fit a BIGINT).
USER_ID_LIMIT = 2**53


async def current_member(
    uow: UnitOfWork, community_id: int, reference: str
) -> MemberProfile | None:
    """The current member of the community named by ``reference`` (a ``MEMBER_REFERENCE``);
    None when nobody by that name or id belongs to it now."""
    return await _member_named(uow, community_id, reference, former_too=False)


async def member_or_former(
    uow: UnitOfWork, community_id: int, reference: str
) -> MemberProfile | None:
    """The member of the community named by ``reference``, current or one who left (their
    card and their right to be forgotten outlive the membership); None when nobody by that
    name or id ever belonged to it."""
    return await _member_named(uow, community_id, reference, former_too=True)


async def _member_named(
    uow: UnitOfWork, community_id: int, reference: str, *, former_too: bool
) -> MemberProfile | None:
    if reference.startswith("@"):
        member = await uow.members.by_username(reference)
    else:
        number = int(reference)
        member = await uow.members.get(number) if abs(number) <= USER_ID_LIMIT else None
    if member is None:
        return None
    membership = await uow.memberships.get(community_id, member.id)
    if membership is None or not (former_too or membership.is_current):
        return None
    return member
