"""Channels: dealers, stores and partners, each with its own invite link and QR code, and
what they brought (``domain/channels``).

Operators create, rename and archive channels and name a contact person (every change
audited); /start records the touch of a channel's link (``members.start_bot``). The figures
break a community down by the channel its members are attributed to, with a "direct" row
for everybody else, so that the columns add up to the community. A channel's contact person
reads their own channels' figures only, checked against the stored contact on every use.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from hearth.domain.calendar import local_day, start_of_local_day
from hearth.domain.channels import (
    ACTIVATION_WINDOW,
    RETENTION_ACTIVE,
    RETENTION_COHORT,
    Channel,
    ChannelExists,
    ChannelTouch,
    MemberJoin,
    NotAChannelContact,
    UnknownChannel,
    UnknownContact,
    attribute,
    first_week_activation,
    in_retention_cohort,
    same_name,
)
from hearth.domain.lifecycle import Activation
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.services.ports import TimeSpan, UnitOfWork

_USER_ID_LIMIT = 2**53  # Telegram user ids fit in 52 bits; a larger number is nobody


# -- operators


async def create(
    uow: UnitOfWork, *, community: CommunityProfile, name: str, actor_id: int, now: datetime
) -> Channel:
    """A new channel of ``community``, audited; ChannelExists when a channel has this name
    already (in any case of letters, archived ones too)."""
    if any(same_name(each.name, name) for each in await uow.channels.of_community(community.id)):
        raise ChannelExists(name)
    channel = await uow.channels.add(community.id, name, now)
    if channel is None:  # created at the same moment by another operator
        raise ChannelExists(name)
    await _audit(uow, actor_id, "channel.create", channel, now, name=name)
    return channel


async def listing(uow: UnitOfWork, community: CommunityProfile) -> list[Channel]:
    return await uow.channels.of_community(community.id)


async def find(uow: UnitOfWork, channel_id: int, operated: Collection[int]) -> Channel:
    """The channel numbered ``channel_id`` of one of the ``operated`` communities; otherwise
    UnknownChannel (whether it exists elsewhere is nobody's business)."""
    channel = await uow.channels.get(channel_id)
    if channel is None or channel.community_id not in operated:
        raise UnknownChannel(channel_id)
    return channel


async def rename(
    uow: UnitOfWork,
    channel_id: int,
    name: str,
    *,
    operated: Collection[int],
    actor_id: int,
    now: datetime,
) -> Channel:
    """Give a channel a new name, audited (its link stays the same)."""
    channel = await find(uow, channel_id, operated)
    others = await uow.channels.of_community(channel.community_id)
    if any(same_name(each.name, name) for each in others if each.id != channel.id):
        raise ChannelExists(name)
    if not await uow.channels.rename(channel.id, name):
        raise ChannelExists(name)
    await _audit(uow, actor_id, "channel.rename", channel, now, old=channel.name, new=name)
    return replace(channel, name=name)


async def archive(
    uow: UnitOfWork, channel_id: int, *, operated: Collection[int], actor_id: int, now: datetime
) -> tuple[Channel, bool]:
    """Archive a channel: its link records nothing more (its figures stay). Audited; the
    second value is False when it was archived already."""
    channel = await find(uow, channel_id, operated)
    changed = await uow.channels.set_archived(channel.id, True)
    if changed:
        await _audit(uow, actor_id, "channel.archive", channel, now)
    return channel, changed


async def set_contact(
    uow: UnitOfWork,
    channel_id: int,
    reference: str | None,
    *,
    operated: Collection[int],
    actor_id: int,
    now: datetime,
) -> tuple[Channel, MemberProfile | None]:
    """Name the channel's contact person (``reference``: "@username" or a Telegram id of
    someone Hearth knows), or take the role away (None), audited. The contact reads this
    channel's figures with /my_channel from then on, and no longer once changed."""
    channel = await find(uow, channel_id, operated)
    contact = None if reference is None else await _person(uow, reference)
    if reference is not None and contact is None:
        raise UnknownContact(reference)
    contact_id = contact.id if contact is not None else None
    await uow.channels.set_contact(channel.id, contact_id)
    await _audit(
        uow, actor_id, "channel.contact", channel, now, old=channel.contact_id, new=contact_id
    )
    return channel, contact


async def _person(uow: UnitOfWork, reference: str) -> MemberProfile | None:
    if reference.startswith("@"):
        return await uow.members.by_username(reference)
    number = int(reference)
    return await uow.members.get(number) if 0 < number <= _USER_ID_LIMIT else None


async def _audit(
    uow: UnitOfWork, actor_id: int, action: str, channel: Channel, now: datetime, **details: object
) -> None:
    await uow.audit.record(
        actor_id=actor_id,
        action=action,
        community_id=channel.community_id,
        details={"channel_id": channel.id, **details},
        now=now,
    )


# -- the link


async def touched(
    uow: UnitOfWork, community: CommunityProfile, channel_id: int, member_id: int, at: datetime
) -> Channel | None:
    """Someone opened a channel's link at ``at``: record the touch (one per member,
    channel and UTC day; the same link opened again that day adds nothing) and return the
    channel. None, with nothing recorded, for an archived channel or one that is not the
    community's: the link is an unknown one."""
    channel = await uow.channels.get(channel_id)
    if channel is None or channel.community_id != community.id or channel.archived:
        return None
    await uow.channels.add_touch(ChannelTouch(community.id, member_id, channel.id, at))
    return channel


# -- the figures


@dataclass(frozen=True, slots=True)
class ChannelFigures:
    """What one channel brought (``channel`` None: the members who came direct).

    - ``brought``: members attributed to it who are in the group now;
    - ``joined``: of them (current or not), those whose first join was in the period
      (members Hearth first saw taking part were there before and never joined);
    - ``activated`` / ``activation_judged``: of those who joined, the ones active on at
      least 3 distinct days in their first 7 days, over those activated or whose 7 days
      are over (the others are pending);
    - ``retained`` / ``retention_base``: of the members it brought whose first join was 30
      to 90 days ago, the ones still in the group and active in the last 30 days;
    - ``attendances`` / ``attendees``: on-site check-ins at events in the period by the
      members it brought, and how many members they were;
    - ``conversions``: kind -> (count, amount in the minor unit), in the period;
    - ``reached``: members who opened its link in the period (whoever they came through).
    """

    channel: Channel | None
    brought: int = 0
    joined: int = 0
    activated: int = 0
    activation_judged: int = 0
    retained: int = 0
    retention_base: int = 0
    attendances: int = 0
    attendees: int = 0
    conversions: dict[str, tuple[int, int]] = field(default_factory=dict)
    reached: int = 0


@dataclass(frozen=True, slots=True)
class ChannelReport:
    """A community by channel over its local days ``first`` to ``last``: every channel
    (archived ones too), then the members who came direct."""

    community: CommunityProfile
    first: date
    last: date
    channels: list[ChannelFigures]
    direct: ChannelFigures

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def of(self, channel_id: int) -> ChannelFigures:
        return next(
            each for each in self.channels if each.channel and each.channel.id == channel_id
        )


class _Tally:
    """The figures of one row, while they are counted."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.conversions: dict[str, tuple[int, int]] = {}

    def figures(self, channel: Channel | None) -> ChannelFigures:
        counts = self.counts
        return ChannelFigures(
            channel=channel,
            brought=counts["brought"],
            joined=counts["joined"],
            activated=counts["activated"],
            activation_judged=counts["activation_judged"],
            retained=counts["retained"],
            retention_base=counts["retention_base"],
            attendances=counts["attendances"],
            attendees=counts["attendees"],
            conversions=dict(sorted(self.conversions.items())),
            reached=counts["reached"],
        )


async def recent(
    uow: UnitOfWork, community: CommunityProfile, *, days: int, now: datetime
) -> ChannelReport:
    """The channel figures of the ``days`` local days ending today."""
    return await report(uow, community, last=local_day(now, community.timezone), days=days, now=now)


async def report_if_any(
    uow: UnitOfWork, community: CommunityProfile, *, last: date, days: int, now: datetime
) -> ChannelReport | None:
    """``report``, or None when the community has no channel in use (the digest's section
    is left out)."""
    if all(each.archived for each in await uow.channels.of_community(community.id)):
        return None
    return await report(uow, community, last=last, days=days, now=now)


async def report(
    uow: UnitOfWork, community: CommunityProfile, *, last: date, days: int, now: datetime
) -> ChannelReport:
    """The channel figures of the ``days`` local days ending with ``last``, as of ``now``
    (see ``ChannelFigures``). Seven statements at most, however many members and channels."""
    if days < 1:
        raise ValueError("days must be at least 1")
    first = last - timedelta(days=days - 1)
    zone = community.timezone
    span: TimeSpan = (
        start_of_local_day(first, zone),
        start_of_local_day(last + timedelta(1), zone),
    )
    channels = await uow.channels.of_community(community.id)
    touches = await uow.channels.touches(community.id)
    joins = await uow.channels.joins(community.id)
    attributed = attribute(touches, _joined(joins))
    tallies: dict[int | None, _Tally] = {None: _Tally(), **{each.id: _Tally() for each in channels}}

    def tally(member_id: int) -> Counter[str]:
        return tallies[attributed.get(member_id)].counts

    await _count_members(uow, community, joins, tally, span, now)
    for member_id, count in (await uow.channels.attendances(community.id, span)).items():
        tally(member_id).update(attendances=count, attendees=1)
    for line in await uow.channels.conversions(community.id, first, last):
        kinds = tallies[attributed.get(line.member_id)].conversions
        count, amount = kinds.get(line.kind, (0, 0))
        kinds[line.kind] = (count + line.count, amount + line.amount_minor)
    reached = {
        (each.channel_id, each.member_id) for each in touches if _inside(each.touched_at, span)
    }
    for channel_id, _member_id in reached:
        tallies[channel_id].counts["reached"] += 1
    return ChannelReport(
        community=community,
        first=first,
        last=last,
        channels=[tallies[each.id].figures(each) for each in channels],
        direct=tallies[None].figures(None),
    )


async def _count_members(
    uow: UnitOfWork,
    community: CommunityProfile,
    joins: list[MemberJoin],
    tally: Callable[[int], Counter[str]],
    span: TimeSpan,
    now: datetime,
) -> None:
    """Members brought, joined, activated and retained, into each member's row."""
    newcomers = [each for each in joins if not each.seen and _inside(each.first_joined_at, span)]
    active_days = (
        await uow.channels.active_days(
            community.id, (span[0], span[1] + ACTIVATION_WINDOW), joined_since=span[0]
        )
        if newcomers
        else {}
    )
    cohort = [
        each for each in joins if not each.seen and in_retention_cohort(each.first_joined_at, now)
    ]
    active = (
        await uow.channels.active_members(
            community.id, (now - RETENTION_ACTIVE, now), joined_since=now - RETENTION_COHORT[0]
        )
        if cohort
        else set()
    )
    for each in joins:
        if each.current:
            tally(each.member_id)["brought"] += 1
    for each in newcomers:
        counts = tally(each.member_id)
        counts["joined"] += 1
        outcome = first_week_activation(
            each.first_joined_at, active_days.get(each.member_id, []), now
        )
        if outcome is not Activation.PENDING:
            counts["activation_judged"] += 1
        if outcome is Activation.ACTIVATED:
            counts["activated"] += 1
    for each in cohort:
        counts = tally(each.member_id)
        counts["retention_base"] += 1
        if each.current and each.member_id in active:
            counts["retained"] += 1


def _joined(joins: list[MemberJoin]) -> dict[int, datetime]:
    """Member id -> first join, of the members who joined: those Hearth first saw taking
    part were in the group before it, whatever link they opened since (they came direct)."""
    return {each.member_id: each.first_joined_at for each in joins if not each.seen}


def _inside(moment: datetime, span: TimeSpan) -> bool:
    return span[0] <= moment < span[1]


@dataclass(frozen=True, slots=True)
class ChannelCard:
    """One channel for its operators: its community, its contact person, its figures."""

    channel: Channel
    community: CommunityProfile
    contact: MemberProfile | None
    first: date
    last: date
    figures: ChannelFigures


async def card(
    uow: UnitOfWork, channel_id: int, *, operated: Collection[int], days: int, now: datetime
) -> ChannelCard:
    """The card of a channel of one of the ``operated`` communities (UnknownChannel
    otherwise), with the figures of the ``days`` local days ending today."""
    channel = await find(uow, channel_id, operated)
    community = await uow.communities.get(channel.community_id)
    if community is None:
        raise UnknownChannel(channel_id)
    full = await recent(uow, community, days=days, now=now)
    contact = await uow.members.get(channel.contact_id) if channel.contact_id else None
    return ChannelCard(channel, community, contact, full.first, full.last, full.of(channel.id))


# -- the contact person


@dataclass(frozen=True, slots=True)
class ContactView:
    """One channel's figures as its contact person reads them: nothing about anyone
    else, no member named."""

    community_title: str
    first: date
    last: date
    figures: ChannelFigures


async def contact_view(
    uow: UnitOfWork, member_id: int, *, days: int, now: datetime
) -> list[ContactView]:
    """The figures of every channel whose contact person ``member_id`` is, read from the
    stored contact at this very moment; NotAChannelContact when they are nobody's."""
    views = []
    for channel in await uow.channels.of_contact(member_id):
        community = await uow.communities.get(channel.community_id)
        if community is None or not community.active:
            continue
        full = await recent(uow, community, days=days, now=now)
        views.append(ContactView(community.title, full.first, full.last, full.of(channel.id)))
    if not views:
        raise NotAChannelContact()
    return views


# -- the member's own data


async def brought_by(uow: UnitOfWork, member_id: int) -> dict[int, Channel]:
    """Community id -> the channel the member is attributed to there (for /mydata)."""
    touches = await uow.channels.touches_of(member_id)
    found: dict[int, Channel] = {}
    for community_id in sorted({each.community_id for each in touches}):
        joins = await uow.channels.joins(community_id, member_id)
        attributed = attribute(
            [each for each in touches if each.community_id == community_id], _joined(joins)
        )
        channel_id = attributed.get(member_id)
        channel = await uow.channels.get(channel_id) if channel_id is not None else None
        if channel is not None:
            found[community_id] = channel
    return found
