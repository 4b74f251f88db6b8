"""What a member does with nudges: taps a nudge's button, stops nudges (and undoes it),
sets them on or off and chooses quiet hours in /settings, claims a comeback bonus (the one
the nudge offered, within ``OFFER_VALID_DAYS`` of its sending, while still a member).

A nudge's buttons carry its id, which anyone could forge: every use checks that the nudge
was sent to the very member who tapped.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hearth.domain.errors import HearthError
from hearth.domain.members import CommunityProfile
from hearth.domain.nudges import (
    COMEBACK_VALID_DAYS,
    OFFER_VALID_DAYS,
    NudgeKind,
    NudgePreference,
    NudgeRecord,
    NudgeStatus,
    QuietHours,
)
from hearth.domain.points import EntryKind, NewEntry
from hearth.services import points
from hearth.services.ports import UnitOfWork

COMEBACK_REASON = "comeback"  # the ledger reason of a comeback bonus


class UnknownNudge(HearthError):
    """A button names a nudge that was never sent to the member who tapped it."""


class NotAnOffer(HearthError):
    """A claim was tapped on a nudge that offered no comeback bonus."""


class OfferExpired(HearthError):
    """A claim came more than ``OFFER_VALID_DAYS`` after the offer was sent."""


class OfferAfterLeaving(HearthError):
    """A claim came from a member who has left the community since the offer."""


async def tap(uow: UnitOfWork, nudge_id: int, member_id: int, now: datetime) -> NudgeRecord:
    """The member's nudge, with their first tap on one of its buttons recorded."""
    record = await mine(uow, nudge_id, member_id)
    await uow.nudges.mark_clicked(record.id, now)
    return record


async def mine(uow: UnitOfWork, nudge_id: int, member_id: int) -> NudgeRecord:
    """The nudge sent to this member; UnknownNudge for anyone else's or one never sent."""
    record = await uow.nudges.get(nudge_id)
    if record is None or record.member_id != member_id or record.status is not NudgeStatus.SENT:
        raise UnknownNudge()
    return record


async def stop(uow: UnitOfWork, nudge_id: int, member_id: int, now: datetime) -> NudgeRecord:
    """ "Stop these messages" on a nudge: nudges off for the member, the opt-out recorded."""
    record = await mine(uow, nudge_id, member_id)
    await set_enabled(uow, member_id, False, now)
    await uow.nudges.mark_opted_out(record.id, now)
    return record


async def undo_stop(uow: UnitOfWork, nudge_id: int, member_id: int, now: datetime) -> NudgeRecord:
    """The "Undo" under "stopped": nudges on again, and the opt-out no longer recorded on
    the nudge (the report would count it against the nudge)."""
    record = await mine(uow, nudge_id, member_id)
    await set_enabled(uow, member_id, True, now)
    await uow.nudges.clear_opted_out(record.id)
    return record


async def set_enabled(
    uow: UnitOfWork, member_id: int, enabled: bool, now: datetime
) -> NudgePreference:
    """Nudges on or off for the member (in every community); their quiet hours stay."""
    preference = (await uow.nudges.preference(member_id))._replace(enabled=enabled)
    await uow.nudges.set_preference(member_id, preference, now)
    return preference


async def set_quiet_hours(
    uow: UnitOfWork, member_id: int, quiet: QuietHours, now: datetime
) -> NudgePreference:
    """The member's quiet hours (local hours of each community); on or off stays."""
    preference = (await uow.nudges.preference(member_id))._replace(quiet=quiet)
    await uow.nudges.set_preference(member_id, preference, now)
    return preference


def comeback_expires_at(claimed_at: datetime) -> datetime:
    """When a comeback bonus claimed at ``claimed_at`` expires (UTC)."""
    return claimed_at + timedelta(days=COMEBACK_VALID_DAYS)


def comeback_key(record: NudgeRecord) -> str:
    """One comeback bonus per member, community and dormancy episode."""
    return f"comeback:{record.community_id}:{record.member_id}:{record.episode.isoformat()}"


async def claim_comeback(
    uow: UnitOfWork, record: NudgeRecord, community: CommunityProfile, now: datetime
) -> int:
    """Credit the bonus a comeback nudge offered when it was planned, valid
    ``COMEBACK_VALID_DAYS`` from now; the points credited, 0 when this episode's bonus was
    claimed already.

    Raises NotAnOffer when the nudge offered no bonus (another kind, or none stored),
    OfferExpired more than ``OFFER_VALID_DAYS`` after its sending, and OfferAfterLeaving
    when the member is no longer in the community.
    """
    offered = record.offer_points or 0
    if record.kind is not NudgeKind.COMEBACK or offered <= 0:
        raise NotAnOffer()
    if record.sent_at is None or now > record.sent_at + timedelta(days=OFFER_VALID_DAYS):
        raise OfferExpired()
    membership = await uow.memberships.get(community.id, record.member_id)
    if membership is None or not membership.is_current:
        raise OfferAfterLeaving()
    entry = NewEntry(
        community_id=community.id,
        member_id=record.member_id,
        kind=EntryKind.GRANT,
        amount=offered,
        reason=COMEBACK_REASON,
        key=comeback_key(record),
        at=now,
        expires_at=comeback_expires_at(now),
    )
    return await points.credit_all(uow, [entry])
