"""Every text of announcements and greetings, through gettext; user content is HTML-escaped.

An announcement's own text is the operator's, kept with its formatting as Telegram HTML
(aiogram's ``html_text`` escapes it); it is never translated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.text_decorations import html_decoration
from babel.dates import get_day_names
from babel.lists import format_list

from hearth.domain.announcements import Announcement, Audience
from hearth.domain.greetings import Birthday, Greeting, Occasion
from hearth.domain.schedules import LAST_DAY, Frequency, Schedule, ScheduleProblem
from hearth.handlers.texts import quote
from hearth.services.announcements import Created, Planned

EXCERPT = 60  # characters of an announcement shown in the list
_WORKING_DAYS = frozenset(range(5))
_WEEKEND = frozenset({5, 6})


def _locale() -> str:
    return get_i18n().current_locale


def _weekdays(days: frozenset[int]) -> str:
    names = get_day_names("wide", locale=_locale())
    return format_list([str(names[day]) for day in sorted(days)], locale=_locale())


def moment(instant: datetime, timezone: str) -> str:
    """An instant in the community's time: ``Mon 2026-03-09 09:00``."""
    local = instant.astimezone(ZoneInfo(timezone))
    day = get_day_names("abbreviated", locale=_locale())[local.weekday()]
    return f"{day} {local:%Y-%m-%d %H:%M}"


def schedule(plan: Schedule) -> str:
    """A schedule in words, in the reader's language."""
    at = f"{plan.at:%H:%M}"
    if plan.frequency is Frequency.ONCE:
        assert plan.on_date is not None
        return _("once, on {date} at {time}").format(date=plan.on_date.isoformat(), time=at)
    if plan.frequency is Frequency.DAILY:
        return _("every day at {time}").format(time=at)
    if plan.frequency is Frequency.WEEKLY:
        if plan.weekdays == _WORKING_DAYS:
            return _("every weekday (Monday to Friday) at {time}").format(time=at)
        if plan.weekdays == _WEEKEND:
            return _("every weekend day at {time}").format(time=at)
        return _("every {days} at {time}").format(days=_weekdays(plan.weekdays), time=at)
    if plan.day_of_month == LAST_DAY:
        return _("on the last day of every month at {time}").format(time=at)
    return _("on day {day} of every month at {time}").format(day=plan.day_of_month, time=at)


def audience(choice: Audience) -> str:
    if choice.private_copies:
        return _("the group and members in private")
    return _("the group")


# -- the operator's dialog


def private_only(command: str) -> str:
    return _("Send /{command} to me in private: drafts and previews stay between us.").format(
        command=command
    )


def ask_content(title: str) -> str:
    return "\n".join(
        [
            _("📣 New announcement for <b>{title}</b>.").format(title=quote(title)),
            _("Send its text, or a photo with a caption. Bold, italics and links are kept."),
            _("Send /cancel at any step to stop."),
        ]
    )


def content_needed() -> str:
    return _("Please send the announcement as text, or as a photo with an optional caption.")


def examples() -> str:
    return "\n".join(
        [
            _("Examples:"),
            "• now",
            "• 2026-12-24 18:00",
            "• every Monday 09:00",
            "• every day 08:30",
            "• first day of the month 10:30",
            "• 每周一 09:00 · 每天 08:30 · 每月1日 10:30",
        ]
    )


def ask_when(timezone: str, now: datetime) -> str:
    return "\n".join(
        [
            _("When should it go out? Times are in {timezone} (it is {now} there now).").format(
                timezone=timezone, now=moment(now, timezone)
            ),
            examples(),
        ]
    )


def invalid_schedule(problem: ScheduleProblem, timezone: str) -> str:
    reasons = {
        ScheduleProblem.EMPTY: _("Please tell me when the announcement should go out."),
        ScheduleProblem.NO_TIME: _("Please add a time of day, for example “every Monday 09:00”."),
        ScheduleProblem.BAD_TIME: _(
            "That time of day does not exist: use 00:00 to 23:59, or 1 to 12 with am/pm."
        ),
        ScheduleProblem.UNKNOWN_DAYS: _("I could not tell on which day or days it should go out."),
        ScheduleProblem.BAD_DATE: _("That date does not exist."),
        ScheduleProblem.BAD_DAY_OF_MONTH: _(
            "A day of the month is 1 to 31, or “last day of the month”."
        ),
        ScheduleProblem.IN_THE_PAST: _(
            "That time has already passed in {timezone}. Pick a later one, or send “now”."
        ).format(timezone=timezone),
    }
    return reasons[problem] + "\n\n" + examples()


def ask_audience() -> str:
    return _("Who should receive it?")


def audience_button(choice: Audience) -> str:
    if choice.private_copies:
        return _("👥 Group + 📩 members in private")
    return _("👥 Group only")


def preview_summary(
    *,
    title: str,
    plan: Schedule | None,
    next_run: datetime | None,
    timezone: str,
    choice: Audience,
    reachable: int,
) -> str:
    lines = [_("☝️ <b>Preview</b>: this is exactly what members will see."), ""]
    lines.append(_("Community: {title}").format(title=quote(title)))
    if plan is None or next_run is None:
        lines.append(_("When: right after you confirm"))
    else:
        lines.append(_("When: {when}").format(when=schedule(plan)))
        lines.append(_("First run: {moment}").format(moment=moment(next_run, timezone)))
    lines.append(_("To: {audience}").format(audience=audience(choice)))
    if choice.private_copies:
        lines.append(
            _(
                "Reachable in private: {count} (members who started the bot and did not opt "
                "out); their copy has a button to stop announcements."
            ).format(count=reachable)
        )
    return "\n".join(lines)


def confirm_button() -> str:
    return _("✅ Confirm")


def cancel_button() -> str:
    return _("✖ Cancel")


def created(result: Created, title: str, timezone: str) -> str:
    number = result.announcement.id
    if result.next_run is None and result.announcement.audience.private_copies:
        return _(
            "✅ Announcement #{number} is on its way to {title} (private copies: {count})."
        ).format(number=number, title=quote(title), count=max(result.queued - 1, 0))
    if result.next_run is None:
        return _("✅ Announcement #{number} is on its way to {title}.").format(
            number=number, title=quote(title)
        )
    return _("✅ Announcement #{number} is scheduled {when}. First run: {moment}.").format(
        number=number,
        when=schedule(result.announcement.schedule),
        moment=moment(result.next_run, timezone),
    )


def cancelled() -> str:
    return _("Cancelled: nothing was sent or scheduled.")


def nothing_to_cancel() -> str:
    return _("There is nothing to cancel.")


# -- the operators' list


def listing(lines: Sequence[Planned], *, more: int) -> str:
    if not lines:
        return _("No announcements are scheduled. Create one with /announce.")
    parts = [_("<b>Announcements</b>")]
    for line in lines:
        parts += ["", _entry(line)]
    if more:
        parts += ["", _("…and {count} more.").format(count=more)]
    return "\n".join(parts)


def _entry(line: Planned) -> str:
    announcement, community = line.announcement, line.community
    head = _("<b>#{number}</b> · {title} · {audience}").format(
        number=announcement.id,
        title=quote(community.title),
        audience=audience(announcement.audience),
    )
    when = schedule(announcement.schedule)
    if announcement.paused:
        state = _("⏸ paused")
    elif line.next_run is not None:
        state = _("next: {moment}").format(moment=moment(line.next_run, community.timezone))
    else:
        state = _("no run left")
    return "\n".join([head, f"{when} · {state}", f"<i>{excerpt(announcement)}</i>"])


def excerpt(announcement: Announcement) -> str:
    plain = html_decoration.quote(_plain(announcement.html)) or _("(photo)")
    return plain if len(plain) <= EXCERPT else plain[: EXCERPT - 1] + "…"


def _plain(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", "", html)).split())


def pause_button(number: int) -> str:
    return _("⏸ Pause #{number}").format(number=number)


def resume_button(number: int) -> str:
    return _("▶️ Resume #{number}").format(number=number)


def delete_button(number: int) -> str:
    return _("🗑 Delete #{number}").format(number=number)


def confirm_delete(number: int) -> str:
    return _("Delete announcement #{number} for good? It will never go out again.").format(
        number=number
    )


def delete_for_good_button() -> str:
    return _("🗑 Delete")


def keep_button() -> str:
    return _("Keep it")


def paused(number: int) -> str:
    return _("Announcement #{number} is paused.").format(number=number)


def resumed(number: int) -> str:
    return _("Announcement #{number} is running again.").format(number=number)


def already(number: int, *, paused: bool) -> str:
    if paused:
        return _("Announcement #{number} was already paused.").format(number=number)
    return _("Announcement #{number} was already running.").format(number=number)


def deleted(number: int) -> str:
    return _("Announcement #{number} is deleted.").format(number=number)


def unknown_announcement() -> str:
    return _("There is no such announcement in your communities any more.")


# -- members


def stop_button(title: str) -> str:
    return _("🔕 No more announcements from {title}").format(title=title[:40])


def private_copies_usage() -> str:
    return _(
        "Usage: /announcements on or /announcements off — whether your communities' "
        "announcements also reach you in private."
    )


def private_copies_changed(enabled: bool, titles: Sequence[str]) -> str:
    listed = quote(", ".join(titles))
    if enabled:
        return _("Announcements from {titles} will reach you in private too.").format(titles=listed)
    return _(
        "You will no longer get announcements in private from {titles}. They are still "
        "posted in the group."
    ).format(titles=listed)


def stopped_from(title: str) -> str:
    """Shown in an alert: plain text, not HTML."""
    return _(
        "Done: no more announcements in private from {title}. Send /announcements on to "
        "get them again."
    ).format(title=title)


def in_private(command: str) -> str:
    return _("This is personal: send /{command} to me in private.").format(command=command)


# -- greetings


def greetings_usage() -> str:
    return _(
        "Usage: /greetings on or /greetings off — a short private message on the "
        "anniversary of joining your community and on your birthday."
    )


def greetings_changed(enabled: bool, has_birthday: bool) -> str:
    if not enabled:
        return _("Greetings are off. You can turn them on again with /greetings on.")
    text = _("🎉 Greetings are on: I will congratulate you on the anniversary of joining.")
    if has_birthday:
        return text + " " + _("And on your birthday, of course.")
    return text + " " + _("Tell me your birthday with /birthday MM-DD to get one then too.")


def birthday_usage() -> str:
    return _(
        "Usage: /birthday MM-DD (for example /birthday 12-24) or /birthday off. "
        "Only the month and day — never the year."
    )


def birthday_is(birthday: Birthday | None) -> str:
    if birthday is None:
        return _("I do not know your birthday.") + "\n" + birthday_usage()
    return _("Your birthday: {day}. Change it with /birthday MM-DD, or /birthday off.").format(
        day=birthday.spec()
    )


def birthday_saved(birthday: Birthday | None, *, greetings_on: bool) -> str:
    if birthday is None:
        return _("Done: I forgot your birthday.")
    text = _("Noted: your birthday is {day}.").format(day=birthday.spec())
    if greetings_on:
        return text
    return text + " " + _("Turn greetings on with /greetings on to get a message on the day.")


def greeting(kind: Greeting, *, name: str, title: str) -> str:
    if kind.occasion is Occasion.BIRTHDAY:
        return _(
            "🎂 Happy birthday, {name}! Everyone at {title} wishes you a wonderful day."
        ).format(name=quote(name), title=quote(title))
    return _(
        "🎉 {name}, today is your {years}-year anniversary in {title}. Thank you for being "
        "part of it!"
    ).format(name=quote(name), years=kind.years, title=quote(title))
