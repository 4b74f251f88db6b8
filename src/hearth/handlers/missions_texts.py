"""Texts of the newcomer missions: the checklist, the note on a mission done, the operators'
/missions and the activation section of /stats, through gettext."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from hearth.domain.events import local_time
from hearth.domain.missions import BONUS_DAYS, CHECKLIST_DAYS, Checklist, Mission, Programme
from hearth.handlers.texts import quote
from hearth.services.missions import MissionActivationFigures

DONE = "✅"
TO_DO = "⬜"
OFF_THE_LIST = "⛔"

MISSION_NAMES = {
    Mission.INTRODUCE: __("Introduce yourself in the group"),
    Mission.CHECKIN: __("Check in for the first time (/checkin)"),
    Mission.QUIZ: __("Answer a quiz question (/quiz)"),
    Mission.RSVP: __("Answer an event invitation (/events)"),
    Mission.INTERESTS: __("Share your interests (/profile)"),
}


def mission_name(mission: Mission) -> str:
    return str(MISSION_NAMES[mission])


def checklist(found: Checklist, title: str, timezone: str) -> str:
    """A newcomer's checklist: a tick per mission done, the points of each, the bonus."""
    lines = [
        _("<b>Your first steps in {title}</b> — {done} of {total} done").format(
            title=quote(title), done=found.done, total=len(found.items)
        )
    ]
    lines += [
        _("{tick} {mission}: +{points}").format(
            tick=DONE if item.done else TO_DO,
            mission=mission_name(item.mission),
            points=item.points,
        )
        for item in found.items
    ]
    if found.bonus_earned:
        lines.append(
            _("All done within your first week: you earned the bonus of {points} points.").format(
                points=found.bonus
            )
        )
    elif found.complete:
        lines.append(_("All done. Welcome aboard!"))
    elif found.bonus_open:
        deadline = local_time(found.deadline, timezone).strftime("%Y-%m-%d %H:%M")
        lines.append(
            _("Do them all before {deadline} for a bonus of {points} points.").format(
                deadline=deadline, points=found.bonus
            )
        )
    return "\n".join(lines)


def completed(title: str, mission: Mission, points: int, remaining: int, bonus: int) -> str:
    """The private note on a mission done (and on the bonus, when ``bonus`` > 0)."""
    if points > 0:
        first = _("{tick} Mission done in {title}: {mission}. +{points} points.").format(
            tick=DONE, title=quote(title), mission=mission_name(mission), points=points
        )
    else:
        first = _("{tick} Mission done in {title}: {mission}.").format(
            tick=DONE, title=quote(title), mission=mission_name(mission)
        )
    lines = [first]
    if bonus > 0:
        lines.append(
            _("🎉 Every mission done within your first week: +{points} bonus points!").format(
                points=bonus
            )
        )
    elif remaining > 0:
        lines.append(
            ngettext(
                "{count} more to go: /me shows your checklist.",
                "{count} more to go: /me shows your checklist.",
                remaining,
            ).format(count=remaining)
        )
    else:
        lines.append(_("That was the last one. Welcome aboard!"))
    return "\n".join(lines)


# -- operators


def overview(programme: Programme, title: str) -> str:
    """The community's missions as its operators see them, with how to change them."""
    state = _("on") if programme.enabled else _("off")
    lines = [
        _("<b>Newcomer missions in {title}</b>: {state}").format(title=quote(title), state=state),
        "",
    ]
    for rule in programme.rules:
        line = _("{tick} {key} — {mission} — {points} points").format(
            tick=DONE if rule.enabled else OFF_THE_LIST,
            key=rule.mission.value,
            mission=mission_name(rule.mission),
            points=rule.points,
        )
        lines.append(line if rule.enabled else line + " " + _("(off the list)"))
    lines += [
        _("Bonus for every mission within {days} days of joining: {points} points").format(
            days=BONUS_DAYS, points=programme.bonus
        ),
        "",
        _(
            "Members Hearth saw join the group have the checklist for {days} days: after "
            "/start and in /me, with a note in private for each mission done. Progress comes "
            "from what they do, never from what they say."
        ).format(days=CHECKLIST_DAYS),
        "",
        usage(),
    ]
    return "\n".join(lines)


def usage() -> str:
    return _(
        "/missions on|off — show the missions to newcomers or not\n"
        "/missions enable|disable KEY — put a mission on the list or take it off\n"
        "/missions points KEY N — what a mission is worth\n"
        "/missions bonus N — the bonus for all of them in the first week"
    )


def switch_button(enabled: bool) -> str:
    return _("Turn missions off") if enabled else _("Turn missions on")


def mission_button(mission: Mission, enabled: bool) -> str:
    """A button that puts the mission on the list (when off) or takes it off."""
    tick = DONE if enabled else OFF_THE_LIST
    return f"{tick} {mission.value}"


def bad_change(reason: str) -> str:
    if reason == "unknown":
        return _("There is no such mission. Missions: {keys}.").format(
            keys=", ".join(mission.value for mission in Mission)
        )
    return _("Points must be a whole number from 0 to 10000.")


def in_private() -> str:
    return _("Newcomer missions are set up in private: send me /missions there.")


# -- /stats


def activation(figures: MissionActivationFigures) -> list[str]:
    """The missions section of /stats, after a blank line, with what the figure means."""
    state = _("on") if figures.programme_on else _("off")
    rate = "—" if figures.rate is None else f"{figures.rate:.0%}"
    return [
        "",
        _("<b>Newcomer missions</b> ({state})").format(state=state),
        _("Did every mission within {days} days of joining: {rate} ({part}/{whole})").format(
            days=BONUS_DAYS, rate=rate, part=figures.activated, whole=figures.judged
        ),
        ngettext(
            "Of the members seen joining in these days whose first week is over or who did "
            "them all; {count} still in their first week.",
            "Of the members seen joining in these days whose first week is over or who did "
            "them all; {count} still in their first week.",
            figures.pending,
        ).format(count=figures.pending),
    ]
