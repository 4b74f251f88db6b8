"""Every text of the channels (dealers, stores, partners), through gettext; names are
HTML-escaped. The figures read the same in /channel, /stats channels, the digest and the
contact person's /my_channel."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from hearth.domain.channels import (
    MAX_DAYS,
    NAME_LIMIT,
    Channel,
    ChannelExists,
    InvalidChannelName,
    NotAChannelContact,
    UnknownChannel,
    UnknownContact,
)
from hearth.domain.errors import HearthError
from hearth.handlers.texts import HELP_MESSAGE_LIMIT, quote, something_went_wrong
from hearth.services.channels import ChannelCard, ChannelFigures, ChannelReport, ContactView

DIGEST_CHANNELS = 10  # channels named in the digest; the rest are counted

# -- the member who opened a channel's link


def welcome_through(channel: str, community: str) -> str:
    return _(
        "Welcome to <b>{title}</b>! You came to us through <b>{channel}</b> — we are glad "
        "you are here. Join the group and say hello."
    ).format(title=quote(community), channel=quote(channel))


def brought_by(channel: str) -> str:
    """/mydata: the channel the member came through."""
    return _("You came through: {channel}").format(channel=quote(channel))


# -- operators: usage and refusals


def new_usage() -> str:
    return _(
        "Usage: /channel_new NAME — e.g. /channel_new Dealer Shanghai Pudong (1 to {limit} "
        "characters, quotes optional)"
    ).format(limit=NAME_LIMIT)


def number_usage(command: str) -> str:
    return _("Usage: /{command} NUMBER (the channel's number in /channels)").format(command=command)


def rename_usage() -> str:
    return _("Usage: /channel_rename NUMBER NEW NAME")


def contact_usage() -> str:
    return _(
        "Usage: /channel_contact NUMBER @username|id (or in reply to their message), or "
        "/channel_contact NUMBER off"
    )


def stats_usage() -> str:
    return _("Usage: /stats channels [days] — 1 to {limit} days, 30 by default").format(
        limit=MAX_DAYS
    )


def my_channel_usage() -> str:
    return _("Usage: /my_channel [days] — 1 to {limit} days, 30 by default").format(limit=MAX_DAYS)


def my_channel_in_private() -> str:
    return _("Your channel's figures are sent in private only: send /my_channel to me there.")


def refusal(error: HearthError) -> str:
    """Why a channel command changed nothing."""
    if isinstance(error, UnknownChannel):
        return _("There is no channel #{number} in your communities. /channels lists them.").format(
            number=error.channel_id
        )
    if isinstance(error, ChannelExists):
        return _(
            "A channel named “{name}” exists already (archived ones count too): choose another "
            "name."
        ).format(name=quote(error.name))
    if isinstance(error, InvalidChannelName):
        return new_usage()
    if isinstance(error, UnknownContact):
        return _(
            "I do not know {reference}: they must write to me in private (or in the group) first."
        ).format(reference=quote(error.reference))
    if isinstance(error, NotAChannelContact):
        return _(
            "/my_channel is for the contact person of a dealer or partner channel, and you are "
            "not one. Ask the community's team if you should be."
        )
    return something_went_wrong()


# -- operators: answers


def created(channel: Channel, community: str, link: str) -> str:
    return "\n".join(
        [
            _("📍 New channel #{number} in <b>{title}</b>: <b>{name}</b>").format(
                number=channel.id, title=quote(community), name=quote(channel.name)
            ),
            _("Its link: {link}").format(link=link),
            _(
                "Whoever opens it (or scans the QR code below) is counted for this channel; "
                "members who join after that are attributed to it."
            ),
        ]
    )


def qr_caption(channel: Channel) -> str:
    return _("QR code of “{name}” (#{number}): print it for the counter.").format(
        name=quote(channel.name), number=channel.id
    )


def renamed(old: str, channel: Channel) -> str:
    return _("Channel #{number} “{old}” is now called “{name}”; its link stays the same.").format(
        number=channel.id, old=quote(old), name=quote(channel.name)
    )


def archived(channel: Channel, changed: bool) -> str:
    if not changed:
        return _("Channel #{number} “{name}” was archived already.").format(
            number=channel.id, name=quote(channel.name)
        )
    return _(
        "Channel #{number} “{name}” is archived: its link records nothing more, its figures stay."
    ).format(number=channel.id, name=quote(channel.name))


def contact_changed(channel: Channel, contact: str | None) -> str:
    if contact is None:
        return _(
            "Channel #{number} “{name}” has no contact person any more: nobody reads its "
            "figures with /my_channel."
        ).format(number=channel.id, name=quote(channel.name))
    return _(
        "{person} is now the contact person of channel #{number} “{name}”: they read this "
        "channel's figures (and only these) with /my_channel in private."
    ).format(person=quote(contact), number=channel.id, name=quote(channel.name))


def listing(report: ChannelReport, links: dict[int, str]) -> list[str]:
    """/channels, as messages: each channel's number, name, members brought and reached,
    and link; archived ones apart."""
    blocks = [
        _("<b>Channels of {title}</b> (reached: the last {days} days)").format(
            title=quote(report.community.title), days=report.days
        )
    ]
    current, gone = _current_and_archived(report)
    if not current and not gone:
        blocks.append(no_channels())
    for figures in current:
        assert figures.channel is not None
        line = _("#{number} <b>{name}</b>: brought {brought}, reached {reached}").format(
            number=figures.channel.id,
            name=quote(figures.channel.name),
            brought=figures.brought,
            reached=figures.reached,
        )
        blocks.append(f"{line}\n{links[figures.channel.id]}")
    if gone:
        lines = [_("<b>Archived</b> (their links record nothing)")]
        lines += [
            _("#{number} {name}: brought {brought}").format(
                number=each.channel.id, name=quote(each.channel.name), brought=each.brought
            )
            for each in gone
            if each.channel is not None
        ]
        blocks.append("\n".join(lines))
    blocks.append(_("A channel's card, QR code and figures: /channel NUMBER"))
    return messages(blocks)


def no_channels() -> str:
    return _("No channels yet. Create one: /channel_new Dealer Shanghai Pudong")


def _current_and_archived(
    report: ChannelReport,
) -> tuple[list[ChannelFigures], list[ChannelFigures]]:
    current = [each for each in report.channels if each.channel and not each.channel.archived]
    gone = [each for each in report.channels if each.channel and each.channel.archived]
    return current, gone


def messages(blocks: list[str]) -> list[str]:
    """Blocks separated by blank lines, as messages that each fit Telegram's limit."""
    found: list[str] = []
    for block in blocks:
        if found and len(found[-1]) + len(block) + 2 <= HELP_MESSAGE_LIMIT:
            found[-1] += "\n\n" + block
        else:
            found.append(block)
    return found


def channel_card(shown: ChannelCard, link: str) -> str:
    channel = shown.channel
    lines = [
        _("📍 <b>{name}</b> (#{number}) in {title}").format(
            name=quote(channel.name), number=channel.id, title=quote(shown.community.title)
        ),
        _("Archived: its link records nothing more.")
        if channel.archived
        else _("Link: {link}").format(link=link),
        _("Contact person: {person}").format(person=quote(shown.contact.first_name))
        if shown.contact is not None
        else _("Contact person: none (/channel_contact {number} @username)").format(
            number=channel.id
        ),
        "",
        period(shown.first.isoformat(), shown.last.isoformat()),
        *figure_lines(shown.figures),
    ]
    return "\n".join(lines)


def period(first: str, last: str) -> str:
    return _("Figures from {first} to {last}:").format(first=first, last=last)


def stats(report: ChannelReport) -> list[str]:
    """/stats channels, as messages: every channel's figures, the members who came direct,
    archived channels apart."""
    blocks = [
        "\n".join(
            [
                _("<b>{title} by channel</b>").format(title=quote(report.community.title)),
                period(report.first.isoformat(), report.last.isoformat()),
            ]
        )
    ]
    current, gone = _current_and_archived(report)
    blocks += [_block(figures) for figures in [*current, report.direct]]
    if gone:
        blocks.append(_("<b>Archived channels</b>"))
        blocks += [_block(figures) for figures in gone]
    if not report.channels:
        blocks.append(no_channels())
    return messages(blocks)


def _block(figures: ChannelFigures) -> str:
    return "\n".join([f"<b>{row_name(figures)}</b>", *figure_lines(figures)])


def row_name(figures: ChannelFigures) -> str:
    if figures.channel is None:
        return _("Direct (no channel)")
    return f"#{figures.channel.id} {quote(figures.channel.name)}"


def figure_lines(figures: ChannelFigures) -> list[str]:
    """One line per figure (see ``ChannelFigures``)."""
    lines = [
        _("Members brought (in the group now): {count}").format(count=figures.brought),
        _("Joined in the period: {count}").format(count=figures.joined),
        _("Activation (active on 3 days of their first week): {share}").format(
            share=share(figures.activated, figures.activation_judged)
        ),
        _("Retention (joined 30–90 days ago, active in the last 30 days): {share}").format(
            share=share(figures.retained, figures.retention_base)
        ),
        ngettext(
            "Event check-ins: {attendances} by {attendees} member",
            "Event check-ins: {attendances} by {attendees} members",
            figures.attendees,
        ).format(attendances=figures.attendances, attendees=figures.attendees),
        _("Conversions: {conversions}").format(conversions=conversions(figures)),
    ]
    if figures.channel is not None:
        lines.append(_("Reached (opened the link): {count}").format(count=figures.reached))
    return lines


def share(part: int, whole: int) -> str:
    """ "2 of 3 (67%)", or "—" when there is nobody to measure."""
    if not whole:
        return "—"
    return _("{part} of {whole} ({percent})").format(
        part=part, whole=whole, percent=f"{part / whole:.0%}"
    )


def conversions(figures: ChannelFigures) -> str:
    if not figures.conversions:
        return _("none")
    return "; ".join(
        _("{kind} {count} ({amount})").format(
            kind=kind_name(kind), count=count, amount=money(amount)
        )
        for kind, (count, amount) in figures.conversions.items()
    )


def kind_name(kind: str) -> str:
    names = {
        "service": _("service visits"),
        "purchase": _("purchases"),
        "trade_in": _("trade-ins"),
    }
    return names.get(kind, quote(kind))


def money(amount_minor: int) -> str:
    """An amount in the minor unit as 1,234.50."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def digest_section(report: ChannelReport) -> list[str]:
    """The digest's short "By channel" section, after a blank line: per channel in use
    (the first ``DIGEST_CHANNELS``), members brought and how many joined, members reached,
    check-ins and conversions; then the members who came direct."""
    current, _gone = _current_and_archived(report)
    lines = ["", _("<b>By channel</b> (brought: in the group now, +joined this week)")]
    for figures in current[:DIGEST_CHANNELS]:
        lines.append(
            _(
                "{name}: brought {brought} (+{joined}), reached {reached}, check-ins "
                "{attendances}, conversions {conversions}"
            ).format(
                name=row_name(figures),
                brought=figures.brought,
                joined=figures.joined,
                reached=figures.reached,
                attendances=figures.attendances,
                conversions=_conversion_count(figures),
            )
        )
    if len(current) > DIGEST_CHANNELS:
        lines.append(
            _("… and {count} more: /stats channels 7").format(count=len(current) - DIGEST_CHANNELS)
        )
    direct = report.direct
    lines.append(
        _(
            "Direct (no channel): brought {brought} (+{joined}), check-ins {attendances}, "
            "conversions {conversions}"
        ).format(
            brought=direct.brought,
            joined=direct.joined,
            attendances=direct.attendances,
            conversions=_conversion_count(direct),
        )
    )
    return lines


def _conversion_count(figures: ChannelFigures) -> int:
    return sum(count for count, _amount in figures.conversions.values())


# -- the contact person


def my_channel(views: list[ContactView]) -> list[str]:
    """/my_channel, as messages: the figures of the contact person's own channels, nothing
    else."""
    blocks = []
    for view in views:
        channel = view.figures.channel
        assert channel is not None
        blocks.append(
            "\n".join(
                [
                    _("📍 <b>{name}</b> in {title}").format(
                        name=quote(channel.name), title=quote(view.community_title)
                    ),
                    period(view.first.isoformat(), view.last.isoformat()),
                    *figure_lines(view.figures),
                ]
            )
        )
    note = _("Totals only: no member is named. Another period: /my_channel 90")
    return messages([*blocks, note])
