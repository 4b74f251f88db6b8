"""What the events feature writes on its own initiative, rendered and queued in the outbox.

The group card's counts change with every RSVP, but a group takes only about 20 bot
messages a minute (edits included): all changes within one window of ``CARD_EDIT_SECONDS``
refresh a single queued edit, which the delivery worker sends when the window closes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiogram.types import InlineKeyboardMarkup

from hearth.bot.notifier import OutboxWriter, edit
from hearth.domain.events import Event, RsvpCounts
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import events_texts
from hearth.handlers.events_callbacks import rating_buttons, rsvp_buttons
from hearth.services.ports import UnitOfWork

CARD_EDIT_SECONDS = 30  # at most two edits of one card a minute, however many answers


def card_edit_key(
    event_id: int, now: datetime, window: int = CARD_EDIT_SECONDS
) -> tuple[str, datetime]:
    """The dedupe key of the card edit that collects changes made at ``now``, and when the
    edit goes out (the end of its window)."""
    bucket = int(now.timestamp()) // window
    return f"event-card:{event_id}:{bucket}", datetime.fromtimestamp((bucket + 1) * window, UTC)


class OutboxEventNotices:
    """Queues the events' messages in each reader's language (the group's for the card)."""

    def __init__(self, outbox: OutboxWriter, card_edit_seconds: int = CARD_EDIT_SECONDS) -> None:
        self.outbox = outbox
        self.card_edit_seconds = card_edit_seconds

    async def card_changed(
        self, uow: UnitOfWork, event: Event, community: CommunityProfile, counts: RsvpCounts
    ) -> None:
        if event.card_message_id is None:
            return  # not posted (yet): nothing to edit
        key, send_at = card_edit_key(event.id, self.outbox.clock.now(), self.card_edit_seconds)
        with self.outbox.speaking_to(None, community):
            text = events_texts.card(event, community, counts)
            markup = None if event.cancelled else rsvp_buttons(event.id)
        await self.outbox.replace(
            uow,
            edit(
                key,
                community.id,
                event.card_message_id,
                text,
                kind="event_card",
                markup=markup,
                community_id=community.id,
                not_before=send_at,
            ),
        )

    async def moved_up(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
    ) -> bool:
        return await self._tell(
            uow,
            key,
            member,
            community,
            lambda: events_texts.moved_up(event, community),
            kind="event_moved_up",
        )

    async def cancelled(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
    ) -> bool:
        return await self._tell(
            uow,
            key,
            member,
            community,
            lambda: events_texts.cancelled_notice(event, community),
            kind="event_cancelled",
        )

    async def reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
        hours: int,
    ) -> bool:
        return await self._tell(
            uow,
            key,
            member,
            community,
            lambda: events_texts.reminder(event, community, hours, self.outbox.clock.now()),
            kind="event_reminder",
        )

    async def feedback_request(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
    ) -> bool:
        return await self._tell(
            uow,
            key,
            member,
            community,
            lambda: events_texts.feedback_request(event, community),
            kind="event_feedback",
            markup=rating_buttons(event.id),
        )

    async def _tell(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        render: Callable[[], str],
        *,
        kind: str,
        markup: InlineKeyboardMarkup | None = None,
    ) -> bool:
        """Queue a private message to ``member``, rendered in their language."""
        with self.outbox.speaking_to(member, community):
            text = render()
        return await self.outbox.to_member(
            uow, key, member, community, text, kind=kind, markup=markup
        )
