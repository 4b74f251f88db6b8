"""Every text of the feedback box, through gettext; what members wrote is HTML-escaped."""

from __future__ import annotations

import math
from datetime import datetime

from aiogram.utils.i18n import gettext as _

from hearth.domain.errors import HearthError
from hearth.domain.feedback import (
    EmptyFeedback,
    FeedbackItem,
    FeedbackSettled,
    FeedbackStatus,
    FeedbackTooLong,
    UnknownFeedback,
)
from hearth.domain.rate_limits import OverLimit
from hearth.handlers.events_texts import moment
from hearth.handlers.texts import quote
from hearth.services.feedback import Inbox

PREVIEW = 300  # characters of an item shown in /inbox


def wait(retry_at: datetime, now: datetime) -> str:
    """How long until ``retry_at``: minutes within two hours, hours beyond."""
    minutes = max(1, math.ceil((retry_at - now).total_seconds() / 60))
    if minutes < 120:
        return _("{minutes} min").format(minutes=minutes)
    return _("{hours} h").format(hours=math.ceil(minutes / 60))


def window(limit: OverLimit) -> str:
    hours = int(limit.limit.window.total_seconds() // 3600)
    if hours == 1:
        return _("an hour")
    if hours == 24:
        return _("a day")
    return _("{hours} hours").format(hours=hours)


# -- members


def prompt() -> str:
    return _(
        "What would you like to tell the team? Write it in one message — a photo with a "
        "caption works too — or send /cancel."
    )


def in_private() -> str:
    return _("Send /feedback to me in private: only the team will read it.")


def sent(title: str) -> str:
    return _(
        "Thank you! Your message went to the team of <b>{title}</b>. Their answer will come here."
    ).format(title=quote(title))


def sent_already(title: str) -> str:
    return _("I have this message already: it is with the team of <b>{title}</b>.").format(
        title=quote(title)
    )


def cancelled() -> str:
    return _("Cancelled: nothing was sent.")


def not_understood() -> str:
    return _("Please send your feedback as a text or a photo, or /cancel.")


def refusal(error: HearthError, now: datetime) -> str:
    """Why feedback, an answer or an operator's action was refused; nothing changed."""
    if isinstance(error, OverLimit):
        return _(
            "You have sent {count} messages to the team within {window}. To keep their inbox "
            "readable, please wait {wait} before sending another."
        ).format(count=error.limit.count, window=window(error), wait=wait(error.retry_at, now))
    if isinstance(error, EmptyFeedback):
        return _("Please write a few words or send a photo.")
    if isinstance(error, FeedbackTooLong):
        return _("That is too long: at most {limit} characters, please.").format(limit=error.limit)
    if isinstance(error, UnknownFeedback):
        return _("There is no feedback #{number} in your communities.").format(number=error.item_id)
    if isinstance(error, FeedbackSettled):
        if error.status is FeedbackStatus.ANSWERED:
            return _("This feedback was answered already.")
        return _("This feedback was closed already.")
    return _("Sorry, something went wrong on my side. Please try again in a moment.")


def answer_for_member(title: str, reply: str) -> str:
    return "\n".join(
        [
            _("💬 The operators of <b>{title}</b> answered your feedback:").format(
                title=quote(title)
            ),
            "",
            quote(reply),
        ]
    )


# -- operators


def inbox_in_private(command: str) -> str:
    return _("Send /{command} to me in private: members' feedback is for the team only.").format(
        command=command
    )


def waiting(title: str, count: int) -> str:
    return _(
        "📬 Feedback is waiting in <b>{title}</b>: {count} open. Send /inbox to read and answer it."
    ).format(title=quote(title), count=count)


def inbox(page: Inbox) -> str:
    title = quote(page.community.title)
    if not page.lines:
        return _("📬 The inbox of <b>{title}</b> is empty: no open feedback.").format(title=title)
    lines = [
        _("📬 <b>Inbox of {title}</b> — {count} open, page {page} of {pages}").format(
            title=title, count=page.total, page=page.page + 1, pages=page.pages
        )
    ]
    timezone = page.community.timezone
    for line in page.lines:
        item = line.item
        lines += [
            "",
            _("<b>#{number}</b> · {name} · {when}").format(
                number=item.id,
                name=quote(line.member_name),
                when=moment(item.created_at, timezone),
            ),
        ]
        if item.photo is not None:
            lines.append(_("📷 with a photo"))
        if item.text is not None:
            shown = item.text if len(item.text) <= PREVIEW else item.text[: PREVIEW - 1] + "…"
            lines.append(quote(shown))
    return "\n".join(lines)


def photo_caption(item: FeedbackItem) -> str:
    caption = _("Feedback #{number}").format(number=item.id)
    if item.text:
        caption += "\n" + quote(item.text[:900])
    return caption


def reply_prompt(item: FeedbackItem) -> str:
    return _(
        "Write your answer to #{number} in one message; I will pass it on. Or send /cancel."
    ).format(number=item.id)


def reply_usage() -> str:
    return _("Usage: /reply NUMBER your answer")


def replied(item: FeedbackItem) -> str:
    return _("Sent: the member will get your answer to #{number}.").format(number=item.id)


def closed(item: FeedbackItem) -> str:
    return _("#{number} is closed.").format(number=item.id)


def reply_cancelled() -> str:
    return _("Cancelled: no answer was sent.")
