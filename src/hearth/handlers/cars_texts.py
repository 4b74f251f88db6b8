"""Texts of /car, maintenance reminders, /service_settings and /service_requests, through
gettext; what members and operators typed is HTML-escaped. Days are written YYYY-MM-DD,
the way members type them."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import gettext as _

from hearth.domain.cars import (
    FIRST_YEAR,
    MAX_MILEAGE_KM,
    MAX_MODEL_LENGTH,
    SNOOZE_DAYS,
    BadCarInput,
    BadServiceSetting,
    CarField,
    CarProfile,
    DueBy,
    ServiceDue,
    ServiceInterval,
    ServiceSettings,
)
from hearth.domain.members import CommunityProfile
from hearth.handlers import profile_texts
from hearth.handlers.texts import quote
from hearth.services.cars import CarView, RequestsPage


def km(value: int | float) -> str:
    return f"{round(value):,}"


def field_name(which: CarField) -> str:
    names = {
        CarField.MODEL: _("Model"),
        CarField.YEAR: _("Model year"),
        CarField.PURCHASED: _("Bought on"),
        CarField.MILEAGE: _("Mileage"),
        CarField.SERVICED: _("Last service"),
        CarField.SERVICE_MILEAGE: _("Mileage at the last service"),
    }
    return names[which]


def holds(shown: CarView, which: CarField) -> bool:
    """Whether the card has something to clear for ``which``."""
    profile = shown.profile
    values = {
        CarField.MODEL: shown.model,
        CarField.YEAR: profile.year,
        CarField.PURCHASED: profile.purchased_on,
        CarField.MILEAGE: profile.mileage,
        CarField.SERVICED: profile.serviced_on,
        CarField.SERVICE_MILEAGE: profile.service_km,
    }
    return values[which] is not None


# -- the card


def card(shown: CarView) -> str:
    """The member's car in one community, the next service and the reminders' state."""
    profile = shown.profile
    title = quote(shown.community.title)
    lines = [_("🚗 <b>Your car in {title}</b>").format(title=title)]
    if shown.empty:
        lines.append(
            _("You have not told us about your car yet. Everything here is optional: use the "
              "buttons to add what you like.")
        )  # fmt: skip
    else:
        lines.append(_("Model: {value}").format(value=_model(shown)))
        lines.append(_("Model year: {value}").format(value=_or_dash(profile.year)))
        lines.append(_("Bought on: {value}").format(value=_or_dash(profile.purchased_on)))
        lines.append(_("Mileage: {value}").format(value=_mileage(profile)))
        lines.append(_("Last service: {value}").format(value=_service(profile)))
    lines.append("")
    lines += _due_lines(shown)
    lines.append("")
    lines.append(
        _("It is yours: change or clear anything with the buttons; /forget_me erases it all.")
    )
    return "\n".join(lines)


def _or_dash(value: object) -> str:
    return "—" if value is None else quote(str(value))


def model_name(shown: CarView) -> str | None:
    """The model as the member named it, or their questionnaire answer, in their words."""
    if shown.model_option is not None:
        return profile_texts.label(shown.model_option)
    return shown.model


def _model(shown: CarView) -> str:
    name = model_name(shown)
    if name is None:
        return "—"
    if shown.model_option is not None:
        return _("<b>{model}</b> (your /profile answer)").format(model=quote(name))
    return f"<b>{quote(name)}</b>"


def _mileage(profile: CarProfile) -> str:
    if profile.mileage is None:
        return "—"
    return _("about {km} km (entered {day})").format(
        km=km(profile.mileage.km), day=profile.mileage.on.isoformat()
    )


def _service(profile: CarProfile) -> str:
    if profile.serviced_on is None:
        return (
            "—" if profile.service_km is None else _("at {km} km").format(km=km(profile.service_km))
        )
    if profile.service_km is None:
        return profile.serviced_on.isoformat()
    return _("{day}, at {km} km").format(
        day=profile.serviced_on.isoformat(), km=km(profile.service_km)
    )


def _due_lines(shown: CarView) -> list[str]:
    settings, due, profile = shown.settings, shown.due, shown.profile
    lines = []
    if due is not None:
        lines.append(
            _("Next service: around <b>{day}</b> ({why}).").format(
                day=due.on.isoformat(), why=due_reason(due, profile)
            )
        )
    elif not profile.can_be_reminded:
        lines.append(
            _("Enter your last service or your mileage and I can tell when the next service "
              "is due.")
        )  # fmt: skip
    if not settings.enabled:
        lines.append(
            _("{title} does not send maintenance reminders yet.").format(
                title=quote(shown.community.title)
            )
        )
    elif profile.reminders_on:
        lines.append(_("Maintenance reminders: on. I will write when a service is due."))
    else:
        lines.append(_("Maintenance reminders: off."))
    return lines


def due_reason(due: ServiceDue, profile: CarProfile) -> str:
    """Why the service is due then: the months since the last service (or the purchase),
    or the kilometres at the member's pace."""
    months = due.interval.months
    if due.by is DueBy.TIME and profile.serviced_on is not None:
        return _("{months} months after the last service").format(months=months)
    if due.by is DueBy.TIME:
        return _("{months} months after you bought it").format(months=months)
    return _("every {km} km, at about {pace} km a day").format(
        km=km(due.interval.km), pace=km(float(due.km_per_day))
    )


def set_button(which: CarField) -> str:
    return _("✏️ {field}").format(field=field_name(which))


def clear_button() -> str:
    return _("🗑 Clear")


def reminders_button(on: bool) -> str:
    return _("🔕 Stop maintenance reminders") if on else _("🔔 Maintenance reminders on")


def in_private() -> str:
    return _("Your car is your business: send /car to me in private.")


# -- typing a field


def ask(which: CarField, today: date) -> str:
    prompts = {
        CarField.MODEL: _("Which model is it? Send its name, e.g. Model Y or Golf GTI."),
        CarField.YEAR: _("Which model year? Send four digits, e.g. {year}.").format(
            year=today.year - 3
        ),
        CarField.PURCHASED: _(
            "When did you buy it? Send the date as YYYY-MM-DD, e.g. {day}."
        ).format(day=today.replace(day=1).isoformat()),
        CarField.MILEAGE: _("About how many kilometres does it show? Send a number, e.g. 23500."),
        CarField.SERVICED: _("When was its last service? Send the date as YYYY-MM-DD."),
        CarField.SERVICE_MILEAGE: _(
            "What did it show at that service? Send the kilometres, e.g. 18000."
        ),
    }
    return "\n".join([prompts[which], _("Send /cancel to stop.")])


def saved() -> str:
    return _("Saved.")


def cleared(which: CarField) -> str:
    return _("Cleared: {field}.").format(field=field_name(which))


def cancelled() -> str:
    return _("Stopped: nothing was changed.")


def expects_text() -> str:
    return _("Please send it as text, or /cancel.")


def bad_input(error: BadCarInput, today: date) -> str:
    """What was wrong with what the member typed, and how to write it."""
    reason, which = error.reason, error.field
    if reason == "future":
        said = _("That day is still to come: send a day up to today ({day}).").format(
            day=today.isoformat()
        )
    elif reason == "early":
        said = _("That is too long ago: send a day from {year} on.").format(year=FIRST_YEAR)
    elif reason == "above_current":
        said = _("That is more than the mileage you entered since: check both numbers.")
    elif which is CarField.MODEL:
        said = _("Send the model's name: letters or digits, at most {length} characters.").format(
            length=MAX_MODEL_LENGTH
        )
    elif which is CarField.YEAR and reason == "range":
        said = _("The model year must be from {first} to {last}.").format(
            first=FIRST_YEAR, last=today.year + 1
        )
    elif which is CarField.YEAR:
        said = _("Send the model year as four digits, e.g. 2021.")
    elif which in (CarField.PURCHASED, CarField.SERVICED):
        said = _("Send the date as YYYY-MM-DD, e.g. 2024-05-30.")
    elif reason == "range":
        said = _("The mileage must be from 0 to {most} km.").format(most=km(MAX_MILEAGE_KM))
    else:
        said = _("Send the kilometres as a whole number, e.g. 23500.")
    return "\n".join([said, _("Try again, or send /cancel.")])


# -- the reminder


def reminder(shown: CarView, due: ServiceDue) -> str:
    title = quote(shown.community.title)
    name = model_name(shown)
    car = f"<b>{quote(name)}</b>" if name is not None else _("your car")
    lines = [
        _("🔧 <b>{title}</b>: {car} is due for a service around <b>{day}</b> ({why}).").format(
            title=title, car=car, day=due.on.isoformat(), why=due_reason(due, shown.profile)
        ),
        _("Book it now, or tell me to remind you later. Your car details are in /car."),
    ]
    return "\n".join(lines)


def book_button() -> str:
    return _("📅 Book a service")


def snooze_button() -> str:
    return _("⏰ Remind me in 2 weeks")


def stop_button() -> str:
    return _("🔕 Stop these reminders")


def not_yours() -> str:
    return _("This reminder was sent to someone else.")


def stale_reminder() -> str:
    return _("This reminder is out of date: see /car for your next service.")


def requested() -> str:
    return _("Thanks! The team has your request and will contact you to book the service.")


def requested_already() -> str:
    return _("You asked already: the team will contact you.")


def snoozed(until: date) -> str:
    return _("All right: I will remind you again on {day}.").format(day=until.isoformat())


def no_more_snoozes() -> str:
    return _("You have put this one off {days} days several times: book it, or stop the "
             "reminders.").format(days=SNOOZE_DAYS)  # fmt: skip


def stopped() -> str:
    return _("No more maintenance reminders. Turn them back on any time in /car.")


def resumed() -> str:
    return _("Maintenance reminders are on again.")


# -- operators


def requests_waiting(title: str, count: int) -> str:
    return _(
        "🔧 Service requests are waiting in <b>{title}</b>: {count} open. Send /service_requests "
        "to see them."
    ).format(title=quote(title), count=count)


def interval(value: ServiceInterval) -> str:
    return _("every {months} months or {km} km, whichever comes first").format(
        months=value.months, km=km(value.km)
    )


def settings(community: CommunityProfile, current: ServiceSettings) -> str:
    title = quote(community.title)
    lines = [_("🔧 <b>Maintenance reminders in {title}</b>").format(title=title)]
    if current.enabled:
        lines.append(
            _("On: members who entered a last service or a mileage in /car are reminded in "
              "private when a service is due.")
        )  # fmt: skip
    else:
        lines.append(
            _("Off: nobody is reminded. They are off until you turn them on, so that an "
              "upgrade sends nothing new. /service_settings on")
        )  # fmt: skip
    lines.append(_("Interval: {interval}.").format(interval=interval(current.interval)))
    for each in current.models:
        lines.append(
            _("• {model}: {interval}").format(
                model=quote(each.label), interval=interval(each.interval)
            )
        )
    if current.booking_url:
        lines.append(_("Booking: {url}").format(url=quote(current.booking_url)))
    else:
        lines.append(_("Booking: no link; members' requests reach you in /service_requests."))
    lines += ["", settings_usage()]
    return "\n".join(lines)


def settings_usage() -> str:
    return "\n".join(
        [
            _("Change them with:"),
            _("/service_settings on|off"),
            _("/service_settings months 12 — /service_settings km 10000"),
            _("/service_settings model NAME MONTHS KM (or model NAME off)"),
            _("/service_settings booking https://… (or booking off)"),
        ]
    )


def bad_setting(error: BadServiceSetting) -> str:
    reasons = {
        "months": _("The months between services must be a whole number from 1 to 60."),
        "km": _("The kilometres between services must be a whole number from 500 to 100,000."),
        "url": _("The booking link must be an https:// address (or off)."),
        "model": _("Name a model with letters or digits (at most 40 characters); to remove "
                   "a model's interval, name one that has its own."),
        "too_many": _("At most 20 models can have their own interval."),
    }  # fmt: skip
    return "\n".join([reasons.get(error.reason, settings_usage()), "", settings_usage()])


def settings_in_private() -> str:
    return _("Send /service_settings or /service_requests to me in private.")


def requests(page: RequestsPage) -> str:
    title = quote(page.community.title)
    if not page.lines:
        return _("🔧 No open service requests in <b>{title}</b>.").format(title=title)
    lines = [
        _("🔧 <b>Service requests in {title}</b> — {count} open, page {page} of {pages}").format(
            title=title, count=page.total, page=page.page + 1, pages=page.pages
        )
    ]
    for line in page.lines:
        who = quote(line.first_name)
        if line.username:
            who += f" (@{quote(line.username)})"
        model = quote(line.model) if line.model else "—"
        lines.append(
            _("#{number} {who} — {model}, due {day}, asked {asked}").format(
                number=line.request.id,
                who=who,
                model=model,
                day=line.request.due_on.isoformat(),
                asked=line.request.requested_at.date().isoformat(),
            )
        )
    lines.append(_("Contact each member, then press Done."))
    return "\n".join(lines)


def done_button(number: int) -> str:
    return _("✓ Done #{number}").format(number=number)


def request_done(number: int) -> str:
    return _("Request #{number} is done.").format(number=number)


def unknown_request() -> str:
    return _("No open request of that number in a community you run.")


# -- /mydata


def summary(profile: CarProfile) -> str:
    """The member's car on one line, as /mydata lists it."""
    parts = [
        quote(profile.model) if profile.model else None,
        str(profile.year) if profile.year else None,
        _("bought {day}").format(day=profile.purchased_on.isoformat())
        if profile.purchased_on
        else None,
        _mileage(profile) if profile.mileage else None,
        _("last service {value}").format(value=_service(profile))
        if profile.serviced_on or profile.service_km is not None
        else None,
    ]
    said = ", ".join(part for part in parts if part) or "—"
    reminders = (
        _("maintenance reminders on") if profile.reminders_on else _("maintenance reminders off")
    )
    return _("Car: {car}; {reminders}").format(car=said, reminders=reminders)
