"""What maintenance reminders write on their own initiative, rendered and queued in the
outbox: the member's reminder (with its buttons) and the operators' note that service
requests wait, which collects every request of a few minutes into one message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from hearth.bot.notifier import OutboxWriter
from hearth.domain.cars import ServiceDue, can_snooze
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import cars_texts
from hearth.handlers.cars_callbacks import reminder_buttons
from hearth.services.cars import CarView
from hearth.services.ports import UnitOfWork

NOTE_SECONDS = 300  # at most one "service requests are waiting" note per operator and 5 min
REMINDER_KIND = "service_reminder"


class OutboxServiceNotices:
    """Queues maintenance reminders and operators' notes in each reader's language."""

    def __init__(
        self,
        outbox: OutboxWriter,
        operators: Callable[[CommunityProfile], Awaitable[list[int]]],
        note_seconds: int = NOTE_SECONDS,
    ) -> None:
        self.outbox = outbox
        self._operators = operators
        self.note_seconds = note_seconds

    async def operators(self, community: CommunityProfile) -> list[int]:
        return await self._operators(community)

    async def service_due(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        car: CarView,
        due: ServiceDue,
        *,
        not_before: datetime,
        not_after: datetime,
    ) -> bool:
        community = car.community
        with self.outbox.speaking_to(member, community):
            text = cars_texts.reminder(car, due)
            markup = reminder_buttons(
                community.id,
                member.id,
                due.on,
                car.settings,
                snoozes_left=can_snooze(car.profile),
            )
        return await self.outbox.to_member(
            uow,
            key,
            member,
            community,
            text,
            kind=REMINDER_KIND,
            markup=markup,
            not_before=not_before,
            not_after=not_after,
        )

    async def requests_waiting(
        self, uow: UnitOfWork, community: CommunityProfile, operator: MemberProfile, waiting: int
    ) -> None:
        await self.outbox.operator_note(
            uow,
            community,
            operator,
            lambda: cars_texts.requests_waiting(community.title, waiting),
            kind="service_note",
            window=self.note_seconds,
        )
