"""The club's programme in ``hearth simulate``: events, a weekly announcement, quiz rounds.

Everything goes through the real bot. The operator creates events and the announcement
in the private dialogs and starts quiz rounds in the group; members press the buttons the
bot sent (RSVPs on the group card, feedback in private), check in on site with
``/attend CODE`` (or by scanning the QR code, which starts the bot), and answer the quiz
polls with ``poll_answer`` updates. The scheduler's jobs (event reminders and feedback
requests, the announcement timetable, quiz rounds moving on) run on the virtual clock, and
the outbox's delivery worker sends what they queued. The figures in the report are read
back from the database through the services and repositories.

The programme draws from a random stream of its own, so that the synthetic community's
own updates are the same with or without it.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hearth.bot.app import Hearth
from hearth.domain.announcements import RunStatus, run_key
from hearth.domain.delivery import OutboxCounts, OutboxStatus
from hearth.domain.events import RsvpStatus, average, nps
from hearth.domain.quizzes import RoundResult, RoundStatus, round_result
from hearth.scheduler import jobs
from hearth.services import events, quizzes
from hearth.simulate import updates
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.clock import VirtualClock
from hearth.simulate.community import ScheduledUpdate, SyntheticCommunity, SyntheticMember
from hearth.simulate.updates import JsonDict

QUIZ_BANK = Path(__file__).resolve().parents[3] / "examples" / "quiz-bank.en.yaml"
QUIZ_DAYS = frozenset({1})  # days of each simulated week with a quiz round (20:00)
QUIZ_QUESTIONS = 5
SPEED_BUCKETS = (4, 12, 22)  # seconds after posting, by a member's speed
# When the event jobs look (the real scheduler looks every five minutes; nothing would be
# due at the other moments): the day before an event, just after its 24 h reminder is due
# (events start at 14:00); on its day, after the 1 h reminder, and once check-in closed
# (20:00) for the feedback requests.
EVENT_JOB_HOURS_BEFORE = (14.09,)
EVENT_JOB_HOURS_ON_THE_DAY = (13.09, 21.09)
COMMENTS = (
    "Great organisation, thank you!",
    "More events like this, please.",
    "The place was a bit hard to find.",
    "学到了很多，谢谢！",
)

Action = Callable[[], Awaitable[int]]  # a checkpoint: does its work, returns updates sent


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Something that happens at a moment of the day and needs the bot's answers."""

    at: datetime
    action: Action


async def deliver(api: BotApiStandIn, clock: VirtualClock, batch: list[ScheduledUpdate]) -> int:
    """Hand updates to the stand-in and wait until the bot has handled them all.

    Updates are handled one after another, so the bot asks for the next batch only once
    the previous one is done: "consumed" means "handled". The clock moves to the last
    update's moment (never back).
    """
    if not batch:
        return 0
    clock.set(max(clock.now(), batch[-1].at))
    api.add_updates(item.payload for item in batch)
    await api.wait_until_consumed(timeout=20)
    return len(batch)


async def run_day(
    api: BotApiStandIn,
    clock: VirtualClock,
    scheduled: list[ScheduledUpdate],
    checkpoints: list[Checkpoint],
) -> int:
    """A day in time order: the updates up to each checkpoint, then the checkpoint's work."""
    pending = sorted(scheduled, key=lambda item: item.at)  # stable: equal times keep order
    total = 0
    for checkpoint in sorted(checkpoints, key=lambda item: item.at):
        due = [item for item in pending if item.at < checkpoint.at]
        pending = pending[len(due) :]
        total += await deliver(api, clock, due)
        clock.set(max(clock.now(), checkpoint.at))
        total += await checkpoint.action()
    return total + await deliver(api, clock, pending)


@dataclass(frozen=True, slots=True)
class Habits:
    """How a member takes part in the programme."""

    engagement: float  # 0..1, from their chat and check-in habits
    skill: float  # chance of answering a quiz question right
    speed: float  # 0 answers at once … 1 answers at the last moment


def interest(member: SyntheticMember, day: int) -> float:
    """How much of a member's first interest is left on a day: members built to drift away
    answer fewer invitations and quizzes too, as they talk and check in less."""
    return (1.0 - member.drift_per_day) ** day


def habits_of(member: SyntheticMember, seed: int) -> Habits:
    rng = random.Random(f"{seed}:{member.id}:programme")
    talk = min(1.0, member.messages_per_day / 2)
    engagement = min(1.0, 0.55 * member.checkin_habit + 0.45 * talk)
    if member.drift_per_day:
        engagement *= 0.5
    skill = min(0.95, max(0.15, rng.gauss(0.4 + 0.4 * engagement, 0.15)))
    return Habits(engagement=engagement, skill=skill, speed=rng.random())


@dataclass
class PlannedEvent:
    """An event the operator will create, and what the bot made of it."""

    title: str
    description: str | None
    place: str
    created_on: int
    held_on: int
    capacity: int | None
    points: int | None
    event_id: int | None = None
    card_message_id: int | None = None
    responded: set[int] = field(default_factory=set)


LONG_RUN_DAYS = 31  # longer runs hold an event every week
EVENT_IDEAS = (
    (
        "Winter maintenance workshop",
        "Tyres, batteries and fluids: bring your questions.",
        "Club garage, Dock Road 12",
    ),
    ("Owners' meet-up at the lake", None, "Lakeside car park"),
    (
        "Sunday road trip to the coast",
        "Two hundred kilometres of coast road, lunch on the way.",
        "Fuel station at the ring road",
    ),
)


def plan_events(days: int, members: int) -> list[PlannedEvent]:
    """Two or three events spread over a month at most, one a week over a longer period;
    the first one has few seats."""
    if days < 3:
        return []
    if days > LONG_RUN_DAYS:
        held = list(range(9, days - 1, 7))
    else:
        shares = (0.3, 0.6, 0.85) if days >= 14 else (0.4, 0.8)
        held = sorted({min(days - 1, max(2, round(days * share))) for share in shares})
    planned = []
    for number, day in enumerate(held):
        title, description, place = EVENT_IDEAS[number % len(EVENT_IDEAS)]
        planned.append(
            PlannedEvent(
                title=title,
                description=description,
                place=place,
                created_on=max(0, day - 7),
                held_on=day,
                capacity=max(2, members // 20) if number == 0 else None,
                points=50 if number == 0 else None,
            )
        )
    return planned


@dataclass(frozen=True, slots=True)
class EventFigures:
    """The events of the period, from ``/event_report``'s service, added up."""

    reports: tuple[events.Report, ...]
    average_rating: float | None
    ratings: int
    nps: int | None
    recommendations: int

    @property
    def going(self) -> int:
        return sum(report.counts.going for report in self.reports)

    @property
    def waitlisted(self) -> int:
        return sum(report.counts.waitlisted for report in self.reports)

    @property
    def maybe(self) -> int:
        return sum(report.counts.maybe for report in self.reports)

    @property
    def not_going(self) -> int:
        return sum(report.counts.not_going for report in self.reports)

    @property
    def attended(self) -> int:
        return sum(report.attended for report in self.reports)


@dataclass(frozen=True, slots=True)
class AnnouncementFigures:
    announcements: int
    runs: int  # scheduled instants that were sent
    skipped: int
    group_posts: int  # delivered to the group
    private_copies: int  # delivered to members in private


@dataclass(frozen=True, slots=True)
class QuizFigures:
    bank: int  # questions in the community's bank
    rounds: tuple[RoundResult, ...]  # finished rounds
    members: int
    leader: quizzes.SeasonLine | None

    @property
    def players_per_round(self) -> float:
        return sum(r.players for r in self.rounds) / len(self.rounds) if self.rounds else 0.0

    @property
    def participation(self) -> float:
        return self.players_per_round / self.members if self.members else 0.0

    @property
    def average_score(self) -> float:
        """Points per player per round."""
        players = sum(r.players for r in self.rounds)
        total = sum(r.average_points * r.players for r in self.rounds)
        return total / players if players else 0.0


@dataclass(frozen=True, slots=True)
class ProgrammeFigures:
    events: EventFigures
    announcements: AnnouncementFigures
    quizzes: QuizFigures
    outbox: OutboxCounts


class Programme:
    """Drives the operator and the members through events, announcements and quizzes."""

    def __init__(
        self,
        *,
        api: BotApiStandIn,
        clock: VirtualClock,
        hearth: Hearth,
        community: SyntheticCommunity,
        seed: int,
        days: int,
    ) -> None:
        self.api = api
        self.clock = clock
        self.hearth = hearth
        self.community = community
        self.chat_id = community.chat_id
        self.operator = community.operator
        self.days = days
        self.rng = random.Random(seed * 1_000_003 + 11)
        self.habits = {member.id: habits_of(member, seed) for member in community.members}
        self.events = plan_events(days, len(community.members))
        self.quiz_bank_loaded = False
        # Members who play the next quiz round whatever their habits (a newcomer's mission).
        self.keen_players: set[int] = set()
        self._queries = itertools.count(1)
        self._group_message_ids = itertools.count(900_000)  # the operator's group commands

    # -- a day

    async def plan(
        self, day: int, notes: list[str]
    ) -> tuple[list[ScheduledUpdate], list[Checkpoint]]:
        """The programme's updates of ``day`` known in advance, and its checkpoints."""
        at = self.community.local_time
        scheduled: list[ScheduledUpdate] = []
        checkpoints = [Checkpoint(at(day, 9.09), self._announcements(notes))]
        hours: set[float] = set()
        for event in self.events:
            if event.held_on == day + 1:
                hours.update(EVENT_JOB_HOURS_BEFORE)
            if event.held_on == day:
                hours.update(EVENT_JOB_HOURS_ON_THE_DAY)
        checkpoints += [Checkpoint(at(day, h), self._event_jobs(day, notes)) for h in sorted(hours)]
        if day == 0:
            checkpoints.append(Checkpoint(at(0, 8.5), self._set_up(notes)))
        for event in self.events:
            if event.created_on == day:
                checkpoints.append(Checkpoint(at(day, 10), self._publish(event, notes)))
            if event.event_id is None:
                continue
            if event.created_on < day < event.held_on:
                scheduled += self._rsvps(event, day)
            if event.held_on == day:
                scheduled += await self._event_day(event, day, notes)
                # Check-ins end by 15:00: handled before the clock moves past the window.
                checkpoints.append(Checkpoint(at(day, 15.05), _nothing))
        if day % 7 in QUIZ_DAYS and self.quiz_bank_loaded:
            checkpoints.append(Checkpoint(at(day, 20), self._quiz_round(day, notes)))
        return scheduled, checkpoints

    async def drain(self) -> None:
        """Let the delivery worker send everything due now."""
        await self.hearth.delivery.drain()

    # -- the operator's set-up on the first morning

    def _set_up(self, notes: list[str]) -> Action:
        async def action() -> int:
            sent = await self._import_quiz_bank(notes)
            return sent + await self._announce_weekly(notes)

        return action

    async def _import_quiz_bank(self, notes: list[str]) -> int:
        """The operator sends the sample bank to the bot in private, captioned /quiz_import."""
        if not QUIZ_BANK.is_file():
            notes.append("no quiz bank")
            return 0
        document = self.api.add_file(QUIZ_BANK.read_bytes(), QUIZ_BANK.name, "application/yaml")
        payload = updates.message(
            updates.private(self.operator),
            self.operator,
            None,
            self._tick(),
            caption="/quiz_import",
            caption_entities=[{"type": "bot_command", "offset": 0, "length": 12}],
            document=document,
        )
        sent = await deliver(self.api, self.clock, [ScheduledUpdate(self.clock.now(), payload)])
        async with self.hearth.uow_factory() as uow:
            bank = sum((await uow.quizzes.topics(self.chat_id)).values())
        self.quiz_bank_loaded = bank > 0
        notes.append(f"{bank} quiz questions imported")
        return sent

    async def _announce_weekly(self, notes: list[str]) -> int:
        """/announce in private: a weekly post to the group and, in private, to members."""
        if self.days < 2:
            return 0
        weekday = (self.community.first_day + timedelta(days=1)).strftime("%A")
        sent = await self.operator_says(
            "/announce",
            "<b>Weekly club news</b>: new members, this week's events and the quiz nights. "
            "Reply here with your photos!",
            f"every {weekday} 09:00",
        )
        sent += await self.operator_presses(
            "an1a:", choose=lambda data: data.endswith(":group_private")
        )
        sent += await self.operator_presses("an1k:", choose=lambda data: data.endswith(":1"))
        notes.append(f"weekly announcement every {weekday}")
        return sent

    # -- announcements

    def _announcements(self, notes: list[str]) -> Action:
        """The announcement timetable looks (it runs what is due); the delivery worker sends
        the post and the private copies; a few members press "stop" under their copy."""

        async def action() -> int:
            since = len(self.api.delivered)
            queued = await self.hearth.timetable.rebuild()
            if not queued:
                return 0
            await self.drain()
            notes.append(f"announcement to {queued} chats")
            presses = []
            for copy in self.api.delivered[since:]:
                member_id = int(copy["chat"]["id"])
                stops, minutes = self.rng.random(), self.rng.uniform(1, 50)
                if member_id not in self.habits or not buttons_of(copy):
                    continue
                if stops < 0.3 * (1 - self.habits[member_id].engagement):
                    at = self.clock.now() + timedelta(minutes=minutes)
                    presses.append(self.press(_user(copy["chat"]), buttons_of(copy)[0], at, copy))
            return await deliver(self.api, self.clock, sorted(presses, key=lambda p: p.at))

        return action

    # -- events

    def _event_jobs(self, day: int, notes: list[str]) -> Action:
        async def action() -> int:
            hearth = self.hearth
            since = len(self.api.delivered)
            reminded = await jobs.event_reminders(
                hearth.uow_factory,
                hearth.event_notices,
                hearth.clock,
                hearth.settings.event_reminder_hours,
            )
            asked = await jobs.event_feedback(
                hearth.uow_factory, hearth.event_notices, hearth.clock
            )
            await self.drain()
            if reminded:
                notes.append(f"{reminded} event reminders")
            if not asked:
                return 0
            notes.append(f"{asked} feedback requests")
            return await self._feedback(day, since)

        return action

    def _publish(self, event: PlannedEvent, notes: list[str]) -> Action:
        """/event_new in private, every step of the dialog, then Publish."""

        async def action() -> int:
            held = (self.community.first_day + timedelta(days=event.held_on)).isoformat()
            answers = [
                "/event_new",
                event.title,
                event.description or "/skip",
                event.place,
                f"{held} 14:00-17:00",
                "/skip" if event.capacity is None else str(event.capacity),
                "/skip",  # registration closes at the start
                "/skip" if event.points is None else str(event.points),
                "/skip",  # no photo
            ]
            sent = await self.operator_says(*answers)
            since = len(self.api.delivered)
            sent += await self.operator_presses("ev1p:", choose=lambda data: data.endswith(":1"))
            card = self.find_message(since, self.chat_id, "ev1r:")
            if card is None:
                notes.append(f"event '{event.title}' was not published")
                return sent
            event.card_message_id = int(card["message_id"])
            event.event_id = int(buttons_of(card)[0].split(":")[1])
            notes.append(f"event #{event.event_id} published")
            return sent

        return action

    def _rsvps(self, event: PlannedEvent, day: int) -> list[ScheduledUpdate]:
        """Members answer the card's buttons; each decides once, on one of the days."""
        assert event.event_id is not None
        assert event.card_message_id is not None
        card = self.api.message(self.chat_id, event.card_message_id)
        if card is None:
            return []
        days_open = max(1, event.held_on - event.created_on - 1)
        scheduled = []
        for member in self.community.members:
            habits = self.habits[member.id]
            rng = self.rng
            responds, choice, hour = rng.random(), rng.random(), rng.uniform(11, 22.5)
            if member.id in event.responded or not member.present_on(day):
                continue
            left = interest(member, day)
            if responds >= left * (0.05 + 0.4 * habits.engagement) / days_open:
                continue
            event.responded.add(member.id)
            going = 0.45 + 0.4 * habits.engagement
            answer = "g" if choice < going else ("m" if choice < going + 0.3 else "n")
            at = self.community.local_time(day, hour)
            scheduled.append(self.press(member.user, f"ev1r:{event.event_id}:{answer}", at, card))
        return scheduled

    async def _event_day(
        self, event: PlannedEvent, day: int, notes: list[str]
    ) -> list[ScheduledUpdate]:
        """A few going members step back in the morning (the waitlist moves up); those who
        come check in on site in the afternoon."""
        assert event.event_id is not None
        async with self.hearth.uow_factory() as uow:
            stored = await uow.events.get(event.event_id)
            going = await uow.events.members_with(event.event_id, {RsvpStatus.GOING})
            waiting = await uow.events.first_waitlisted(event.event_id, 10_000)
        if stored is None or stored.cancelled:
            return []
        card = self.api.message(self.chat_id, event.card_message_id or 0)
        by_id = {member.id: member for member in self.community.members}
        scheduled = []
        cancelling = self.rng.sample(sorted(going), k=min(len(going), max(1, len(going) // 8)))
        for member_id in cancelling:
            at = self.community.local_time(day, self.rng.uniform(8, 11))
            if card is not None and member_id in by_id:
                scheduled.append(
                    self.press(by_id[member_id].user, f"ev1r:{event.event_id}:n", at, card)
                )
        coming = [m for m in going if m not in cancelling] + waiting[: len(cancelling)]
        attendees = 0
        for member_id in sorted(coming):  # only registered members come
            member = by_id.get(member_id)
            chance, hour = self.rng.random(), self.rng.uniform(13.2, 15)
            if member is None or not member.present_on(day):
                continue
            likely = 0.65 + 0.3 * self.habits[member_id].engagement
            if chance >= likely:
                continue
            attendees += 1
            at = self.community.local_time(day, hour)
            # Members who started the bot send the code; the others scan the QR code.
            text = f"/attend {stored.code}" if member.starts_bot else f"/start a{stored.code}"
            scheduled.append(
                ScheduledUpdate(
                    at, updates.message(updates.private(member.user), member.user, text, at)
                )
            )
        notes.append(f"event #{event.event_id}: {len(cancelling)} step back, {attendees} check in")
        return scheduled

    async def _feedback(self, day: int, since: int) -> int:
        """Attendees who were asked rate the event, say whether they would recommend the
        club, and leave a comment or /skip — each step on the message the bot sent."""
        by_id = {member.id: member for member in self.community.members}
        requests: list[tuple[SyntheticMember, JsonDict]] = []
        for delivered in self.api.delivered[since:]:
            member = by_id.get(int(delivered["chat"]["id"]))
            if member is not None and any(d.startswith("ev1s:") for d in buttons_of(delivered)):
                requests.append((member, delivered))
        requests.sort(key=lambda request: request[0].id)  # whatever order they were sent in
        ratings: list[ScheduledUpdate] = []
        comments: list[ScheduledUpdate] = []
        recommendations: list[tuple[SyntheticMember, JsonDict, datetime, str]] = []
        for member, message in requests:
            engagement = self.habits[member.id].engagement
            rng = self.rng
            answers, hour = rng.random(), rng.uniform(21.2, 22.5)
            rating = round(rng.gauss(2.6 + 2.4 * engagement, 0.7))
            score = round(rng.gauss(4.5 + 5.5 * engagement, 1.5))
            comment = rng.choice(COMMENTS) if rng.random() < 0.35 else "/skip"
            if answers >= 0.45 + 0.45 * engagement:
                continue
            at = self.community.local_time(day, hour)
            event_id = buttons_of(message)[0].split(":")[1]
            ratings.append(
                self.press(member.user, f"ev1s:{event_id}:{_clamp(rating, 1, 5)}", at, message)
            )
            recommendations.append((member, message, at, f"ev1n:{event_id}:{_clamp(score, 0, 10)}"))
            chat = updates.private(member.user)
            later = at + timedelta(minutes=2)
            comments.append(
                ScheduledUpdate(later, updates.message(chat, member.user, comment, later))
            )
        sent = await deliver(self.api, self.clock, sorted(ratings, key=lambda item: item.at))
        pressed = []
        for member, asked, at, data in recommendations:
            edited = self.api.message(member.id, int(asked["message_id"]))  # now 0-10 buttons
            if edited is not None:
                pressed.append(self.press(member.user, data, at + timedelta(minutes=1), edited))
        sent += await deliver(self.api, self.clock, sorted(pressed, key=lambda item: item.at))
        return sent + await deliver(
            self.api, self.clock, sorted(comments, key=lambda item: item.at)
        )

    # -- quizzes

    def _quiz_round(self, day: int, notes: list[str]) -> Action:
        """``/quiz start 5`` in the group; members answer each poll with their own skill and
        speed; the round moves on when the clock passes each question's close."""

        async def action() -> int:
            polls_before = len(self.api.polls)
            payload = updates.message(
                self.community.chat,
                self.operator,
                f"/quiz start {QUIZ_QUESTIONS}",
                self.clock.now(),
                message_id=next(self._group_message_ids),
            )
            sent = await deliver(self.api, self.clock, [ScheduledUpdate(self.clock.now(), payload)])
            # The virtual clock drives the round here, not the round's own timer task.
            await self.hearth.quiz_rounds.stop()
            async with self.hearth.uow_factory() as uow:
                running = await uow.quizzes.running_rounds(self.chat_id)
            if not running:
                notes.append("no quiz round started")
                return sent
            round_id = running[0].id
            players = [
                member
                for member in self.community.members
                if member.present_on(day)
                and self.rng.random()
                < interest(member, day) * (0.03 + 0.25 * self.habits[member.id].engagement)
            ]
            players += [
                member
                for member in self.community.members
                if member.id in self.keen_players
                and member.present_on(day)
                and member not in players
            ]
            self.keen_players.clear()
            posted_at = self.clock.now()
            for _ in range(len(running[0].question_ids) + 1):
                polls = list(self.api.polls.values())[polls_before:]
                polls_before += len(polls)
                for poll in polls:
                    sent += await self._answer_poll(
                        poll.poll_id,
                        poll.chat_id,
                        poll.message_id,
                        poll.correct_option_ids,
                        players,
                        posted_at,
                    )
                open_seconds = running[0].open_seconds
                self.clock.set(
                    max(self.clock.now(), posted_at + timedelta(seconds=open_seconds))
                    + quizzes.LATE_GRACE
                    + timedelta(seconds=1)
                )
                posted_at = self.clock.now()
                if not await self.hearth.quiz_rounds.step(round_id):
                    break
            await self.drain()  # the round's results
            notes.append(f"quiz round with {len(players)} players")
            return sent

        return action

    async def _answer_poll(
        self,
        poll_id: str,
        chat_id: int,
        message_id: int,
        correct: list[int],
        players: list[SyntheticMember],
        posted_at: datetime,
    ) -> int:
        message = self.api.message(chat_id, message_id) or {}
        options = len(message.get("poll", {}).get("options", [])) or 2
        right = correct[0] if correct else 0
        by_second: dict[int, list[JsonDict]] = {}
        for member in players:
            habits = self.habits[member.id]
            answers, knows, wrong = self.rng.random(), self.rng.random(), self.rng.random()
            jitter = self.rng.gauss(0, 0.12)
            if answers >= 0.9:
                continue  # misses this one
            option = (
                right
                if knows < habits.skill
                else (right + 1 + int(wrong * (options - 1))) % options
            )
            bucket = min(
                len(SPEED_BUCKETS) - 1, max(0, int((habits.speed + jitter) * len(SPEED_BUCKETS)))
            )
            by_second.setdefault(SPEED_BUCKETS[bucket], []).append(
                updates.poll_answer(member.user, poll_id, [option])
            )
        sent = 0
        for second in sorted(by_second):
            at = posted_at + timedelta(seconds=second)
            sent += await deliver(
                self.api, self.clock, [ScheduledUpdate(at, p) for p in by_second[second]]
            )
        return sent

    # -- the figures

    async def figures(self, now: datetime, members_now: int) -> ProgrammeFigures:
        """What the database holds about the programme, through services and repositories."""
        await self.drain()
        operated = {self.chat_id}
        async with self.hearth.uow_factory() as uow:
            reports: list[events.Report] = []
            ratings: list[int] = []
            scores: list[int] = []
            for event in self.events:
                if event.event_id is None:
                    continue
                reports.append(await events.report(uow, event_id=event.event_id, operated=operated))
                for rating, score, _ in await uow.events.feedback(event.event_id):
                    ratings += [rating] if rating is not None else []
                    scores += [score] if score is not None else []
            event_figures = EventFigures(
                reports=tuple(reports),
                average_rating=average(ratings),
                ratings=len(ratings),
                nps=nps(scores),
                recommendations=len(scores),
            )

            runs = skipped = group_posts = private_copies = 0
            readers = [self.operator["id"], *(member.id for member in self.community.members)]
            announcements = await uow.announcements.of_communities([self.chat_id])
            for announcement in announcements:
                for moment, status in await uow.announcements.runs(announcement.id):
                    if status is not RunStatus.SENT:
                        skipped += 1
                        continue
                    runs += 1
                    key = run_key(announcement.id, moment, self.chat_id)
                    group_posts += await uow.outbox.status_of(key) is OutboxStatus.SENT
                    for reader in readers:
                        key = run_key(announcement.id, moment, reader)
                        private_copies += await uow.outbox.status_of(key) is OutboxStatus.SENT
            announcement_figures = AnnouncementFigures(
                len(announcements), runs, skipped, group_posts, private_copies
            )

            since = self.community.local_time(0, 0)
            results = []
            for quiz in await uow.quizzes.rounds_since(self.chat_id, since):
                if quiz.status is RoundStatus.FINISHED:
                    answers = await uow.quizzes.round_answers(quiz.id)
                    results.append(round_result(answers, len(quiz.question_ids)))
            profile = await uow.communities.get(self.chat_id)
            leaders = (
                await quizzes.season_leaderboard(uow, profile, now, limit=1) if profile else []
            )
            quiz_figures = QuizFigures(
                bank=sum((await uow.quizzes.topics(self.chat_id)).values()),
                rounds=tuple(results),
                members=members_now,
                leader=leaders[0] if leaders else None,
            )
            outbox = await uow.outbox.counts()
        return ProgrammeFigures(event_figures, announcement_figures, quiz_figures, outbox)

    # -- helpers

    def _tick(self, seconds: float = 20) -> datetime:
        """The operator's next message, a little later."""
        self.clock.set(self.clock.now() + timedelta(seconds=seconds))
        return self.clock.now()

    async def operator_says(self, *texts: str) -> int:
        """The operator sends each text in private, one after the bot answered the other."""
        chat = updates.private(self.operator)
        for text in texts:
            at = self._tick()
            payload = updates.message(chat, self.operator, text, at)
            await deliver(self.api, self.clock, [ScheduledUpdate(at, payload)])
        return len(texts)

    async def operator_presses(
        self, prefix: str, choose: Callable[[str], bool] = lambda data: True
    ) -> int:
        """The operator presses a button of the latest message the bot sent them with one."""
        message = self._current_with(int(self.operator["id"]), prefix)
        if message is None:
            return 0
        data = next((d for d in buttons_of(message) if d.startswith(prefix) and choose(d)), None)
        if data is None:
            return 0
        at = self._tick()
        press = self.press(self.operator, data, at, message)
        return await deliver(self.api, self.clock, [press])

    async def deliver_now(self, item: ScheduledUpdate) -> int:
        """One update, handled before the next step (a press on what the bot just sent)."""
        return await deliver(self.api, self.clock, [item])

    def press(
        self, person: JsonDict, data: str, at: datetime, message: JsonDict
    ) -> ScheduledUpdate:
        payload = updates.callback_query(
            person,
            data,
            at,
            chat=message["chat"],
            query_id=f"sim{next(self._queries)}",
            message=message,
        )
        return ScheduledUpdate(at, payload)

    def find_message(self, since: int, chat_id: int, prefix: str) -> JsonDict | None:
        """The first message sent to ``chat_id`` since ``delivered[since]`` with a button
        starting with ``prefix``, as it is now."""
        for sent in self.api.delivered[since:]:
            if sent["chat"]["id"] != chat_id:
                continue
            current = self.api.message(chat_id, int(sent["message_id"]))
            if current is not None and any(d.startswith(prefix) for d in buttons_of(current)):
                return current
        return None

    def _current_with(self, chat_id: int, prefix: str) -> JsonDict | None:
        """The latest message in ``chat_id`` that carries a button starting with ``prefix``
        now (buttons already answered are gone or replaced)."""
        for sent in reversed(self.api.delivered):
            if sent["chat"]["id"] != chat_id:
                continue
            current = self.api.message(chat_id, int(sent["message_id"]))
            if current is not None and any(d.startswith(prefix) for d in buttons_of(current)):
                return current
        return None


def _user(chat: JsonDict) -> JsonDict:
    """The member of a private chat."""
    return updates.user(int(chat["id"]), str(chat.get("first_name", "Member")))


async def _nothing() -> int:
    return 0


def buttons_of(message: JsonDict) -> list[str]:
    markup: dict[str, Any] = message.get("reply_markup") or {}
    return [
        str(button.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]


def _clamp(value: int, low: int, high: int) -> int:
    return min(high, max(low, value))
