"""Every text of events, through gettext; user content is HTML-escaped.

Times are shown on the community's wall clock, written ``YYYY-MM-DD HH:MM`` — the same
way operators type them in the dialog.
"""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _

from hearth.domain.calendar import local_day
from hearth.domain.errors import HearthError
from hearth.domain.events import (
    DEFAULT_POINTS,
    AlreadyAttended,
    CheckinClosed,
    Event,
    EventDraft,
    EventProblem,
    EventUnavailable,
    InvalidEventInput,
    RsvpCounts,
    RsvpStatus,
    UnknownCode,
    UnknownEvent,
    checkin_window,
    local_time,
)
from hearth.domain.members import CommunityProfile
from hearth.handlers import texts
from hearth.handlers.texts import quote
from hearth.services.events import Attendance, Cancellation, Listing, Report, RsvpResult

SHOWN_COMMENTS = 10
CAPTION_LIMIT = 1024  # Telegram's limit for a photo caption


def moment(instant: datetime, timezone: str) -> str:
    return local_time(instant, timezone).strftime("%Y-%m-%d %H:%M")


def when(starts_at: datetime, ends_at: datetime, timezone: str) -> str:
    """``2026-12-05 14:00–17:00 (Asia/Shanghai)``; the end's day only when it differs."""
    start, end = local_time(starts_at, timezone), local_time(ends_at, timezone)
    end_text = end.strftime("%H:%M") if end.date() == start.date() else moment(ends_at, timezone)
    return f"{start.strftime('%Y-%m-%d %H:%M')}–{end_text} ({timezone})"


def _capacity(capacity: int | None) -> str:
    return _("no limit") if capacity is None else str(capacity)


def _status(status: RsvpStatus | None) -> str:
    names = {
        RsvpStatus.GOING: _("going"),
        RsvpStatus.WAITLISTED: _("on the waitlist"),
        RsvpStatus.MAYBE: _("maybe"),
        RsvpStatus.NOT_GOING: _("not going"),
    }
    return names[status] if status is not None else _("no answer yet")


# -- the card in the group (and the operator's preview)


def _details(
    *,
    title: str,
    description: str,
    place: str,
    starts_at: datetime,
    ends_at: datetime,
    deadline: datetime,
    points: int,
    timezone: str,
) -> list[str]:
    lines = [f"📅 <b>{quote(title)}</b>"]
    if description:
        lines += [quote(description)]
    lines += [
        "",
        _("🕒 {when}").format(when=when(starts_at, ends_at, timezone)),
        _("📍 {place}").format(place=quote(place)),
    ]
    if deadline < starts_at:
        lines.append(
            _("Registration closes {deadline}.").format(deadline=moment(deadline, timezone))
        )
    if points:
        lines.append(_("🎁 {points} points for checking in on site.").format(points=points))
    return lines


def card(event: Event, community: CommunityProfile, counts: RsvpCounts) -> str:
    """The event's message in the group, with the live counts."""
    lines = _details(
        title=event.title,
        description=event.description,
        place=event.place,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        deadline=event.registration_deadline,
        points=event.points,
        timezone=community.timezone,
    )
    if event.tag is not None:
        lines.append(_("🏷 Type: {tag}").format(tag=quote(event.tag)))
    if event.cancelled:
        return "\n".join([_("❌ <b>Cancelled</b>"), "", *lines])
    lines += ["", counts_line(counts, event.capacity)]
    return "\n".join(lines)


def counts_line(counts: RsvpCounts, capacity: int | None) -> str:
    going = (
        _("✅ Going: {going}").format(going=counts.going)
        if capacity is None
        else _("✅ Going: {going}/{capacity}").format(going=counts.going, capacity=capacity)
    )
    parts = [going, _("🤔 Maybe: {maybe}").format(maybe=counts.maybe)]
    if counts.waitlisted:
        parts.append(_("⏳ Waitlist: {count}").format(count=counts.waitlisted))
    return " · ".join(parts)


def photo_caption(title: str) -> str:
    return f"📅 <b>{quote(title)}</b>"


def preview(draft: EventDraft, community: CommunityProfile) -> str:
    lines = _details(
        title=draft.title,
        description=draft.description,
        place=draft.place,
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        deadline=draft.registration_deadline,
        points=draft.points,
        timezone=community.timezone,
    )
    lines += [
        _("👥 Seats: {capacity}").format(capacity=_capacity(draft.capacity)),
        "",
        _(
            "Publish this in <b>{community}</b>? Members answer with the buttons on the card."
        ).format(community=quote(community.title)),
    ]
    return "\n".join(lines)


def button_going() -> str:
    return _("✅ Going")


def button_maybe() -> str:
    return _("🤔 Maybe")


def button_not_going() -> str:
    return _("❌ Can't go")


def button_publish() -> str:
    return _("Publish")


def button_discard() -> str:
    return _("Cancel")


# -- the dialog


def ask_title() -> str:
    return "\n".join(
        [
            _("Let's create an event. Send /cancel at any time to stop."),
            "",
            _("What is the event called? (up to 100 characters)"),
        ]
    )


def ask_description() -> str:
    return _("Describe it in a few lines: what happens, what to bring. Or /skip.")


def ask_place() -> str:
    return _("Where does it take place? Send an address or an online link.")


def ask_when(timezone: str, example: str) -> str:
    return _(
        "When? Times are in {timezone}. Send the start, e.g. {example}, or the start and "
        "the end, e.g. {example}-17:00."
    ).format(timezone=timezone, example=example)


def ask_end() -> str:
    return _(
        "When does it end? Send a time such as 17:00 (or a date and time such as "
        "2026-12-06 10:00), or /skip for two hours after the start."
    )


def ask_capacity() -> str:
    return _("How many seats are there? Send a number, or /skip for no limit.")


def ask_deadline() -> str:
    return _(
        "When does registration close? Send a date and time such as 2026-12-04 20:00, "
        "or /skip to keep it open until the start."
    )


def ask_points() -> str:
    return _(
        "How many points does checking in on site earn? Send a number (0 for none), "
        "or /skip for {points}."
    ).format(points=DEFAULT_POINTS)


def ask_photo() -> str:
    return _("Send a photo for the announcement, or /skip.")


def answer_with_text() -> str:
    return _("Please answer with a text message, or send /cancel to stop.")


def answer_with_photo() -> str:
    return _("Please send a photo (not a file), or /skip.")


def answer_with_buttons() -> str:
    return _("Please use the buttons above, or send /cancel to stop.")


def cannot_skip() -> str:
    return _("This step cannot be skipped. Please answer, or send /cancel to stop.")


def dialog_cancelled() -> str:
    return _("Event discarded: nothing was published.")


def nothing_to_cancel() -> str:
    return _("There is nothing to cancel.")


def time_passed() -> str:
    return _(
        "The start time has passed while we were talking. Nothing was published; "
        "send /event_new to start again."
    )


def invalid_input(error: InvalidEventInput) -> str:
    parts = {
        "title": _("The title must have 1 to 100 characters."),
        "description": _("The description must have 1 to 1,000 characters."),
        "place": _("The place must have 1 to 200 characters."),
        "when": _("I could not read that date and time. Write it like 2026-12-05 14:00."),
        "end": _("I could not read that time. Write it like 17:00 or 2026-12-06 10:00."),
        "past": _("That moment has already passed. Please send a time in the future."),
        "order": _("The end must come after the start."),
        "too_long": _("An event can last at most 14 days."),
        "deadline": _("Write the deadline as a date and time, like 2026-12-04 20:00."),
        "deadline_after_start": _("Registration must close no later than the start."),
        "capacity": _("The number of seats must be a whole number from 1 to 100,000, or /skip."),
        "points": _("The points must be a whole number from 0 to 10,000."),
        "tag": _(
            "The type is a short tag of letters or digits, like track-day; "
            "send none to take it off."
        ),
        "comment": _("Please write a few words, or /skip."),
        "field": edit_usage(),
        "value": edit_usage(),
    }
    return parts.get(error.part, edit_usage())


# -- operators


def private_only(command: str) -> str:
    return _("Send /{command} to me in private.").format(command=command)


def published(event: Event, community: CommunityProfile) -> str:
    return "\n".join(
        [
            _("Published event #{number} <b>{title}</b> in {community}.").format(
                number=event.id, title=quote(event.title), community=quote(community.title)
            ),
            "",
            attendance_instructions(event, community),
        ]
    )


def post_failed(community: CommunityProfile) -> str:
    return _(
        "I could not post the event in {community}. Am I still a member there, allowed to "
        "write? Nothing was published."
    ).format(community=quote(community.title))


def attendance_instructions(event: Event, community: CommunityProfile) -> str:
    opens, closes = checkin_window(event)
    return "\n".join(
        [
            _("Attendance code: <code>{code}</code>").format(code=event.code),
            _(
                "On site, show the QR code or the code: members scan it, or send "
                "/attend {code} to me in private, to check in and earn {points} points."
            ).format(code=event.code, points=event.points),
            _("Check-in is open from {opens} to {closes}.").format(
                opens=moment(opens, community.timezone), closes=moment(closes, community.timezone)
            ),
        ]
    )


def qr_caption(event: Event) -> str:
    return _("Check-in QR for #{number} {title}: {code}").format(
        number=event.id, title=quote(event.title), code=event.code
    )


def edit_usage() -> str:
    return "\n".join(
        [
            _(
                "Usage: /event_edit NUMBER FIELD VALUE, where FIELD is title, description, "
                "place, when, capacity, deadline, points or tag (the event's type, e.g. "
                "track-day: members who attend get it as a tag)."
            ),
            _("Examples: /event_edit 3 capacity 40 · /event_edit 3 when 2026-12-05 15:00-18:00"),
        ]
    )


def edited(event: Event, community: CommunityProfile, counts: RsvpCounts) -> str:
    return "\n".join(
        [
            _("Event #{number} updated; the card in the group follows shortly:").format(
                number=event.id
            ),
            "",
            card(event, community, counts),
        ]
    )


def number_usage(command: str) -> str:
    return _("Usage: /{command} EVENT_NUMBER").format(command=command)


def cancelled(result: Cancellation) -> str:
    if result.already:
        return _("Event #{number} <b>{title}</b> was cancelled already.").format(
            number=result.event.id, title=quote(result.event.title)
        )
    return _(
        "Event #{number} <b>{title}</b> is cancelled. {count} registered members will be told "
        "in private; the card in the group says so."
    ).format(number=result.event.id, title=quote(result.event.title), count=result.notified)


def report(result: Report, timezone: str) -> str:
    event, counts = result.event, result.counts
    lines = [
        _("<b>Report for #{number} {title}</b>").format(number=event.id, title=quote(event.title)),
        when(event.starts_at, event.ends_at, timezone),
    ]
    if event.cancelled:
        lines.append(_("❌ Cancelled"))
    lines += [
        "",
        _("Going: {going} (seats: {capacity}) · Waitlist: {waitlisted}").format(
            going=counts.going, capacity=_capacity(event.capacity), waitlisted=counts.waitlisted
        ),
        _("Maybe: {maybe} · Can't go: {not_going}").format(
            maybe=counts.maybe, not_going=counts.not_going
        ),
        _("Checked in on site: {count}").format(count=result.attended),
        "",
    ]
    if result.average_rating is None:
        lines.append(_("Average rating: no ratings yet"))
    else:
        lines.append(
            _("Average rating: {rating:.1f} / 5 ({count} ratings)").format(
                rating=result.average_rating, count=result.ratings
            )
        )
    if result.nps is None:
        lines.append(_("NPS: no answers yet"))
    else:
        lines.append(
            _("NPS: {nps:+d} ({count} answers; promoters 9–10 minus detractors 0–6)").format(
                nps=result.nps, count=result.recommendations
            )
        )
    if result.comments:
        lines += ["", _("<b>Comments</b>")]
        lines += [f"• {quote(comment)}" for comment in result.comments[-SHOWN_COMMENTS:]]
        hidden = len(result.comments) - SHOWN_COMMENTS
        if hidden > 0:
            lines.append(_("…and {count} earlier ones.").format(count=hidden))
    return "\n".join(lines)


# -- members


def events_list(listings: list[Listing]) -> str:
    if not listings:
        return _("No upcoming events yet. The team will announce them in the group.")
    lines = [_("📅 <b>Upcoming events</b>"), ""]
    for listing in listings:
        event, timezone = listing.event, listing.community.timezone
        lines.append(f"#{event.id} <b>{quote(event.title)}</b> — {quote(listing.community.title)}")
        lines.append(_("🕒 {when}").format(when=when(event.starts_at, event.ends_at, timezone)))
        lines.append(_("📍 {place}").format(place=quote(event.place)))
        lines.append(counts_line(listing.counts, event.capacity))
        lines.append(_("Your answer: {answer}").format(answer=_status(listing.mine)))
        lines.append("")
    lines.append(_("Answer with the buttons below or on the event's card in the group."))
    return "\n".join(lines)


def rsvp_answered(result: RsvpResult) -> str:
    """The toast a member sees after pressing an RSVP button."""
    status, counts, capacity = result.status, result.counts, result.event.capacity
    if status is RsvpStatus.GOING:
        if not result.changed:
            return _("You are already going.")
        if capacity is None:
            return _("You're going! See you there.")
        return _("You're going! {going} of {capacity} seats are taken.").format(
            going=counts.going, capacity=capacity
        )
    if status is RsvpStatus.WAITLISTED:
        return _(
            "The event is full: you are number {position} on the waitlist. If a seat frees "
            "up you move up automatically (I tell you in private if you started me)."
        ).format(position=result.waitlist_position or counts.waitlisted)
    if status is RsvpStatus.MAYBE:
        return _("Noted: maybe.")
    return _("Noted: you can't go.")


def refusal(error: HearthError) -> str:
    """Why a member's RSVP, check-in or feedback, or an operator's request, was refused."""
    if isinstance(error, EventUnavailable):
        return _unavailable(error)
    if isinstance(error, UnknownEvent):
        return _("There is no event #{number} in your communities.").format(number=error.event_id)
    if isinstance(error, UnknownCode):
        return _(
            "I don't know the code {code}. Check it (letters and digits, like K7M3QX) and "
            "send it again."
        ).format(code=quote(error.code))
    if isinstance(error, CheckinClosed):
        return _checkin_closed(error)
    if isinstance(error, AlreadyAttended):
        return _(
            "You are already checked in at <b>{title}</b>; its points were credited once."
        ).format(title=quote(error.event.title))
    if isinstance(error, InvalidEventInput):
        return invalid_input(error)
    return texts.something_went_wrong()


def _unavailable(error: EventUnavailable) -> str:
    problem = error.problem
    if problem is EventProblem.NOT_A_MEMBER:
        return _(
            "This event is for members of its community. Join the group first, then try again."
        )
    if problem is EventProblem.CANCELLED:
        return _("This event was cancelled.")
    if problem is EventProblem.REGISTRATION_CLOSED:
        return _("Registration for this event has closed.")
    if problem is EventProblem.STARTED:
        return _("This event has already started; answers can no longer change.")
    if problem is EventProblem.NOT_ATTENDED:
        return _("Feedback is for members who checked in at the event.")
    return _("This event no longer exists.")


def _checkin_closed(error: CheckinClosed) -> str:
    event, timezone = error.event, error.timezone
    opens, closes = checkin_window(event)
    if error.too_early:
        return _(
            "That code is for <b>{title}</b> ({when}). Check-in opens at {opens}; "
            "send it again then."
        ).format(
            title=quote(event.title),
            when=when(event.starts_at, event.ends_at, timezone),
            opens=moment(opens, timezone),
        )
    return _("That code is for <b>{title}</b>, whose check-in closed at {closes}.").format(
        title=quote(event.title), closes=moment(closes, timezone)
    )


def attend_usage() -> str:
    return _("Send the code shown at the event, e.g. /attend K7M3QX, or scan the event's QR code.")


def attended(result: Attendance) -> str:
    title = quote(result.event.title)
    if result.points:
        return _(
            "✅ You're checked in at <b>{title}</b>: +{points} points (balance {balance}). Enjoy!"
        ).format(title=title, points=result.points, balance=result.balance)
    return _("✅ You're checked in at <b>{title}</b>. Enjoy!").format(title=title)


def moved_up(event: Event, community: CommunityProfile) -> str:
    return "\n".join(
        [
            _("🎉 A seat freed up: you are now going to <b>{title}</b> ({community}).").format(
                title=quote(event.title), community=quote(community.title)
            ),
            _("🕒 {when}").format(when=when(event.starts_at, event.ends_at, community.timezone)),
            _("📍 {place}").format(place=quote(event.place)),
            _("Can't make it after all? Press “Can't go” on the event's card or in /events."),
        ]
    )


def cancelled_notice(event: Event, community: CommunityProfile) -> str:
    return _(
        "❌ <b>{title}</b> ({community}) on {start} is cancelled. Sorry! You don't need to "
        "do anything."
    ).format(
        title=quote(event.title),
        community=quote(community.title),
        start=moment(event.starts_at, community.timezone),
    )


def reminder(event: Event, community: CommunityProfile, hours: int, now: datetime) -> str:
    days_ahead = (
        local_day(event.starts_at, community.timezone) - local_day(now, community.timezone)
    ).days
    if hours < 24:
        heading = _("⏰ Starting soon: <b>{title}</b> ({community})")
    elif days_ahead <= 0:  # registered late: the day reminder comes on the day itself
        heading = _("⏰ Today: <b>{title}</b> ({community})")
    elif days_ahead == 1:
        heading = _("⏰ Tomorrow: <b>{title}</b> ({community})")
    else:
        heading = _("⏰ Coming up: <b>{title}</b> ({community})")
    lines = [
        heading.format(title=quote(event.title), community=quote(community.title)),
        _("🕒 {when}").format(when=when(event.starts_at, event.ends_at, community.timezone)),
        _("📍 {place}").format(place=quote(event.place)),
    ]
    if event.points:
        lines.append(
            _(
                "On site, send me the code the team shows (/attend CODE) to earn {points} points."
            ).format(points=event.points)
        )
    lines.append(_("Can't make it? Press “Can't go” in /events so someone else gets your seat."))
    return "\n".join(lines)


def feedback_request(event: Event, community: CommunityProfile) -> str:
    return _("Thank you for coming to <b>{title}</b>! How was it? Rate it from 1 to 5:").format(
        title=quote(event.title)
    )


def ask_recommend(community_title: str) -> str:
    return _(
        "How likely are you to recommend {community} to a friend? "
        "0 = not at all, 10 = extremely likely."
    ).format(community=quote(community_title))


def ask_comment() -> str:
    return _("Thank you! Anything you want to tell the team? Send a comment, or /skip.")


def feedback_thanks() -> str:
    return _("Thank you for your feedback!")


def comment_thanks() -> str:
    return _("Thank you — the team will read it.")


def rated(rating: int) -> str:
    return _("You rated it {rating} / 5.").format(rating=rating)
