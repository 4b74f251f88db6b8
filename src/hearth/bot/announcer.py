"""Announcements and greetings into the outbox: the delivery worker sends them.

An announcement goes to the group exactly as the operator wrote it (their formatting kept
as Telegram HTML) and, for members who asked for it, the same in private with a one-tap
button, in the member's language, to stop such messages. Greetings are rendered in each
member's language. Everything is queued in the caller's transaction under a dedupe key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from hearth.bot.notifier import OutboxWriter, message
from hearth.domain.announcements import Announcement, run_key
from hearth.domain.delivery import Priority
from hearth.domain.greetings import Greeting
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import announcements_texts
from hearth.handlers.announcements_keyboards import stop_button
from hearth.services.ports import UnitOfWork


class OutboxAnnouncer:
    """Queues an announcement's run: one group message and the private copies."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def announce(
        self,
        uow: UnitOfWork,
        announcement: Announcement,
        community: CommunityProfile,
        scheduled_for: datetime,
        recipients: Sequence[MemberProfile],
    ) -> int:
        queued = 0
        queued += await self.outbox.queue(
            uow,
            message(
                run_key(announcement.id, scheduled_for, community.id),
                community.id,
                announcement.html,
                kind="announcement",
                photo=announcement.photo,
                priority=Priority.BROADCAST,
                community_id=community.id,
            ),
        )
        for member in recipients:
            with self.outbox.speaking_to(member, community):
                markup = stop_button(community)
            queued += await self.outbox.to_member(
                uow,
                run_key(announcement.id, scheduled_for, member.id),
                member,
                community,
                announcement.html,
                kind="announcement",
                markup=markup,
                photo=announcement.photo,
                priority=Priority.BROADCAST,
            )
        return queued


class OutboxGreeter:
    """Queues anniversary and birthday greetings in the member's language."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def greet(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        greeting: Greeting,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = announcements_texts.greeting(
                greeting, name=member.first_name, title=community.title
            )
        return await self.outbox.to_member(uow, key, member, community, text, kind="greeting")
