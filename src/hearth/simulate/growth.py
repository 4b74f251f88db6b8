"""Growth programmes in ``hearth simulate``: newcomer missions, personal invites, lucky draws.

- **Missions.** The operator switches the newcomer missions on at the start of one week and
  off at the start of the next (``/missions on|off`` in private), so that newcomers who
  joined in "with" weeks can be compared with those of "without" weeks. A newcomer who
  *read* the checklist the bot sent (after /start, or at the join of someone who had
  started the bot) sets out to do each mission within their first week: introduce
  themselves in the group, check in, answer the questionnaire's buttons, play the next
  quiz round, answer an open event card. Without the checklist, newcomers only do what
  their habits make them do (and a few answer the questionnaire the bot offers anyway).
  The activation figure is the one ``/stats`` shows (``missions.activation_figures``),
  added up over the weeks of each kind.
- **Referrals.** Members ask for their invite with ``/invite`` and pass on the link the bot
  answered; some of the members who join later open a friend's link (``/start r…``)
  before joining, then join and, by their habits, check in. Now and then a member opens
  their own link, or a member who is already known opens someone's: neither may count.
- **Lucky draws.** Once a week the operator creates a draw with ``/draw_new`` (free for
  members active in the last two weeks, or a few points to enter); members press the
  Enter button of the card the bot posted in the group (some press twice); the second
  draw is cancelled the evening before it closes, and its entries refunded; the
  scheduler's job closes the others at their time. Every closed draw is drawn again from
  its recorded seed, and every entry's debit (and refund) is checked in the ledger.

Growth draws from random streams of its own, so that the synthetic community's updates
stay the same with or without it.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hearth.domain.draws import DrawStatus
from hearth.domain.missions import BONUS_DAYS, Mission
from hearth.scheduler import jobs
from hearth.services import draws as lucky
from hearth.services import missions
from hearth.services.draws import entry_key, refund_key
from hearth.simulate import updates
from hearth.simulate.community import ScheduledUpdate, SyntheticMember
from hearth.simulate.programme import (
    QUIZ_DAYS,
    Action,
    Checkpoint,
    Programme,
    buttons_of,
    interest,
)
from hearth.simulate.updates import JsonDict

# A newcomer who read the checklist does each mission within the first week with this
# chance (more if they are keen on the club anyway, see ``_keenness``).
MISSION_CHANCES = {
    Mission.INTRODUCE: 0.9,
    Mission.CHECKIN: 0.95,
    Mission.INTERESTS: 0.9,
    Mission.QUIZ: 0.85,
    Mission.RSVP: 0.9,
}
UNPROMPTED_QUESTIONNAIRE = 0.25  # a member offered the questionnaire fills it in anyway
INVITE_CHANCE = 0.04  # a member who started the bot asks for their invite on a day
INVITED_SHARE = 0.5  # of the members who join later and use the bot, invited by a friend
DRAW_WEEKDAY = 2  # the day of each simulated week the operator creates a draw (10:00)
DRAW_OPEN_DAYS = 4  # it closes this many days later at 20:00
DRAWS = (  # winners, cost ("free" or points), prize, extra conditions
    (3, "free", "Club mug", "active=14"),
    (2, "30", "Detailing voucher", ""),
    (1, "60", "Track day tickets", ""),
    (2, "free", "Winter tyre check", ""),
)
CANCELLED_DRAW = 1  # the second draw created is cancelled the evening before it closes
INTRODUCTIONS = (
    "Hi all, {name} here: just joined, I drive an estate and love long road trips.",
    "Hello! New owner since last month, looking forward to the meet-ups.",
    "大家好，我是{name}，刚提车，请多关照！",
    "Hi everyone, glad to be here. Any tips for a first winter with the car?",
)
_LINK = re.compile(r"\?start=(r-?\d+_\d+)")


@dataclass
class Newcomer:
    """A member Hearth saw join during the simulation, and what the checklist did."""

    member: SyntheticMember
    joined_on: int
    read_checklist: bool = False
    planned: set[Mission] = field(default_factory=set)


@dataclass
class SimulatedDraw:
    number: int
    card: JsonDict  # the group card with the Enter button, as posted
    closes_on: int
    cost: int
    entered: set[int] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class ArmFigures:
    """Newcomers of the weeks with (or without) missions, by the /stats activation figure."""

    weeks: int
    activated: int
    missed: int
    pending: int
    newcomers_with_bot: int  # of them, members who started the bot (who can be told)
    read_checklist: int

    @property
    def rate(self) -> float | None:
        judged = self.activated + self.missed
        return self.activated / judged if judged else None


@dataclass(frozen=True, slots=True)
class ReferralFigures:
    links_shared: int  # members who asked for their invite
    opened: int  # friends who opened an invite before joining
    invited: int  # referrals recorded by the bot
    joined: int
    credited: int
    points: int
    refused_attempts: int  # own links and already-known members opening a link
    wrongly_recorded: int  # of those, recorded anyway (must be 0)


@dataclass(frozen=True, slots=True)
class DrawFigures:
    created: int
    closed: int
    cancelled: int
    entries: int
    double_presses: int  # second presses of Enter by the same member
    winners: int
    reproduced: int  # closed draws whose winners are drawn again from the recorded seed
    refunded: int  # entries refunded by the cancellation
    ledger_mismatches: int  # entries without their debit, cancelled ones without refund


@dataclass(frozen=True, slots=True)
class GrowthFigures:
    with_missions: ArmFigures
    without_missions: ArmFigures
    referrals: ReferralFigures
    draws: DrawFigures


class Growth:
    """Drives missions, invites and draws through the real bot, day by day."""

    def __init__(self, programme: Programme, *, seed: int) -> None:
        """Growth works with the programme's stand-in, clock, bot and community, and lets
        keen newcomers join its quiz rounds and answer its event cards."""
        self.api = programme.api
        self.clock = programme.clock
        self.hearth = programme.hearth
        self.community = community = programme.community
        self.programme = programme
        self.days = programme.days
        self.rng = random.Random(seed * 1_000_033 + 29)
        self.by_id = {member.id: member for member in community.members}
        self.newcomers: dict[int, Newcomer] = {}
        self.invites: dict[int, str] = {}  # inviter -> the payload of their link
        self.friends = self._friends(seed)
        self.opened = 0
        self.abuse: list[tuple[int, int]] = []  # (who opened, whose link)
        self.draws: list[SimulatedDraw] = []
        self.double_presses = 0
        self._message_ids = iter(range(800_000, 900_000))  # group messages of growth
        self._checklist_titles = self._titles(
            "<b>Your first steps in {title}</b> — {done} of {total} done"
        )
        self._seen = 0  # messages of api.delivered already looked at
        self._later: dict[int, list[Checkpoint]] = {}  # day -> questionnaires filled in

    # -- a day

    def plan(self, day: int) -> tuple[list[ScheduledUpdate], list[Checkpoint]]:
        """Growth's updates and checkpoints of ``day``."""
        at = self.community.local_time
        scheduled: list[ScheduledUpdate] = []
        checkpoints: list[Checkpoint] = []
        if day % 7 == 0:
            switch = "on" if self.missions_on(day) else "off"
            checkpoints.append(Checkpoint(at(day, 0.5), self._operator(f"/missions {switch}")))
        if day > 0:
            checkpoints.append(Checkpoint(at(day, 8.75), self._ask_for_invites(day)))
        checkpoints += self._draw_checkpoints(day)
        checkpoints += self._later.pop(day, [])
        for newcomer in self.newcomers.values():
            scheduled += self._missions_today(newcomer, day, checkpoints)
        scheduled += self._abuse(day)
        return scheduled, checkpoints

    def rewrite(self, day: int, batch: list[ScheduledUpdate]) -> list[ScheduledUpdate]:
        """Invited friends open their friend's link before they join (instead of /start
        with the group's link after joining)."""
        rewritten, invited = [], set()
        for item in batch:  # in time order: a join comes before the /start that follows it
            sender = updates.sender_of(item.payload)
            if sender in invited and updates.text_of(item.payload).startswith("/start"):
                continue  # they started through the invite already
            rewritten.append(item)
            if sender not in self.friends or not updates.joins(item.payload):
                continue
            inviter = self._inviter_for(sender, day)
            if inviter is None:
                continue  # nobody shared an invite yet: they come on their own
            invited.add(sender)
            member = self.by_id[sender]
            opened = item.at - timedelta(minutes=self.rng.uniform(5, 90))
            text = f"/start {self.invites[inviter]}"
            chat = updates.private(member.user)
            rewritten.append(
                ScheduledUpdate(opened, updates.message(chat, member.user, text, opened))
            )
            self.opened += 1
        rewritten.sort(key=lambda item: item.at)
        return rewritten

    async def after_day(self, day: int) -> None:
        """Read what the bot sent today (once the outbox is drained): checklists and
        questionnaire offers."""
        fill_ins: list[JsonDict] = []
        for sent in self.api.delivered[self._seen :]:
            chat_id = int(sent["chat"]["id"])
            member = self.by_id.get(chat_id)
            if member is None:
                continue
            if member.join_day is not None and member.join_day <= day:
                self._note_newcomer(member, sent, day)
            if any(data.startswith("pf1:") for data in buttons_of(sent)):
                fill_ins.append(sent)
        self._seen = len(self.api.delivered)
        for offer in fill_ins:
            self._plan_questionnaire(offer, day)

    def missions_on(self, day: int) -> bool:
        """Missions are on in the simulation's even weeks, off in its odd weeks."""
        return (day // 7) % 2 == 0

    # -- missions

    def _note_newcomer(self, member: SyntheticMember, sent: JsonDict, day: int) -> None:
        newcomer = self.newcomers.setdefault(member.id, Newcomer(member, member.join_day or day))
        text = str(sent.get("text", ""))
        if newcomer.read_checklist or not any(t in text for t in self._checklist_titles):
            return
        newcomer.read_checklist = True
        keen = self._keenness(member)
        newcomer.planned = {
            mission
            for mission, chance in MISSION_CHANCES.items()
            if self.rng.random() < chance * keen
        }

    def _keenness(self, member: SyntheticMember) -> float:
        return 0.85 + 0.15 * self.programme.habits[member.id].engagement

    def _missions_today(
        self, newcomer: Newcomer, day: int, checkpoints: list[Checkpoint]
    ) -> list[ScheduledUpdate]:
        """What a newcomer who read the checklist does today of what they planned."""
        member, since = newcomer.member, day - newcomer.joined_on
        if not newcomer.planned or not 1 <= since < BONUS_DAYS or not member.present_on(day):
            return []
        at = self.community.local_time(day, self.rng.uniform(9, 19))
        scheduled = []
        if Mission.INTRODUCE in newcomer.planned and since == 1:
            text = self.rng.choice(INTRODUCTIONS).format(name=member.user["first_name"])
            scheduled.append(self._in_group(member, text, at))
        if Mission.CHECKIN in newcomer.planned and since == 2:
            scheduled.append(self._in_group(member, "/checkin", at))
        if Mission.QUIZ in newcomer.planned and day % 7 in QUIZ_DAYS:
            self.programme.keen_players.add(member.id)
        if Mission.RSVP in newcomer.planned:
            scheduled += self._rsvp(newcomer, day, at)
        return scheduled

    def _rsvp(self, newcomer: Newcomer, day: int, at: datetime) -> list[ScheduledUpdate]:
        """Answer the first event card open today, once."""
        for event in self.programme.events:
            if event.event_id is None or not event.created_on < day < event.held_on:
                continue
            card = self.api.message(self.community.chat_id, event.card_message_id or 0)
            if card is None or newcomer.member.id in event.responded:
                return []
            event.responded.add(newcomer.member.id)
            newcomer.planned.discard(Mission.RSVP)
            data = f"ev1r:{event.event_id}:g"
            return [self.programme.press(newcomer.member.user, data, at, card)]
        return []

    def _plan_questionnaire(self, offer: JsonDict, day: int) -> None:
        member = self.by_id[int(offer["chat"]["id"])]
        newcomer = self.newcomers.get(member.id)
        if newcomer is not None and newcomer.read_checklist:
            chance = 1.0 if Mission.INTERESTS in newcomer.planned else 0.0
        else:
            chance = UNPROMPTED_QUESTIONNAIRE
        if self.rng.random() < chance and day + 1 < self.days:
            at = self.community.local_time(day + 1, self.rng.uniform(8, 22))
            self._later.setdefault(day + 1, []).append(
                Checkpoint(at, self._fill_in(member, int(offer["message_id"])))
            )

    def _fill_in(self, member: SyntheticMember, message_id: int) -> Action:
        """The member walks through the questionnaire from the offer's first button,
        picking an option of each question (one of several, then Done)."""

        async def action() -> int:
            chat_id = member.id
            message = self.api.message(chat_id, message_id)
            data = next(iter(buttons_of(message or {})), None)
            pressed, last_key = 0, None
            while message is not None and data is not None and pressed < 12:
                press = self.programme.press(member.user, data, self.clock.now(), message)
                await self.programme.deliver_now(press)
                pressed += 1
                message = self.api.message(chat_id, message_id)
                options = [d for d in buttons_of(message or {}) if d.split(":")[2:3] == ["p"]]
                if not options:
                    break
                key = options[0].split(":")[3]
                closing = [d for d in buttons_of(message or {}) if d.split(":")[2:3] == ["n"]]
                if key == last_key and closing:
                    data = closing[0]  # a question of several answers: done with it
                else:
                    data, last_key = self.rng.choice(options), key
            return pressed

        return action

    # -- referrals

    def _friends(self, seed: int) -> set[int]:
        """Members who will join through a friend's invite (if one was shared by then)."""
        rng = random.Random(seed * 7_919 + 5)
        return {
            member.id
            for member in self.community.members
            if member.join_day is not None and member.starts_bot and rng.random() < INVITED_SHARE
        }

    def _inviter_for(self, friend: int, day: int) -> int | None:
        inviters = sorted(
            inviter
            for inviter in self.invites
            if inviter != friend and self.by_id[inviter].present_on(day)
        )
        return self.rng.choice(inviters) if inviters else None

    def _ask_for_invites(self, day: int) -> Action:
        """A few members who use the bot ask for their invite; the link is read off the
        bot's answer."""

        async def action() -> int:
            asking = [
                member
                for member in self.community.members
                if member.starts_bot
                and member.present_on(day)
                and member.id not in self.invites
                and member.id not in self.friends
                and self.rng.random() < INVITE_CHANCE * interest(member, day)
            ]
            for member in asking:
                since = len(self.api.delivered)
                at = self.clock.now() + timedelta(seconds=30)
                ask = updates.message(updates.private(member.user), member.user, "/invite", at)
                await self.programme.deliver_now(ScheduledUpdate(at, ask))
                for answer in self.api.delivered[since:]:
                    link = _LINK.search(str(answer.get("text", "")))
                    if link is not None and answer["chat"]["id"] == member.id:
                        self.invites[member.id] = link.group(1)
            return len(asking)

        return action

    def _abuse(self, day: int) -> list[ScheduledUpdate]:
        """Every other week: an inviter opens their own link, a known member opens someone's."""
        if day % 14 != 4 or not self.invites:
            return []
        scheduled = []
        at = self.community.local_time(day, 12.5)
        inviter = self.rng.choice(sorted(self.invites))
        known = self.rng.choice(
            [
                m
                for m in self.community.members
                if m.join_day is None and m.starts_bot and not m.drift_per_day
            ]
        )
        for person, whose in ((inviter, inviter), (known.id, inviter)):
            member = self.by_id[person]
            text = f"/start {self.invites[whose]}"
            scheduled.append(
                ScheduledUpdate(
                    at, updates.message(updates.private(member.user), member.user, text, at)
                )
            )
            self.abuse.append((person, whose))
        return scheduled

    # -- draws

    def _draw_checkpoints(self, day: int) -> list[Checkpoint]:
        at = self.community.local_time
        checkpoints = []
        number = len(self.draws)
        if day % 7 == DRAW_WEEKDAY and day + DRAW_OPEN_DAYS < self.days and number < len(DRAWS):
            checkpoints.append(Checkpoint(at(day, 10), self._new_draw(day, number)))
        for draw in self.draws:
            if draw.closes_on == day:
                checkpoints.append(Checkpoint(at(day, 20.05), self._close_draws()))
            elif draw.closes_on > day:
                checkpoints.append(
                    Checkpoint(at(day, self.rng.uniform(11, 19)), self._enter(draw, day))
                )
        cancelled = self.draws[CANCELLED_DRAW] if len(self.draws) > CANCELLED_DRAW else None
        if cancelled is not None and cancelled.closes_on - 1 == day:
            checkpoints.append(
                Checkpoint(at(day, 21), self._operator(f"/draw_cancel {cancelled.number}"))
            )
        return checkpoints

    def _new_draw(self, day: int, number: int) -> Action:
        async def action() -> int:
            winners, cost, prize, extra = DRAWS[number]
            closes = self.community.first_day + timedelta(days=day + DRAW_OPEN_DAYS)
            since = len(self.api.delivered)
            command = f"/draw_new {winners} {cost} {closes.isoformat()} 20:00 {prize} {extra}"
            sent = await self._operator(command.strip())()
            await self.hearth.delivery.drain()
            card = self.programme.find_message(since, self.community.chat_id, "dw1e:")
            if card is not None:
                draw_id = int(buttons_of(card)[0].split(":")[1])
                price = 0 if cost == "free" else int(cost)
                self.draws.append(SimulatedDraw(draw_id, card, day + DRAW_OPEN_DAYS, price))
            return sent

        return action

    def _enter(self, draw: SimulatedDraw, day: int) -> Action:
        """Members press Enter on the group card; a few press it twice."""

        async def action() -> int:
            presses: list[ScheduledUpdate] = []
            for member in self.community.members:
                chance = self.rng.random()
                if member.id in draw.entered or not member.present_on(day):
                    continue
                keen = interest(member, day) * self.programme.habits[member.id].engagement
                if chance >= (0.05 + 0.35 * keen) / DRAW_OPEN_DAYS:
                    continue
                draw.entered.add(member.id)
                at = self.clock.now() + timedelta(seconds=len(presses) + 1)
                data = f"dw1e:{draw.number}"
                presses.append(self.programme.press(member.user, data, at, draw.card))
                if self.rng.random() < 0.1:
                    later = at + timedelta(milliseconds=400)
                    presses.append(self.programme.press(member.user, data, later, draw.card))
                    self.double_presses += 1
            for press in presses:
                await self.programme.deliver_now(press)
            return len(presses)

        return action

    def _close_draws(self) -> Action:
        async def action() -> int:
            await jobs.close_draws(self.hearth.uow_factory, self.hearth.draw_notices, self.clock)
            await self.hearth.delivery.drain()
            return 0

        return action

    # -- the figures

    async def figures(self, now: datetime) -> GrowthFigures:
        return GrowthFigures(
            with_missions=await self._arm(True, now),
            without_missions=await self._arm(False, now),
            referrals=await self._referral_figures(),
            draws=await self._draw_figures(),
        )

    async def _arm(self, on: bool, now: datetime) -> ArmFigures:
        weeks = [week for week in range(0, self.days, 7) if self.missions_on(week) is on]
        tally: Counter[str] = Counter()
        async with self.hearth.uow_factory() as uow:
            profile = await uow.communities.get(self.community.chat_id)
            assert profile is not None
            for week in weeks:
                first = self._date(week)
                last = self._date(min(week + 6, self.days - 1))
                figures = await missions.activation_figures(
                    uow, profile, first=first, last=last, now=now
                )
                tally.update(
                    activated=figures.activated, missed=figures.missed, pending=figures.pending
                )
        arm = [n for n in self.newcomers.values() if self.missions_on(n.joined_on) is on]
        return ArmFigures(
            weeks=len(weeks),
            activated=tally["activated"],
            missed=tally["missed"],
            pending=tally["pending"],
            newcomers_with_bot=sum(n.member.starts_bot for n in arm),
            read_checklist=sum(n.read_checklist for n in arm),
        )

    async def _referral_figures(self) -> ReferralFigures:
        totals: Counter[str] = Counter()
        wrong = 0
        async with self.hearth.uow_factory() as uow:
            for inviter in self.invites:
                counts = await uow.referrals.counts(self.community.chat_id, inviter)
                totals.update(
                    invited=counts.invited,
                    joined=counts.joined,
                    credited=counts.credited,
                    points=counts.points,
                )
            for person, whose in self.abuse:
                found = await uow.referrals.get(self.community.chat_id, person)
                wrong += found is not None and found.referrer_id == whose
        return ReferralFigures(
            links_shared=len(self.invites),
            opened=self.opened,
            invited=totals["invited"],
            joined=totals["joined"],
            credited=totals["credited"],
            points=totals["points"],
            refused_attempts=len(self.abuse),
            wrongly_recorded=wrong,
        )

    async def _draw_figures(self) -> DrawFigures:
        status: Counter[DrawStatus] = Counter()
        entries = winners = reproduced = refunded = mismatches = 0
        async with self.hearth.uow_factory() as uow:
            for simulated in self.draws:
                draw = await uow.draws.get(simulated.number)
                if draw is None:
                    continue
                status[draw.status] += 1
                drawn = await uow.draws.entries_of(draw.id)
                entries += len(drawn)
                winners += sum(entry.rank is not None for entry in drawn)
                if draw.status is DrawStatus.CLOSED:
                    reproduced += (await lucky.verify(uow.draws, draw.id)).matches
                for entry in drawn:
                    charged = await uow.points.has_entry(entry_key(draw.id, entry.member_id))
                    mismatches += entry.cost > 0 and not charged
                    if draw.status is DrawStatus.CANCELLED and entry.cost > 0:
                        back = await uow.points.has_entry(refund_key(draw.id, entry.member_id))
                        refunded += back
                        mismatches += not back
        return DrawFigures(
            created=len(self.draws),
            closed=status[DrawStatus.CLOSED],
            cancelled=status[DrawStatus.CANCELLED],
            entries=entries,
            double_presses=self.double_presses,
            winners=winners,
            reproduced=reproduced,
            refunded=refunded,
            ledger_mismatches=mismatches,
        )

    # -- helpers

    def _operator(self, text: str) -> Action:
        async def action() -> int:
            return await self.programme.operator_says(text)

        return action

    def _in_group(self, member: SyntheticMember, text: str, at: datetime) -> ScheduledUpdate:
        payload = updates.message(
            self.community.chat, member.user, text, at, message_id=next(self._message_ids)
        )
        return ScheduledUpdate(at, payload)

    def _titles(self, msgid: str) -> set[str]:
        """The part of a text before its ``{title}``, in every language of the bot."""
        i18n = self.hearth.i18n
        texts = {locale: i18n.gettext(msgid, locale=locale) for locale in i18n.available_locales}
        untranslated = [
            locale for locale, text in texts.items() if text == msgid and locale != "en"
        ]
        assert not untranslated, f"no {untranslated} translation of {msgid!r}: did it change?"
        return {text.split("{title}")[0] for text in texts.values()}

    def _date(self, day: int) -> date:
        return self.community.first_day + timedelta(days=day)
