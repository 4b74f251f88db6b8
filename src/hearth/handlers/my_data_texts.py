"""Texts of /mydata, through gettext; names and tags are HTML-escaped."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from hearth.handlers import cars_texts, channels_texts
from hearth.handlers.texts import quote
from hearth.services.my_data import CommunityData, MyData

TEXT_LIMIT = 3500  # the rest of a long answer is in the file (Telegram takes 4,096)


def my_data(data: MyData) -> str:
    """Everything held about the member, community by community, cut short if long."""
    member = data.member
    name = " ".join(part for part in (data.first_name, data.last_name) if part)
    if data.username:
        name += f" (@{data.username})"
    lines = [
        _("📄 <b>What I hold about you</b>"),
        _("Name: {name}").format(name=quote(name)),
        _("Language: {chosen} (your choice), Telegram's: {telegram}").format(
            chosen=member.locale or "—", telegram=quote(member.language_code or "—")
        ),
        _("Private messages: you started me, I may write to you")
        if member.writable
        else _("Private messages: I may not write to you"),
        _("Birthday: {day}; greetings {state}").format(
            day=data.birthday.spec() if data.birthday else "—",
            state=_("on") if data.greetings else _("off"),
        ),
        _("Nudges: {state}, quiet hours {hours}").format(
            state=_("on") if data.nudges.enabled else _("off"), hours=data.nudges.quiet.label
        ),
        _("Phone number: {phone} (/phone off deletes it)").format(phone=quote(data.phone))
        if data.phone
        else _("Phone number: not shared"),
    ]
    for each in data.communities:
        block = ["", *_community(each)]
        if len("\n".join(lines + block)) > TEXT_LIMIT:
            lines += ["", _("… and more: see the file.")]
            break
        lines += block
    lines += ["", _("The file below holds the same. /forget_me erases your personal data.")]
    return "\n".join(lines)


def _community(each: CommunityData) -> list[str]:
    lines = [f"<b>{quote(each.community.title)}</b>"]
    record = each.record
    if record is not None:
        lines.append(
            _("Member since {day}, tier {tier}; points {points}").format(
                day=record.joined_at.date().isoformat(),
                tier=quote(record.tier),
                points=record.balance,
            )
        )
        if record.tags:
            lines.append(_("Tags: {tags}").format(tags=quote(", ".join(record.tags))))
    if each.channel is not None:
        lines.append(channels_texts.brought_by(each.channel))
    if each.car is not None and not each.car.empty:
        lines.append(cars_texts.summary(each.car))
    for request in each.requests:
        lines.append(
            _("Service request for {day}: {state}").format(
                day=request.due_on.isoformat(),
                state=_("done") if request.done_at else _("open"),
            )
        )
    if each.conversions:
        lines.append(
            _("Service visits and purchases the dealer reported: {count}").format(
                count=len(each.conversions)
            )
        )
    return lines


def in_private() -> str:
    return _("Your data is yours alone: send /mydata to me in private.")


def file_caption() -> str:
    return _("Everything I hold about you, as a file.")
