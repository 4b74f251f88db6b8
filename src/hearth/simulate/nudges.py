"""Reactivation nudges in the simulation: the scheduler's plan and send jobs on the virtual
clock, synthetic members who answer a nudge (or not) by its timing and content, and the
checks an operator would want from the data — nothing sent in anyone's quiet hours, never
two within a week, never more than three in a dormancy episode.

A member answers a nudge with a probability that rises when it comes near the hour they
are usually around and when it offers something (a bonus, an event, points about to
expire) rather than only saying hello. Answering means pressing the nudge's main button
a little later and saying something in the group; a member who came back is livelier for a
couple of weeks (``SyntheticCommunity.revive``). A few press "Stop these messages".
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlmodel import col

from hearth.bot.app import Hearth
from hearth.domain.calendar import local_day
from hearth.domain.nudges import (
    DEFAULT_QUIET_HOURS,
    EPISODE_LIMIT,
    NUDGE_GAP_DAYS,
    KindOutcome,
    NudgeKind,
    NudgeOutcomes,
    NudgeStatus,
    QuietHours,
    ReturnRate,
    Uplift,
    uplift,
)
from hearth.handlers.callbacks import NudgeAction, NudgeTap
from hearth.services import nudges
from hearth.simulate import updates
from hearth.simulate.botapi import BotApiStandIn
from hearth.simulate.clock import VirtualClock
from hearth.simulate.community import ScheduledUpdate, SyntheticCommunity, SyntheticMember
from hearth.simulate.programme import Action, Checkpoint, deliver
from hearth.storage.nudges import NudgePreferenceRow, NudgeRow

PLAN_HOUR = 4.1  # local: the plan job's run after the nightly recompute (03:30)
SEND_MINUTE = 0.52  # the send job's run in each hour, just after nudges fall due (hh:30)
REVIVED_DAYS = 14  # a member who answered a nudge is livelier for this many days
STOP_CHANCE = 0.03  # a member presses "Stop these messages" (more when badly timed)
QUIET_CHOOSERS = 0.15  # share of members who pick other quiet hours in /settings on day one

# How much a nudge's content moves a member (the chance to answer is multiplied by it).
CONTENT_PULL: dict[NudgeKind, float] = {
    NudgeKind.LIGHT: 0.8,
    NudgeKind.STREAK: 1.0,
    NudgeKind.QUIZ: 1.0,
    NudgeKind.EVENT: 1.2,
    NudgeKind.EXPIRING: 1.2,
    NudgeKind.COMEBACK: 1.4,
}


@dataclass(slots=True)
class NudgeFigures:
    """What the nudges did in the simulated community, from the bot's own records."""

    plans: int = 0
    delivered: int = 0  # nudge messages the stand-in received
    answered: int = 0  # … that the synthetic member answered (those seen within the run)
    stopped: int = 0  # … after which they pressed "Stop these messages"
    outcomes: NudgeOutcomes | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    # the checks, counted from the data: each should be 0
    in_quiet_hours: int = 0
    within_a_week: int = 0
    over_episode_limit: int = 0
    unrecorded: int = 0  # delivered nudges without a "sent" row, or the other way round
    quiet_choosers: int = 0

    @property
    def uplift(self) -> Uplift | None:
        if self.outcomes is None:
            return None
        return uplift(self.outcomes.members.nudged, self.outcomes.members.holdout)


class NudgeResponder:
    """Runs the nudge jobs at their moments of each simulated day and plays the members'
    side: opening the nudge, pressing its button, coming back, or asking for no more."""

    def __init__(
        self,
        *,
        api: BotApiStandIn,
        clock: VirtualClock,
        hearth: Hearth,
        community: SyntheticCommunity,
        seed: int,
    ) -> None:
        self.api = api
        self.clock = clock
        self.hearth = hearth
        self.community = community
        self.rng = random.Random(seed * 7_919 + 3)
        self.members = {member.id: member for member in community.members}
        self.figures = NudgeFigures()
        self._seen = 0  # index into api.delivered of the next message to look at
        self._queries = 0
        self._message_ids = 800_000
        self._due_times: list[datetime] = []  # today's planned times not reached yet

    def checkpoints(self, day: int) -> list[Checkpoint]:
        """The plan job after the night's recompute, and the send job once an hour."""
        at = self.community.local_time
        points = [Checkpoint(at(day, PLAN_HOUR), self._plan())]
        points += [Checkpoint(at(day, hour + SEND_MINUTE), self._send()) for hour in range(24)]
        if day == 0:
            points.append(Checkpoint(at(0, 12.0), self._choose_quiet_hours()))
        return points

    def _plan(self) -> Action:
        async def action() -> int:
            now = self.clock.now()
            await nudges.record_returns(self.hearth.uow_factory, now)
            self.figures.plans += len(await nudges.plan_due(self.hearth.uow_factory, now))
            async with self.hearth.uow_factory() as uow:  # when the sender has work today
                due = await uow.nudges.due(now + timedelta(days=1), limit=100_000)
            self._due_times = sorted(record.due_at for record in due if record.due_at)
            return 0

        return action

    def _send(self) -> Action:
        async def action() -> int:
            now = self.clock.now()
            if not self._due_times or self._due_times[0] > now:
                return 0  # nothing falls due this hour: the sender would find nothing
            self._due_times = [moment for moment in self._due_times if moment > now]
            queued = await nudges.send_due(
                self.hearth.uow_factory, self.hearth.nudges, self.clock.now()
            )
            if not queued:
                return 0
            await self.hearth.delivery.drain()
            return await self._answer_new_nudges()

        return action

    async def _answer_new_nudges(self) -> int:
        """Each member who just got a nudge reads it and decides what to do."""
        sent = 0
        fresh = self.api.delivered[self._seen :]
        self._seen = len(self.api.delivered)
        for message in fresh:
            taps = _nudge_buttons(message)
            member = self.members.get(int(message["chat"]["id"]))
            if not taps or member is None:
                continue
            kind = await self._kind_of(taps[0].nudge_id)
            received = datetime.fromtimestamp(int(message["date"]), self.community.zone)
            timing = _timing(member, received)
            answers = self.rng.random() < _base_pull(member) * timing * CONTENT_PULL[kind]
            if answers:
                self.figures.answered += 1
                main = next(tap for tap in taps if tap.action is not NudgeAction.STOP)
                sent += await self._press(member, message, main, minutes=self.rng.uniform(2, 40))
                sent += await self._say_hello(member)
                self.community.revive(member.id, self._today() + REVIVED_DAYS)
            elif self.rng.random() < STOP_CHANCE * (2 if timing < 1 else 1):
                self.figures.stopped += 1
                stop = next(tap for tap in taps if tap.action is NudgeAction.STOP)
                sent += await self._press(member, message, stop, minutes=self.rng.uniform(1, 10))
        return sent

    async def _kind_of(self, nudge_id: int) -> NudgeKind:
        async with self.hearth.uow_factory() as uow:
            record = await uow.nudges.get(nudge_id)
        assert record is not None, "a nudge was sent without its row"
        return record.kind or NudgeKind.LIGHT

    async def _press(
        self, member: SyntheticMember, message: updates.JsonDict, tap: NudgeTap, *, minutes: float
    ) -> int:
        self._queries += 1
        at = self.clock.now() + timedelta(minutes=minutes)
        payload = updates.callback_query(
            member.user,
            tap.pack(),
            at,
            chat=message["chat"],
            query_id=f"nudge{self._queries}",
            message=message,
        )
        return await deliver(self.api, self.clock, [ScheduledUpdate(at, payload)])

    async def _say_hello(self, member: SyntheticMember) -> int:
        self._message_ids += 1
        at = self.clock.now() + timedelta(minutes=self.rng.uniform(1, 20))
        payload = updates.message(
            self.community.chat,
            member.user,
            "Hi all, I'm back — what did I miss?",
            at,
            message_id=self._message_ids,
        )
        return await deliver(self.api, self.clock, [ScheduledUpdate(at, payload)])

    def _choose_quiet_hours(self) -> Action:
        """Some members who started the bot pick other quiet hours in /settings."""

        async def action() -> int:
            sent = 0
            for member in self.community.members:
                if not (member.starts_bot and member.join_day is None):
                    continue
                if self.rng.random() >= QUIET_CHOOSERS:
                    continue
                sent += await self._pick_quiet_hours(member)
            return sent

        return action

    async def _pick_quiet_hours(self, member: SyntheticMember) -> int:
        chat = updates.private(member.user)
        at = self.clock.now() + timedelta(seconds=5)
        before = len(self.api.delivered)
        sent = await deliver(
            self.api,
            self.clock,
            [ScheduledUpdate(at, updates.message(chat, member.user, "/settings", at))],
        )
        reply = next((m for m in self.api.delivered[before:] if m["chat"]["id"] == member.id), None)
        choices = [data for data in _callback_data(reply) if data.startswith("np1:quiet:")]
        if reply is None or len(choices) < 2:
            return sent
        self._queries += 1
        at = self.clock.now() + timedelta(seconds=20)
        press = updates.callback_query(
            member.user,
            self.rng.choice(choices[1:]),
            at,
            chat=reply["chat"],
            query_id=f"quiet{self._queries}",
            message=reply,
        )
        self.figures.quiet_choosers += 1
        return sent + await deliver(self.api, self.clock, [ScheduledUpdate(at, press)])

    def _today(self) -> int:
        return (
            self.clock.now().astimezone(self.community.zone).date() - self.community.first_day
        ).days

    async def finish(self) -> NudgeFigures:
        """Record the last returns, read the outcomes and check the rules from the data."""
        now = self.clock.now()
        await nudges.record_returns(self.hearth.uow_factory, now)
        figures = self.figures
        async with self.hearth.uow_factory() as uow:
            profile = await uow.communities.get(self.community.chat_id)
            assert profile is not None, "the bot never registered the community"
            figures.outcomes = await uow.nudges.outcomes(profile.id, self.community.first_day, now)
            rows = [
                _Row(row[0] or 0, row[1], row[2], row[3], row[4], row[5])
                for row in await uow.session.execute(
                    select(
                        col(NudgeRow.id),
                        col(NudgeRow.member_id),
                        col(NudgeRow.status),
                        col(NudgeRow.reason),
                        col(NudgeRow.episode),
                        col(NudgeRow.sent_at),
                    ).where(col(NudgeRow.community_id) == profile.id)
                )
            ]
            quiet = {
                row.member_id: QuietHours(row.quiet_start, row.quiet_end)
                for row in (await uow.session.execute(select(NudgePreferenceRow))).scalars()
            }
        for row in rows:
            figures.statuses[row.status] += 1
            if row.reason is not None:
                figures.skipped[row.reason] += 1
        sent = [row for row in rows if row.status == NudgeStatus.SENT]
        figures.in_quiet_hours = sum(
            1
            for message in self.api.delivered
            if _nudge_buttons(message) and _quiet_at(message, quiet, self.community.zone)
        )
        figures.within_a_week = _too_close(sent, profile.timezone)
        per_episode = Counter((row.member_id, row.episode) for row in sent)
        figures.over_episode_limit = sum(
            1 for count in per_episode.values() if count > EPISODE_LIMIT
        )
        delivered_ids = {
            tap.nudge_id for message in self.api.delivered for tap in _nudge_buttons(message)[:1]
        }
        figures.delivered = len(delivered_ids)
        figures.unrecorded = len(delivered_ids ^ {row.id for row in sent})
        return figures


def _base_pull(member: SyntheticMember) -> float:
    """How likely a member is to answer a well-timed hello: habits leave traces."""
    return 0.12 + 0.3 * member.checkin_habit


def _timing(member: SyntheticMember, received: datetime) -> float:
    """1 near the member's usual hour, less the further from it."""
    distance = abs(received.hour - member.peak_hour)
    distance = min(distance, 24 - distance)
    if distance <= 1:
        return 1.0
    return 0.6 if distance <= 3 else 0.35


def _quiet_at(message: updates.JsonDict, quiet: dict[int, QuietHours], zone: ZoneInfo) -> bool:
    received = datetime.fromtimestamp(int(message["date"]), zone)
    hours = quiet.get(int(message["chat"]["id"]), DEFAULT_QUIET_HOURS)
    return hours.contains(received.time())


class _Row(NamedTuple):
    """A stored decision, as the checks read it."""

    id: int
    member_id: int
    status: str
    reason: str | None
    episode: date
    sent_at: datetime | None


def _too_close(sent: list[_Row], timezone: str) -> int:
    """Pairs of nudges to one member fewer than NUDGE_GAP_DAYS local days apart."""
    days: dict[int, list[date]] = defaultdict(list)
    for row in sent:
        assert row.sent_at is not None
        days[row.member_id].append(local_day(row.sent_at, timezone))
    return sum(
        1
        for member_days in days.values()
        for first, second in zip(sorted(member_days), sorted(member_days)[1:], strict=False)
        if (second - first).days < NUDGE_GAP_DAYS
    )


def _callback_data(message: updates.JsonDict | None) -> list[str]:
    if message is None:
        return []
    markup = message.get("reply_markup") or {}
    return [
        str(button.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for button in row
    ]


def _nudge_buttons(message: updates.JsonDict) -> list[NudgeTap]:
    """The nudge buttons of a message the bot sent (none for other messages)."""
    taps = []
    for data in _callback_data(message):
        if data.startswith(NudgeTap.__prefix__ + ":"):
            tap = NudgeTap.unpack(data)
            if tap.action is not NudgeAction.UNDO:
                taps.append(tap)
    return taps


def summary_lines(figures: NudgeFigures) -> list[str]:
    """The report's nudge section."""
    lines = [f"Reactivation nudges ({figures.plans} daily plans)"]
    status = figures.statuses
    lines.append(
        f"  sent {status[NudgeStatus.SENT]} · held out {status[NudgeStatus.HELD_OUT]}"
        f" · skipped {status[NudgeStatus.SKIPPED]} · still planned {status[NudgeStatus.PLANNED]}"
    )
    if figures.skipped:
        lines.append(
            "  skipped because: "
            + ", ".join(f"{reason} {count}" for reason, count in figures.skipped.most_common())
        )
    lines.append(
        f"  members answered {figures.answered} of {figures.delivered} nudges"
        f" · pressed stop {figures.stopped} · picked other quiet hours {figures.quiet_choosers}"
    )
    outcomes = figures.outcomes
    if outcomes is not None:
        lines.append(
            f"  members returned within 7 days: nudged {_rate(outcomes.members.nudged)}"
            f" · holdout {_rate(outcomes.members.holdout)}"
        )
        measured = figures.uplift
        lines.append(
            "  uplift: "
            + (
                f"{measured.difference * 100:+.1f} points"
                f" (95% interval {measured.low * 100:+.1f} to {measured.high * 100:+.1f})"
                if measured is not None
                else "not measurable yet"
            )
        )
        lines.append("  by kind:  " + "  ".join(_kind(row) for row in outcomes.by_kind))
    lines.append(
        f"  checks: in quiet hours {figures.in_quiet_hours} · two within 7 days"
        f" {figures.within_a_week} · over {EPISODE_LIMIT} in an episode"
        f" {figures.over_episode_limit} · delivered vs recorded mismatches {figures.unrecorded}"
    )
    return lines


def _rate(rate: ReturnRate) -> str:
    share = f"{rate.rate:.0%}" if rate.rate is not None else "-"
    return f"{rate.returned} of {rate.matured} ({share})"


def _kind(row: KindOutcome) -> str:
    name = row.kind.value if row.kind is not None else "all"
    return f"{name} {row.contacts} sent/{row.clicked} tapped/{row.returned} back"
