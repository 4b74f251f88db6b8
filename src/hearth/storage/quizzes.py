"""The quiz tables and repository: question bank, rounds, the polls they posted, answers.

A member's answer to a poll is one row, unique per (poll, member): a replayed
``poll_answer`` changes nothing, a retracted vote clears the chosen option, and the points
of a round are credited from the answers standing when each poll closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    UniqueConstraint,
    cast,
    func,
    select,
    update,
)
from sqlmodel import Field, SQLModel, col

from hearth.domain.quizzes import (
    AnswerLine,
    Difficulty,
    Question,
    QuizPoll,
    QuizRound,
    QuizSchedule,
    RoundStatus,
    StoredAnswer,
)
from hearth.storage.repositories import _Repository, insert_ignoring_duplicates
from hearth.storage.tables import _utc
from hearth.storage.types import BigId


class QuestionRow(SQLModel, table=True):
    """A question of a community's bank; the fingerprint keeps out duplicates."""

    __tablename__ = "question"
    __table_args__ = (
        UniqueConstraint("community_id", "fingerprint", name="uq_question_fingerprint"),
        Index("ix_question_community_topic", "community_id", "topic"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    text: str = Field(max_length=300)
    options: list[str] = Field(sa_column=Column(JSON, nullable=False))
    correct: int
    explanation: str = Field(default="", max_length=200)
    topic: str = Field(max_length=32)
    difficulty: int = Difficulty.MEDIUM.value
    fingerprint: str = Field(max_length=300)
    active: bool = True
    created_at: datetime = _utc()
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))


class QuizRoundRow(SQLModel, table=True):
    """A round of quiz polls in the group; ``schedule_key`` makes a scheduled run unique."""

    __tablename__ = "quiz_round"
    __table_args__ = (Index("ix_quiz_round_community_status", "community_id", "status"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    topic: str | None = Field(default=None, max_length=32)
    question_ids: list[int] = Field(sa_column=Column(JSON, nullable=False))
    open_seconds: int
    status: str = Field(default="running", max_length=16)  # running | finished | cancelled
    next_position: int = 0  # the next question to post
    started_at: datetime = _utc()
    finished_at: datetime | None = _utc(default=None, nullable=True)
    started_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    schedule_key: str | None = Field(default=None, max_length=100, unique=True)


class QuizPollRow(SQLModel, table=True):
    """A quiz poll the bot posted; answers to polls not found here are not ours."""

    __tablename__ = "quiz_poll"

    poll_id: str = Field(primary_key=True, max_length=64)
    round_id: int | None = Field(
        default=None,
        sa_column=Column(
            BigInteger, ForeignKey("quiz_round.id", ondelete="CASCADE"), nullable=True
        ),
    )
    community_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    question_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    position: int
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    posted_at: datetime = _utc()
    closes_at: datetime = _utc()


class QuizAnswerRow(SQLModel, table=True):
    """A member's standing answer to one poll (``option`` None once the vote was retracted)."""

    __tablename__ = "quiz_answer"
    __table_args__ = (
        UniqueConstraint("poll_id", "member_id", name="uq_quiz_answer_poll_member"),
        Index("ix_quiz_answer_round", "round_id"),
        Index("ix_quiz_answer_member", "community_id", "member_id"),
    )

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    poll_id: str = Field(max_length=64)
    round_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    community_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    member_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    question_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    topic: str = Field(max_length=32)
    position: int = 0
    option: int | None = None
    correct: bool = False
    points: int = 0
    answered_at: datetime = _utc()
    practice: bool = False


class QuizScheduleRow(SQLModel, table=True):
    """A recurring round: when (in community time), which topic, how many questions."""

    __tablename__ = "quiz_schedule"
    __table_args__ = (Index("ix_quiz_schedule_community", "community_id", "deleted_at"),)

    id: int | None = Field(default=None, sa_column=Column(BigId, primary_key=True))
    community_id: int = Field(
        sa_column=Column(BigInteger, ForeignKey("community.id", ondelete="CASCADE"), nullable=False)
    )
    schedule: str = Field(max_length=64)  # the canonical spec, in community time
    topic: str | None = Field(default=None, max_length=32)
    questions: int
    created_by: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _utc()
    handled_until: datetime = _utc()  # instants up to here were run or skipped
    deleted_at: datetime | None = _utc(default=None, nullable=True)


def _question(row: QuestionRow) -> tuple[int, Question]:
    assert row.id is not None
    return row.id, Question(
        text=row.text,
        options=tuple(row.options),
        correct=row.correct,
        explanation=row.explanation,
        topic=row.topic,
        difficulty=Difficulty(row.difficulty),
    )


def _round(row: QuizRoundRow) -> QuizRound:
    assert row.id is not None
    return QuizRound(
        id=row.id,
        community_id=row.community_id,
        topic=row.topic,
        question_ids=tuple(row.question_ids),
        open_seconds=row.open_seconds,
        status=RoundStatus(row.status),
        next_position=row.next_position,
        started_at=row.started_at,
    )


def _poll(row: QuizPollRow) -> QuizPoll:
    return QuizPoll(
        poll_id=row.poll_id,
        round_id=row.round_id,
        community_id=row.community_id,
        question_id=row.question_id,
        position=row.position,
        chat_id=row.chat_id,
        posted_at=row.posted_at,
        closes_at=row.closes_at,
    )


class SqlQuizRepository(_Repository):
    # -- the bank

    async def fingerprints(self, community_id: int) -> set[str]:
        rows = await self.session.scalars(
            select(col(QuestionRow.fingerprint)).where(
                col(QuestionRow.community_id) == community_id
            )
        )
        return set(rows)

    async def add_questions(
        self, community_id: int, questions: Sequence[Question], now: datetime, actor: int | None
    ) -> int:
        """Add questions (a duplicate fingerprint is skipped); how many were new."""
        added = 0
        for question in questions:
            added += await self._inserted(
                insert_ignoring_duplicates(self.dialect, QuestionRow),
                {
                    "community_id": community_id,
                    "text": question.text,
                    "options": list(question.options),
                    "correct": question.correct,
                    "explanation": question.explanation,
                    "topic": question.topic,
                    "difficulty": int(question.difficulty),
                    "fingerprint": question.fingerprint[:300],
                    "active": True,
                    "created_at": now,
                    "created_by": actor,
                },
            )
        return added

    async def topics(self, community_id: int) -> dict[str, int]:
        """Questions per topic in the bank."""
        rows = await self.session.execute(
            select(col(QuestionRow.topic), func.count())
            .where(col(QuestionRow.community_id) == community_id, col(QuestionRow.active))
            .group_by(col(QuestionRow.topic))
        )
        return {str(topic): int(count) for topic, count in rows.all()}

    async def questions(
        self, community_id: int, topic: str | None = None
    ) -> list[tuple[int, Question]]:
        statement = select(QuestionRow).where(
            col(QuestionRow.community_id) == community_id, col(QuestionRow.active)
        )
        if topic is not None:
            statement = statement.where(col(QuestionRow.topic) == topic)
        rows = await self.session.scalars(statement.order_by(col(QuestionRow.id)))
        return [_question(row) for row in rows]

    async def question(self, question_id: int) -> tuple[int, Question] | None:
        row = await self.session.get(QuestionRow, question_id)
        return _question(row) if row is not None else None

    async def recently_asked(self, community_id: int, since: datetime) -> set[int]:
        """Questions posted in the community's rounds since ``since``."""
        rows = await self.session.scalars(
            select(col(QuizPollRow.question_id))
            .join(QuizRoundRow, col(QuizRoundRow.id) == col(QuizPollRow.round_id))
            .where(
                col(QuizRoundRow.community_id) == community_id,
                col(QuizPollRow.posted_at) >= since,
            )
        )
        return set(rows)

    # -- rounds

    async def add_round(
        self,
        community_id: int,
        question_ids: Sequence[int],
        *,
        topic: str | None,
        open_seconds: int,
        now: datetime,
        actor: int | None,
        schedule_key: str | None = None,
    ) -> int | None:
        """Start a round; None when ``schedule_key`` already has one (a run never twice)."""
        statement = insert_ignoring_duplicates(self.dialect, QuizRoundRow).values(
            community_id=community_id,
            topic=topic,
            question_ids=list(question_ids),
            open_seconds=open_seconds,
            status="running",
            next_position=0,
            started_at=now,
            started_by=actor,
            schedule_key=schedule_key,
        )
        result = await self.session.execute(statement.returning(col(QuizRoundRow.id)))
        new_id = result.scalar_one_or_none()
        return int(new_id) if new_id is not None else None

    async def round(self, round_id: int) -> QuizRound | None:
        row = await self.session.get(QuizRoundRow, round_id, populate_existing=True)
        return _round(row) if row is not None else None

    async def running_rounds(self, community_id: int | None = None) -> list[QuizRound]:
        statement = select(QuizRoundRow).where(col(QuizRoundRow.status) == "running")
        if community_id is not None:
            statement = statement.where(col(QuizRoundRow.community_id) == community_id)
        rows = await self.session.scalars(statement.order_by(col(QuizRoundRow.id)))
        return [_round(row) for row in rows]

    async def advance_round(self, round_id: int, expected_position: int) -> bool:
        """Move a round to its next question; False when someone else already did."""
        result = await self.session.execute(
            update(QuizRoundRow)
            .where(
                col(QuizRoundRow.id) == round_id,
                col(QuizRoundRow.status) == "running",
                col(QuizRoundRow.next_position) == expected_position,
            )
            .values(next_position=expected_position + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def finish_round(
        self, round_id: int, now: datetime, status: RoundStatus = RoundStatus.FINISHED
    ) -> bool:
        """Close a running round; False when it was closed already."""
        result = await self.session.execute(
            update(QuizRoundRow)
            .where(col(QuizRoundRow.id) == round_id, col(QuizRoundRow.status) == "running")
            .values(status=status.value, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def rounds_since(self, community_id: int, since: datetime) -> list[QuizRound]:
        rows = await self.session.scalars(
            select(QuizRoundRow).where(
                col(QuizRoundRow.community_id) == community_id,
                col(QuizRoundRow.started_at) >= since,
            )
        )
        return [_round(row) for row in rows]

    # -- polls and answers

    async def add_poll(
        self,
        poll_id: str,
        *,
        round_id: int | None,
        community_id: int,
        question_id: int,
        position: int,
        chat_id: int,
        message_id: int,
        posted_at: datetime,
        closes_at: datetime,
    ) -> None:
        await self._inserted(
            insert_ignoring_duplicates(self.dialect, QuizPollRow),
            {
                "poll_id": poll_id,
                "round_id": round_id,
                "community_id": community_id,
                "question_id": question_id,
                "position": position,
                "chat_id": chat_id,
                "message_id": message_id,
                "posted_at": posted_at,
                "closes_at": closes_at,
            },
        )

    async def poll(self, poll_id: str) -> QuizPoll | None:
        row = await self.session.get(QuizPollRow, poll_id, populate_existing=True)
        return _poll(row) if row is not None else None

    async def polls_of(self, round_id: int) -> list[QuizPoll]:
        rows = await self.session.scalars(
            select(QuizPollRow)
            .where(col(QuizPollRow.round_id) == round_id)
            .order_by(col(QuizPollRow.position))
        )
        return [_poll(row) for row in rows]

    async def answer(self, poll_id: str, member_id: int) -> StoredAnswer | None:
        row = await self.session.scalar(
            select(QuizAnswerRow).where(
                col(QuizAnswerRow.poll_id) == poll_id, col(QuizAnswerRow.member_id) == member_id
            )
        )
        return StoredAnswer(row.option, row.correct, row.points) if row is not None else None

    async def record_answer(
        self,
        poll: QuizPoll,
        *,
        community_id: int,
        member_id: int,
        topic: str,
        option: int,
        correct: bool,
        points: int,
        now: datetime,
    ) -> bool:
        """Store a member's answer to a poll: the first one, or a new vote after a retracted
        one. False when a standing answer exists (a replayed update)."""
        values = {
            "option": option,
            "correct": correct,
            "points": points,
            "answered_at": now,
        }
        revote = await self.session.execute(
            update(QuizAnswerRow)
            .where(
                col(QuizAnswerRow.poll_id) == poll.poll_id,
                col(QuizAnswerRow.member_id) == member_id,
                col(QuizAnswerRow.option).is_(None),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(revote, "rowcount", 0):
            return True
        return await self._inserted(
            insert_ignoring_duplicates(self.dialect, QuizAnswerRow),
            {
                **values,
                "poll_id": poll.poll_id,
                "round_id": poll.round_id,
                "community_id": community_id,
                "member_id": member_id,
                "question_id": poll.question_id,
                "topic": topic,
                "position": poll.position,
                "practice": poll.round_id is None,
            },
        )

    async def retract_answer(self, poll_id: str, member_id: int) -> bool:
        """Clear a retracted vote; True when there was one."""
        result = await self.session.execute(
            update(QuizAnswerRow)
            .where(
                col(QuizAnswerRow.poll_id) == poll_id,
                col(QuizAnswerRow.member_id) == member_id,
                col(QuizAnswerRow.option).is_not(None),
            )
            .values(option=None, correct=False, points=0)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def round_answers(self, round_id: int) -> list[AnswerLine]:
        rows = await self.session.scalars(
            select(QuizAnswerRow).where(
                col(QuizAnswerRow.round_id) == round_id, col(QuizAnswerRow.option).is_not(None)
            )
        )
        return [AnswerLine(row.member_id, row.position, row.correct, row.points) for row in rows]

    async def season_points(
        self, community_id: int, since: datetime, limit: int
    ) -> list[tuple[int, int, int]]:
        """(member, points, correct answers) in rounds since ``since``, best first."""
        points = func.sum(QuizAnswerRow.points)
        rows = await self.session.execute(
            select(
                col(QuizAnswerRow.member_id),
                points,
                func.sum(cast(col(QuizAnswerRow.correct), Integer)),
            )
            .where(
                col(QuizAnswerRow.community_id) == community_id,
                col(QuizAnswerRow.answered_at) >= since,
                col(QuizAnswerRow.practice).is_(False),
                col(QuizAnswerRow.option).is_not(None),
            )
            .group_by(col(QuizAnswerRow.member_id))
            .order_by(points.desc(), col(QuizAnswerRow.member_id))
            .limit(limit)
        )
        return [(member, int(total or 0), int(right or 0)) for member, total, right in rows]

    async def topic_record(self, community_id: int, member_id: int) -> list[tuple[str, bool]]:
        """Every standing answer of a member: (topic, correct), oldest first."""
        rows = await self.session.execute(
            select(col(QuizAnswerRow.topic), col(QuizAnswerRow.correct))
            .where(
                col(QuizAnswerRow.community_id) == community_id,
                col(QuizAnswerRow.member_id) == member_id,
                col(QuizAnswerRow.option).is_not(None),
            )
            .order_by(col(QuizAnswerRow.answered_at))
        )
        return [(topic, bool(correct)) for topic, correct in rows]

    async def answered_questions(self, community_id: int, member_id: int) -> set[int]:
        rows = await self.session.scalars(
            select(col(QuizAnswerRow.question_id)).where(
                col(QuizAnswerRow.community_id) == community_id,
                col(QuizAnswerRow.member_id) == member_id,
            )
        )
        return set(rows)

    async def practice_answers_since(self, member_id: int, since: datetime) -> int:
        """Right practice answers since ``since`` (wrong ones earn nothing, so cost nothing)."""
        found = await self.session.scalar(
            select(func.count()).where(
                col(QuizAnswerRow.member_id) == member_id,
                col(QuizAnswerRow.practice).is_(True),
                col(QuizAnswerRow.correct).is_(True),
                col(QuizAnswerRow.answered_at) >= since,
            )
        )
        return int(found or 0)

    # -- schedules

    async def add_schedule(
        self,
        community_id: int,
        spec: str,
        *,
        topic: str | None,
        questions: int,
        now: datetime,
        actor: int | None,
    ) -> int:
        row = QuizScheduleRow(
            community_id=community_id,
            schedule=spec,
            topic=topic,
            questions=questions,
            created_by=actor,
            created_at=now,
            handled_until=now,
        )
        self.session.add(row)
        await self.session.flush()
        assert row.id is not None
        return row.id

    async def schedules(self, community_id: int | None = None) -> list[QuizSchedule]:
        """Schedules not deleted (of one community, or all)."""
        statement = select(QuizScheduleRow).where(col(QuizScheduleRow.deleted_at).is_(None))
        if community_id is not None:
            statement = statement.where(col(QuizScheduleRow.community_id) == community_id)
        rows = await self.session.scalars(statement.order_by(col(QuizScheduleRow.id)))
        return [_schedule(row) for row in rows]

    async def schedule(self, schedule_id: int) -> QuizSchedule | None:
        row = await self.session.get(QuizScheduleRow, schedule_id, populate_existing=True)
        return _schedule(row) if row is not None and row.deleted_at is None else None

    async def delete_schedule(self, schedule_id: int, now: datetime) -> bool:
        result = await self.session.execute(
            update(QuizScheduleRow)
            .where(
                col(QuizScheduleRow.id) == schedule_id, col(QuizScheduleRow.deleted_at).is_(None)
            )
            .values(deleted_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def mark_handled(self, schedule_id: int, until: datetime) -> None:
        await self.session.execute(
            update(QuizScheduleRow)
            .where(
                col(QuizScheduleRow.id) == schedule_id,
                col(QuizScheduleRow.handled_until) < until,
            )
            .values(handled_until=until)
            .execution_options(synchronize_session=False)
        )


def _schedule(row: QuizScheduleRow) -> QuizSchedule:
    assert row.id is not None
    return QuizSchedule(
        id=row.id,
        community_id=row.community_id,
        spec=row.schedule,
        topic=row.topic,
        questions=row.questions,
        handled_until=row.handled_until,
    )
