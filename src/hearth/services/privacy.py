"""Forgetting a member: their personal data is erased, the figures built on the rest stay.

A member asks for it themselves (``/forget_me``) or through an operator (``/forget``). The
erasure is global — a member is one person across communities — and audited.

Erased: first and last name (the first name becomes an anonymous one), username, Telegram
language, the birthday, greeting opt-ins, operator and automatic tags, their answers to the
profile questionnaire (tags too), the comments of event feedback, their nudge choice (on or
off, quiet hours) and every nudge decision about them (the nudge report no longer counts
them), the text of the private messages already delivered to them, and of the delivered
messages of their communities that named them (a quiz round's results, a digest), what they
told the team through /feedback (with the answers), their exit survey answers and the photos
sent as proof for honour boards, their car (/car) and their service requests, and which
dealers' or partners' links they opened (so no channel counts them as brought any more),
and the phone number they shared (/phone).
Kept: the points ledger and balances, activity rows, check-ins, RSVPs, attendance, ratings,
quiz answers, referrals (whose invite brought whom) and the conversions the business
reported (matched before, by id or number) — they hold no personal text, and
every total, board and report built on them reads the same afterwards (the reason an
operator typed for a grant, and the audit log, are the operators' own records and stay as
written). Their chosen language, reminders and reachability stay too: they are how the
member asked to be treated, not data about them.

Private messages still queued are delivered as planned (a reminder the member asked for
should not silently vanish); once sent, a later erasure blanks them like the others.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from hearth.domain.segments import NAME_LIMIT
from hearth.services.directory import Directory
from hearth.services.ports import UnitOfWork

AUDIT_ACTION = "privacy.forget"


@dataclass(frozen=True, slots=True)
class Erasure:
    """How many rows of each kind one erasure changed (for the audit log)."""

    member: int
    birthday: int
    greeting_opt_ins: int
    operator_tags: int
    automatic_tags: int
    feedback_comments: int
    nudge_preference: int
    nudges: int  # nudge decisions about the member (the nudge report counts them no more)
    messages: int  # private messages to the member
    mentions: int  # other messages of their communities that named them
    feedback_items: int = 0  # what they told the team (/feedback) and the answers
    exit_answers: int = 0  # why they left (that they were asked stays: never asked twice)
    honour_photos: int = 0  # photos sent as proof for honour boards (the values stay)
    profile_answers: int = 0  # their answers to the profile questionnaire
    car_profiles: int = 0  # their car (/car) and where its maintenance reminders stand
    service_requests: int = 0  # their requests to book a service
    channel_touches: int = 0  # the dealers' and partners' links they opened
    phone: int = 0  # the phone number they shared (/phone)


def mention_forms(names: Iterable[str]) -> list[str]:
    """What to look for in a delivered message that named the member by one of ``names``:
    the name's first ``NAME_LIMIT`` - 1 characters (lists and the digest cut long names
    there), as they are and HTML-escaped (as a message in HTML parse mode holds them)."""
    forms: dict[str, None] = {}
    for name in names:
        start = name[: NAME_LIMIT - 1]
        forms |= dict.fromkeys([start, html.escape(start, quote=False)])
    return list(forms)


async def forget(
    uow: UnitOfWork,
    directory: Directory,
    *,
    member_id: int,
    anonymous_name: str,
    actor_id: int,
    community_id: int | None,
    now: datetime,
) -> Erasure:
    """Erase the member's personal data and audit who asked (the member themselves, or an
    operator of ``community_id``). Forgetting twice is harmless. Does not commit."""
    privacy = uow.privacy
    # read before they go: group messages that named the member are found by these
    names = mention_forms(name for name in await privacy.names(member_id) if name != anonymous_name)
    erasure = Erasure(
        member=await privacy.anonymise(member_id, name=anonymous_name, now=now),
        birthday=await privacy.delete_birthday(member_id),
        greeting_opt_ins=await privacy.delete_greeting_opt_ins(member_id),
        profile_answers=await privacy.delete_profile_answers(member_id),  # before the tags
        operator_tags=await privacy.delete_operator_tags(member_id),
        automatic_tags=await privacy.clear_automatic_tags(member_id),
        feedback_comments=await privacy.clear_feedback_comments(member_id),
        nudge_preference=await privacy.delete_nudge_preference(member_id),
        nudges=await privacy.delete_nudges(member_id),
        messages=await privacy.blank_delivered_messages(member_id),
        mentions=await privacy.blank_delivered_mentions(member_id, names),
        feedback_items=await privacy.delete_feedback_items(member_id),
        exit_answers=await privacy.clear_exit_answers(member_id),
        honour_photos=await privacy.clear_honour_photos(member_id),
        car_profiles=await uow.cars.delete_profiles(member_id),
        service_requests=await uow.cars.delete_requests(member_id),
        channel_touches=await uow.channels.delete_touches(member_id),
        phone=await uow.member_contacts.delete(member_id),
    )
    await uow.audit.record(
        actor_id=actor_id,
        action=AUDIT_ACTION,
        community_id=community_id,
        details={
            "member_id": member_id,
            "requested_by": "member" if actor_id == member_id else "operator",
            **asdict(erasure),
        },
        now=now,
    )
    # The cached profile still holds the old first name; the next update reloads it.
    uow.on_commit(lambda: directory.forget_member(member_id))
    return erasure
