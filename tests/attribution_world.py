"""A small owners' club for the attribution tests, with every fact at a chosen local day.

The club lives in Asia/Shanghai (UTC+8): several instants fall on another calendar day
there than in UTC, and the figures must follow the local day. "Today" is 2026-05-20.

Members (all joined 2025-10-01 unless told):
    Ann 201, Ben 202, Cai 203, Dan 204, Eva 205, Fay 206, Gus 207 (left 2026-04-25 local),
    Hal 208 (joined 2026-02-01), Ivy 209 (left 2026-01-04), Jo 210 (joined 2026-01-11
    local, 2026-01-10 in UTC).
Stages (local day of the change):
    Ann new 2025-10-02, growing 2025-11-01, mature 2025-12-01; Ben mature 2025-12-01;
    Cai growing 2026-02-01; Dan mature 2025-11-15, declining 2026-03-01, dormant
    2026-04-01; Eva mature 2025-11-01, declining 2026-01-11; Fay new 2025-10-02,
    declining 2026-03-01; Gus mature 2025-11-01, declining 2026-01-10; Ivy mature
    2025-11-01; Hal and Jo none yet (they count as new).
Events:
    #A "Maintenance workshop", 2026-01-10 01:00 local (2026-01-09 in UTC): Ann, Ben and Cai
    checked in; Dan said he was going but did not come.
    #B "Spring drive", 2026-04-25 10:00 local, no check-ins recorded: Ann and Dan going,
    Eva maybe, Fay not going.
Nudges (local day):
    February: Dan sent 02-10. March: Gus sent 03-01 (2026-02-28 in UTC), Eva sent 03-03
    and 03-12; holdout confirmed for Fay 03-05 and Jo 03-20; Hal held out but never
    confirmed; Ben skipped. April: Cai sent 04-28.
Quiz answers (local day):
    Eva 2026-01-01 (2025-12-31 in UTC), Ann 01-05 and 02-01, Ben 02-01 (01-31 in UTC),
    Cai a practice answer 01-07, Dan a retracted vote 01-08; Hal 04-02.
Conversions (local day, amount in fen):
    Ann service 01-20 80,000 and service 05-02 70,000; Ben service 01-10 25,000, 03-15
    50,000 and 05-10 45,000; Cai purchase 02-01 15,000,000; Dan service 02-09 60,000; Eva
    service 03-20 55,000; Fay service 04-10 40,000; Gus service 02-10 30,000 and trade-in
    05-15 2,000,000.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hearth.domain.events import EventDraft
from hearth.domain.members import Person
from hearth.domain.nudges import NudgeStatus
from hearth.storage import tables
from hearth.storage.conversions import ConversionRow
from hearth.storage.engagement import StageChangeRow
from hearth.storage.events import RsvpRow
from hearth.storage.nudges import NudgeRow
from hearth.storage.quizzes import QuizAnswerRow, QuizRoundRow
from hearth.storage.unit_of_work import SqlUnitOfWork

TIMEZONE = "Asia/Shanghai"
TODAY = date(2026, 5, 20)
NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ANN, BEN, CAI, DAN, EVA, FAY, GUS, HAL, IVY, JO = range(201, 211)
NAMES = {
    ANN: "Ann", BEN: "Ben", CAI: "Cai", DAN: "Dan", EVA: "Eva", FAY: "Fay", GUS: "Gus",
    HAL: "Hal", IVY: "Ivy", JO: "Jo",
}  # fmt: skip


def utc(year: int, month: int, day: int, hour: int = 2) -> datetime:
    """An instant in UTC (02:00 UTC is 10:00 the same day in Shanghai)."""
    return datetime(year, month, day, hour, tzinfo=UTC)


JOINED = utc(2025, 10, 1)
JOINS = dict.fromkeys(NAMES, JOINED) | {HAL: utc(2026, 2, 1), JO: utc(2026, 1, 10, 18)}
LEAVES = {GUS: utc(2026, 4, 25, 3), IVY: utc(2026, 1, 4)}

STAGES = [  # member, old, new, local day
    (ANN, None, "new", date(2025, 10, 2)),
    (ANN, "new", "growing", date(2025, 11, 1)),
    (ANN, "growing", "mature", date(2025, 12, 1)),
    (BEN, None, "mature", date(2025, 12, 1)),
    (CAI, None, "growing", date(2026, 2, 1)),
    (DAN, None, "mature", date(2025, 11, 15)),
    (DAN, "mature", "declining", date(2026, 3, 1)),
    (DAN, "declining", "dormant", date(2026, 4, 1)),
    (EVA, None, "mature", date(2025, 11, 1)),
    (EVA, "mature", "declining", date(2026, 1, 11)),
    (FAY, None, "new", date(2025, 10, 2)),
    (FAY, "new", "declining", date(2026, 3, 1)),
    (GUS, None, "mature", date(2025, 11, 1)),
    (GUS, "mature", "declining", date(2026, 1, 10)),
    (IVY, None, "mature", date(2025, 11, 1)),
]

CONVERSIONS = [  # member, kind, local day, amount (fen)
    (ANN, "service", date(2026, 1, 20), 80_000),
    (ANN, "service", date(2026, 5, 2), 70_000),
    (BEN, "service", date(2026, 1, 10), 25_000),
    (BEN, "service", date(2026, 3, 15), 50_000),
    (BEN, "service", date(2026, 5, 10), 45_000),
    (CAI, "purchase", date(2026, 2, 1), 15_000_000),
    (DAN, "service", date(2026, 2, 9), 60_000),
    (EVA, "service", date(2026, 3, 20), 55_000),
    (FAY, "service", date(2026, 4, 10), 40_000),
    (GUS, "service", date(2026, 2, 10), 30_000),
    (GUS, "trade_in", date(2026, 5, 15), 2_000_000),
]

WORKSHOP_STARTS = utc(2026, 1, 9, 17)  # 01:00 on 2026-01-10 in Shanghai
DRIVE_STARTS = utc(2026, 4, 25)  # 10:00 in Shanghai

NUDGES = [  # member, status, planned on (local), sent or confirmed at (UTC)
    (DAN, NudgeStatus.SENT, date(2026, 2, 10), utc(2026, 2, 10)),
    (GUS, NudgeStatus.SENT, date(2026, 3, 1), utc(2026, 2, 28, 17)),
    (EVA, NudgeStatus.SENT, date(2026, 3, 3), utc(2026, 3, 3)),
    (EVA, NudgeStatus.SENT, date(2026, 3, 12), utc(2026, 3, 12)),
    (FAY, NudgeStatus.HELD_OUT, date(2026, 3, 5), utc(2026, 3, 5)),
    (JO, NudgeStatus.HELD_OUT, date(2026, 3, 20), utc(2026, 3, 20)),
    (HAL, NudgeStatus.HELD_OUT, date(2026, 3, 21), None),
    (BEN, NudgeStatus.SKIPPED, date(2026, 3, 10), None),
    (CAI, NudgeStatus.SENT, date(2026, 4, 28), utc(2026, 4, 28)),
]

ANSWERS = [  # member, answered at (UTC), practice, option (None: retracted)
    (EVA, utc(2025, 12, 31, 17), False, 1),
    (ANN, utc(2026, 1, 5, 3), False, 0),
    (ANN, utc(2026, 2, 1, 3), False, 2),
    (BEN, utc(2026, 1, 31, 20), False, 1),
    (CAI, utc(2026, 1, 7, 3), True, 1),
    (DAN, utc(2026, 1, 8, 3), False, None),
    (HAL, utc(2026, 4, 2, 3), False, 3),
]


async def furnish(uow: SqlUnitOfWork, community_id: int) -> tuple[int, int]:
    """Store the club's members, stages, events, nudges, answers and conversions in the
    (existing) community; returns the workshop's and the drive's event ids. Commits."""
    session = uow.session
    for member_id, name in NAMES.items():
        await uow.members.upsert(Person(member_id, name), JOINED)
    await session.flush()
    for member_id in NAMES:
        session.add(
            tables.Membership(
                community_id=community_id,
                member_id=member_id,
                joined_at=JOINS[member_id],
                left_at=LEAVES.get(member_id),
            )
        )
    for member_id, old, new, day in STAGES:
        session.add(
            StageChangeRow(
                community_id=community_id,
                member_id=member_id,
                old_stage=old,
                new_stage=new,
                changed_on=day,
            )
        )
    for number, (member_id, kind, day, amount) in enumerate(CONVERSIONS):
        session.add(
            ConversionRow(
                community_id=community_id,
                member_id=member_id,
                kind=kind,
                occurred_on=day,
                amount_minor=amount,
                key=f"row-{number}",
                imported_at=NOW,
            )
        )
    for member_id, status, planned_on, contact_at in NUDGES:
        session.add(
            NudgeRow(
                community_id=community_id,
                member_id=member_id,
                planned_on=planned_on,
                episode=planned_on - timedelta(days=30),
                step=1,
                status=status.value,
                reason="cap" if status is NudgeStatus.SKIPPED else None,
                decided_at=utc(planned_on.year, planned_on.month, planned_on.day, 0),
                sent_at=contact_at,
            )
        )
    for number, (member_id, answered_at, practice, option) in enumerate(ANSWERS):
        round_id = None  # a practice question belongs to no round
        if not practice:
            quiz_round = QuizRoundRow(
                community_id=community_id,
                question_ids=[number],
                open_seconds=30,
                status="finished",
                started_at=answered_at - timedelta(minutes=1),
            )
            session.add(quiz_round)
            await session.flush()
            round_id = quiz_round.id
        session.add(
            QuizAnswerRow(
                poll_id=f"poll-{number}",
                round_id=round_id,
                community_id=community_id,
                member_id=member_id,
                question_id=number,
                topic="cars",
                option=option,
                correct=option == 1,
                answered_at=answered_at,
                practice=practice,
            )
        )
    workshop = await _event(uow, community_id, "Maintenance workshop", WORKSHOP_STARTS, "WKSHOP")
    drive = await _event(uow, community_id, "Spring drive", DRIVE_STARTS, "DRIVE7")
    for member_id in (ANN, BEN, CAI):
        await uow.events.attend(workshop, member_id, WORKSHOP_STARTS)
    for event_id, member_id, answer in (
        (workshop, ANN, "going"),
        (workshop, BEN, "going"),
        (workshop, CAI, "going"),
        (workshop, DAN, "going"),
        (drive, ANN, "going"),
        (drive, DAN, "going"),
        (drive, EVA, "maybe"),
        (drive, FAY, "not_going"),
    ):
        session.add(
            RsvpRow(event_id=event_id, member_id=member_id, status=answer, answered_at=JOINED)
        )
    await uow.commit()
    return workshop, drive


async def _event(
    uow: SqlUnitOfWork, community_id: int, title: str, starts_at: datetime, code: str
) -> int:
    draft = EventDraft(
        title=title,
        description="",
        place="Workshop",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=None,
        registration_deadline=starts_at,
        points=0,
    )
    event = await uow.events.add(community_id, draft, code=code, actor_id=None, now=JOINED)
    assert event is not None
    return event.id
