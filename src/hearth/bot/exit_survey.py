"""The exit survey's question, rendered in the member's language and queued in the outbox."""

from __future__ import annotations

from datetime import timedelta

from hearth.bot.notifier import OutboxWriter
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import exit_survey_texts
from hearth.services.ports import UnitOfWork

ASK_WITHIN = timedelta(days=2)  # a question that could not go out by then is not worth asking


class OutboxExitSurvey:
    """Queues the question to a member who left."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def ask(
        self, uow: UnitOfWork, key: str, member: MemberProfile, community: CommunityProfile
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = exit_survey_texts.question(community.title)
            markup = exit_survey_texts.reason_buttons(community.id)
        return await self.outbox.to_member(
            uow,
            key,
            member,
            community,
            text,
            kind="exit_survey",
            markup=markup,
            not_after=self.outbox.clock.now() + ASK_WITHIN,
        )
