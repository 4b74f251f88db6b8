"""Erasing a member's personal data (``/forget_me``, ``/forget``). Never commits.

Each statement touches one member's rows and answers how many it changed. What is erased
and what is kept is the service's decision (``services/privacy.py``); the ledger, the
activity rows, attendance and quiz answers are never touched here.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlmodel import col

from hearth.domain.delivery import OutboxStatus
from hearth.domain.profile import SEPARATOR
from hearth.storage import tables
from hearth.storage.engagement import MembershipStageRow
from hearth.storage.events import FeedbackRow
from hearth.storage.exit_survey import ExitSurveyRow
from hearth.storage.feedback_box import FeedbackItemRow
from hearth.storage.greetings import GreetingOptIn, MemberBirthday
from hearth.storage.honour import HonourReportRow
from hearth.storage.nudges import NudgePreferenceRow, NudgeRow
from hearth.storage.outbox import OutboxRow
from hearth.storage.repositories import _Repository
from hearth.storage.tags import MemberTagRow

# Outbox rows whose delivery is over: their text is history and can go.
_SETTLED = sorted(
    status.value
    for status in (
        OutboxStatus.SENT,
        OutboxStatus.FAILED,
        OutboxStatus.BLOCKED,
        OutboxStatus.INTERRUPTED,
        OutboxStatus.EXPIRED,
    )
)
_BLANK_PAYLOAD = "{}"


class SqlPrivacyRepository(_Repository):
    """The SQL of one member's erasure, one statement per kind of personal data."""

    async def anonymise(self, member_id: int, *, name: str, now: datetime) -> int:
        """Replace the member's names by ``name``; username and Telegram language go."""
        return await self._count(
            update(tables.Member)
            .where(col(tables.Member.id) == member_id)
            .values(
                first_name=name[:255],
                last_name=None,
                username=None,
                language_code=None,
                forgotten_at=now,
                updated_at=now,
            )
        )

    async def delete_birthday(self, member_id: int) -> int:
        return await self._count(
            delete(MemberBirthday).where(col(MemberBirthday.member_id) == member_id)
        )

    async def delete_greeting_opt_ins(self, member_id: int) -> int:
        """Every community's opt-in to anniversary and birthday greetings."""
        return await self._count(
            delete(GreetingOptIn).where(col(GreetingOptIn.member_id) == member_id)
        )

    async def delete_profile_answers(self, member_id: int) -> int:
        """The member's answers to the profile questionnaire, in every community: their
        tags with a question's key (``city:shanghai``; an operator's tag has no colon)."""
        return await self._count(
            delete(MemberTagRow).where(
                col(MemberTagRow.member_id) == member_id,
                col(MemberTagRow.tag).contains(SEPARATOR, autoescape=True),
            )
        )

    async def delete_operator_tags(self, member_id: int) -> int:
        """The operators' tags on the member, in every community."""
        return await self._count(
            delete(MemberTagRow).where(col(MemberTagRow.member_id) == member_id)
        )

    async def clear_automatic_tags(self, member_id: int) -> int:
        """Empty the automatic tags stored with each of the member's standings."""
        return await self._count(
            update(MembershipStageRow)
            .where(col(MembershipStageRow.member_id) == member_id)
            .values(tags=[])
        )

    async def clear_feedback_comments(self, member_id: int) -> int:
        """Blank the free-text comments of the member's event feedback (ratings stay)."""
        return await self._count(
            update(FeedbackRow)
            .where(col(FeedbackRow.member_id) == member_id, col(FeedbackRow.comment).is_not(None))
            .values(comment=None)
        )

    async def blank_delivered_messages(self, member_id: int) -> int:
        """Blank the payload (text, caption, buttons) of the private messages to the member
        whose delivery is over; queued and sending ones are left to be delivered."""
        return await self._count(
            update(OutboxRow)
            .where(
                or_(col(OutboxRow.member_id) == member_id, col(OutboxRow.chat_id) == member_id),
                col(OutboxRow.status).in_(_SETTLED),
                col(OutboxRow.payload) != _BLANK_PAYLOAD,
            )
            .values(payload=_BLANK_PAYLOAD)
            .execution_options(synchronize_session=False)
        )

    async def delete_nudge_preference(self, member_id: int) -> int:
        """The member's nudge choice: on or off, and their quiet hours."""
        return await self._count(
            delete(NudgePreferenceRow).where(col(NudgePreferenceRow.member_id) == member_id)
        )

    async def delete_nudges(self, member_id: int) -> int:
        """Every nudge decision about the member (planned, sent, held out, skipped)."""
        return await self._count(delete(NudgeRow).where(col(NudgeRow.member_id) == member_id))

    async def delete_feedback_items(self, member_id: int) -> int:
        """What the member told the team (/feedback), with the operators' answers."""
        return await self._count(
            delete(FeedbackItemRow).where(col(FeedbackItemRow.member_id) == member_id)
        )

    async def clear_exit_answers(self, member_id: int) -> int:
        """Blank the exit survey answers; the rows stay so that nobody is asked twice."""
        return await self._count(
            update(ExitSurveyRow)
            .where(
                col(ExitSurveyRow.member_id) == member_id,
                or_(
                    col(ExitSurveyRow.reason).is_not(None),
                    col(ExitSurveyRow.comment).is_not(None),
                ),
            )
            .values(reason=None, comment=None, answered_at=None)
        )

    async def clear_honour_photos(self, member_id: int) -> int:
        """The photos sent as proof with honour reports (the values stay on the boards)."""
        return await self._count(
            update(HonourReportRow)
            .where(
                col(HonourReportRow.member_id) == member_id,
                col(HonourReportRow.photo).is_not(None),
            )
            .values(photo=None)
        )

    async def names(self, member_id: int) -> list[str]:
        """The member's first name and username as stored (what other messages name them by)."""
        row = (
            await self.session.execute(
                select(col(tables.Member.first_name), col(tables.Member.username)).where(
                    col(tables.Member.id) == member_id
                )
            )
        ).one_or_none()
        return [] if row is None else [str(name) for name in row if name]

    async def blank_delivered_mentions(self, member_id: int, names: Collection[str]) -> int:
        """Blank the payload of settled messages of the member's communities (a quiz round's
        results in the group, a digest to operators) whose text holds one of ``names``.

        A plain substring match: a message naming someone else with the same name is blanked
        too, which loses nothing — a delivered payload is history, never read again.
        """
        if not names:
            return 0
        communities = select(col(tables.Membership.community_id)).where(
            col(tables.Membership.member_id) == member_id
        )
        payload = col(OutboxRow.payload)
        return await self._count(
            update(OutboxRow)
            .where(
                col(OutboxRow.community_id).in_(communities),
                col(OutboxRow.status).in_(_SETTLED),
                or_(*(payload.contains(name, autoescape=True) for name in names)),
            )
            .values(payload=_BLANK_PAYLOAD)
            .execution_options(synchronize_session=False)
        )

    async def _count(self, statement: Any) -> int:
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0) or 0)
