"""Texts of /outbox: what the delivery engine has sent and has still to send."""

from __future__ import annotations

from datetime import datetime

from aiogram.utils.i18n import gettext as _

from hearth.domain.delivery import OutboxCounts, OutboxStatus
from hearth.handlers.texts import quote


def outbox_report(title: str, counts: OutboxCounts, now: datetime) -> str:
    lines = [_("<b>Outbox of {title}</b>").format(title=quote(title))]
    if not counts.total:
        lines.append(_("Nothing sent on the bot's own initiative yet."))
        return "\n".join(lines)
    lines += [
        _("Waiting to be sent: {count}").format(count=counts[OutboxStatus.QUEUED]),
        _("Being sent right now: {count}").format(count=counts[OutboxStatus.SENDING]),
        _("Sent: {count}").format(count=counts[OutboxStatus.SENT]),
        _("Failed: {count}").format(count=counts[OutboxStatus.FAILED]),
        _("Not delivered, member blocked the bot: {count}").format(
            count=counts[OutboxStatus.BLOCKED]
        ),
    ]
    if counts[OutboxStatus.INTERRUPTED]:
        lines.append(
            _("Interrupted by a restart, not repeated: {count}").format(
                count=counts[OutboxStatus.INTERRUPTED]
            )
        )
    if counts[OutboxStatus.EXPIRED]:
        lines.append(
            _("Too late to send, dropped unsent: {count}").format(
                count=counts[OutboxStatus.EXPIRED]
            )
        )
    if counts.oldest_queued is not None:
        minutes = max(int((now - counts.oldest_queued).total_seconds() // 60), 0)
        lines.append(
            _("The oldest waiting message was queued {minutes} min ago.").format(minutes=minutes)
        )
    if counts.recent_errors:
        lines += ["", _("Most common problems:")]
        lines += [
            f"• {quote(kind)}: {quote(error or '?')} × {count}"
            for kind, error, count in counts.recent_errors
        ]
    return "\n".join(lines)
