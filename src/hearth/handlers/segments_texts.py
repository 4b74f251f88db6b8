"""Texts of /segments, /tagged, /tags, /tag, /untag and /export, through gettext."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n import ngettext

from hearth.domain.lifecycle import Stage
from hearth.domain.rfm import HIGH_VALUE_PERCENT, Segment
from hearth.domain.segments import (
    ListKind,
    MemberRecord,
    Selection,
    StandingsSummary,
    listed_name,
)
from hearth.handlers.texts import TIER_NAMES, quote
from hearth.services.export import ExportKind
from hearth.services.segments import MAX_TAGS_AT_ONCE, MemberPage, TagCounts

HIGH_VALUE = "⭐"
# Telegram refuses a message over 4,096 characters: what a list shows of a member is bounded
# (names: ``domain.segments.listed_name``).
SHOWN_TAGS = 30  # a member's tags in one line; the rest are counted
LISTED_TAGS = 40  # tags per section of /tags, the most used first; the rest are counted

STAGE_NAMES = {
    Stage.NEW: __("New"),
    Stage.GROWING: __("Growing"),
    Stage.MATURE: __("Mature"),
    Stage.DECLINING: __("Declining"),
    Stage.DORMANT: __("Dormant"),
    Stage.CHURNED: __("Churned"),
}
SEGMENT_NAMES = {
    Segment.CHAMPIONS: __("Champions"),
    Segment.LOYAL: __("Loyal"),
    Segment.PROMISING: __("Promising"),
    Segment.NEW: __("Newcomers"),
    Segment.NEEDS_ATTENTION: __("Needs attention"),
    Segment.AT_RISK: __("At risk"),
    Segment.CANT_LOSE: __("Can't lose"),
    Segment.HIBERNATING: __("Hibernating"),
    Segment.LOST: __("Lost"),
}
EXPORT_NAMES = {
    ExportKind.MEMBERS: __("members"),
    ExportKind.ACTIVITY: __("activity"),
    ExportKind.POINTS: __("points ledger"),
    ExportKind.EVENTS: __("events"),
    ExportKind.CONVERSIONS: __("conversions"),
    ExportKind.ATTRIBUTION: __("attribution (conversions after taking part)"),
}


def stage_name(stage: Stage) -> str:
    return str(STAGE_NAMES[stage])


def segment_name(segment: Segment) -> str:
    return str(SEGMENT_NAMES[segment])


def selection_name(selection: Selection) -> str:
    """ "Stage: Declining", "Segment: At risk", "Tag: vip"."""
    if selection.kind is ListKind.STAGE:
        return _("Stage: {name}").format(name=stage_name(Stage(selection.value)))
    if selection.kind is ListKind.SEGMENT:
        return _("Segment: {name}").format(name=segment_name(Segment(selection.value)))
    return _("Tag: {name}").format(name=quote(selection.value))


def members_count(count: int) -> str:
    return ngettext("{count} member", "{count} members", count).format(count=count)


# -- /segments


def overview(title: str, summary: StandingsSummary) -> str:
    lines = [_("<b>Segments of {title}</b>").format(title=quote(title))]
    if summary.computed_on is None:
        lines.append(
            _(
                "Stages and segments have not been computed yet. Hearth computes them every "
                "night (after 03:00 in the community's time zone): look again tomorrow."
            )
        )
        return "\n".join(lines)
    lines += [
        computed_on(summary.computed_on),
        "",
        _("<b>Lifecycle stages</b>"),
        *(f"{stage_name(stage)}: {summary.stages.get(stage, 0)}" for stage in Stage),
        "",
        _("<b>RFM segments</b> (current members)"),
        *(f"{segment_name(segment)}: {summary.segments.get(segment, 0)}" for segment in Segment),
        "",
        _("{mark} High value (top {percent}% by value): {count}").format(
            mark=HIGH_VALUE, percent=HIGH_VALUE_PERCENT, count=summary.high_value
        ),
        "",
        _("Press a button to list the members."),
    ]
    return "\n".join(lines)


def computed_on(day: date) -> str:
    return _("Computed on {day}; recomputed every night.").format(day=day.isoformat())


def member_page(result: MemberPage) -> str:
    lines = [
        _("<b>{title}</b> — {selection}: {members}").format(
            title=quote(result.community.title),
            selection=selection_name(result.selection),
            members=members_count(result.total),
        )
    ]
    if not result.members:
        lines.append(_("Nobody is in this list now."))
        return "\n".join(lines)
    lines += [
        f"{position}. {member_line(member, result.today)}"
        for position, member in enumerate(result.members, start=result.first_position)
    ]
    computed = next(
        (member.standing.computed_on for member in result.members if member.standing), None
    )
    footer = [
        _("Page {page} of {pages}").format(page=result.page + 1, pages=result.pages),
        _("{mark} high value").format(mark=HIGH_VALUE),
    ]
    if computed is not None:
        footer.append(_("as of {day}").format(day=computed.isoformat()))
    lines += ["", " · ".join(footer)]
    return "\n".join(lines)


def short_name(name: str) -> str:
    """A member's name as a list shows it (``listed_name``), escaped."""
    return quote(listed_name(name))


def more(count: int) -> str:
    return ngettext("… and {count} more", "… and {count} more", count).format(count=count)


def member_line(member: MemberRecord, today: date) -> str:
    """ "Alice Lee @alice — Gold · active 3 days ago ⭐"."""
    who = short_name(member.name or str(member.member_id))
    if member.handle:
        who += f" {quote(member.handle)}"
    details = [str(TIER_NAMES.get(member.tier, member.tier)), idle(member.idle_days(today))]
    if member.left_at is not None:
        details.append(_("left"))
    line = f"{who} — {' · '.join(details)}"
    if member.standing is not None and member.standing.high_value:
        line += f" {HIGH_VALUE}"
    return line


def idle(days: int | None) -> str:
    if days is None:
        return _("never active")
    if days == 0:
        return _("active today")
    return ngettext("active {days} day ago", "active {days} days ago", days).format(days=days)


def export_button() -> str:
    return _("⬇ CSV file")


def back_button(kind: ListKind) -> str:
    return _("« Tags") if kind is ListKind.TAG else _("« Segments")


def list_caption(title: str, selection: Selection, rows: int) -> str:
    return _("{title} — {selection}: {members}").format(
        title=quote(title), selection=selection_name(selection), members=members_count(rows)
    )


def tagged_usage() -> str:
    return _("Usage: /tagged tag — the members with that tag")


# -- /tags, /tag, /untag


def tags_overview(title: str, counts: TagCounts) -> str:
    lines = [_("<b>Tags in {title}</b>").format(title=quote(title))]
    if not counts.operator and not counts.automatic:
        lines.append(_("No tags yet."))
    if counts.operator:
        lines += ["", _("<b>Operator tags</b>"), *_tag_counts(counts.operator)]
    if counts.automatic:
        lines += ["", _("<b>Automatic tags</b> (recomputed every night)")]
        lines += _tag_counts(counts.automatic)
    lines += [
        "",
        _(
            "Tag a member with /tag @username tag (or reply to their message with /tag tag), "
            "untag with /untag, list with /tagged tag or the buttons."
        ),
    ]
    return "\n".join(lines)


def _tag_counts(counts: dict[str, int]) -> list[str]:
    """ "vip: 12" for the ``LISTED_TAGS`` most used tags, then how many more there are."""
    lines = [f"{quote(name)}: {count}" for name, count in list(counts.items())[:LISTED_TAGS]]
    if len(counts) > LISTED_TAGS:
        lines.append(more(len(counts) - LISTED_TAGS))
    return lines


def tag_usage(command: str) -> str:
    return _(
        "Usage: /{command} @username|id tag [more tags], or reply to the member's message "
        "with /{command} tag"
    ).format(command=command)


def bad_tag(word: str) -> str:
    return _("“{word}” cannot be a tag: use letters or digits, e.g. vip, track-day, 车主.").format(
        word=quote(word)
    )


def too_many_tags() -> str:
    return _("At most {count} tags at once.").format(count=MAX_TAGS_AT_ONCE)


def listed(tags: Sequence[str]) -> str:
    """ "vip, track-day": the first ``SHOWN_TAGS`` tags, then how many more there are."""
    if not tags:
        return _("none")
    shown = ", ".join(quote(tag) for tag in tags[:SHOWN_TAGS])
    return shown if len(tags) <= SHOWN_TAGS else f"{shown} {more(len(tags) - SHOWN_TAGS)}"


def tagged(name: str, added: list[str], tags: list[str] | None) -> str:
    """What /tag did; with the member's tags now unless ``tags`` is None (in the group,
    where the operator's other tags on the member are nobody else's business)."""
    if tags is None:
        if not added:
            return _("{name} already has these tags.").format(name=quote(name))
        return _("Tagged {name}: {added}.").format(name=quote(name), added=listed(added))
    if not added:
        return _("{name} already has these tags. Their tags: {tags}.").format(
            name=quote(name), tags=listed(tags)
        )
    return _("Tagged {name}: {added}. Their tags: {tags}.").format(
        name=quote(name), added=listed(added), tags=listed(tags)
    )


def untagged(name: str, removed: list[str], tags: list[str] | None) -> str:
    """What /untag did; with the member's tags now unless ``tags`` is None (as ``tagged``)."""
    if tags is None:
        if not removed:
            return _("{name} has none of these tags.").format(name=quote(name))
        return _("Removed {removed} from {name}.").format(name=quote(name), removed=listed(removed))
    if not removed:
        return _("{name} has none of these tags. Their tags: {tags}.").format(
            name=quote(name), tags=listed(tags)
        )
    return _("Removed {removed} from {name}. Their tags: {tags}.").format(
        name=quote(name), removed=listed(removed), tags=listed(tags)
    )


# -- /export


def export_usage() -> str:
    return _(
        "Usage: /export members|activity|points|events|conversions|attribution [csv|xlsx]; "
        "add “phones” to a members or conversions export for the numbers members shared"
    )


def export_with_phones() -> str:
    return _("⚠️ It holds the phone numbers members shared: keep it safe, delete it after use.")


def export_caption(title: str, what: ExportKind, rows: int) -> str:
    return ngettext(
        "{title}: {what}, {rows} row (times in UTC).",
        "{title}: {what}, {rows} rows (times in UTC).",
        rows,
    ).format(title=quote(title), what=EXPORT_NAMES[what], rows=rows)


def export_too_large(megabytes: int, community_id: int, what: ExportKind) -> str:
    return _(
        "The file would be larger than the {size} MB Telegram lets me send. Export it on "
        "the server: <code>hearth export --community {community} --what {what}</code>"
    ).format(size=megabytes, community=community_id, what=what.value)


# -- answers sent in private


def sent_in_private() -> str:
    return _("I sent it to you in private.")


def start_me_first(command: str) -> str:
    return _(
        "Open a private chat with me first (button below), then send /{command} again."
    ).format(command=command)
