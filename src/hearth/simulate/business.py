"""The business side in ``hearth simulate``: dealer channels, shared phone numbers and the
service visits and purchases the dealers report back.

- **Channels.** On the first morning the operator creates the club's dealers and a partner
  with ``/channel_new`` and reads each channel's link off the bot's answer. Most members
  who join later and use the bot open a channel's link (its QR code, at the dealer) before
  joining, so the bot attributes them to it; a few members already in the group open a
  dealer's link when they visit the workshop (a later touch, which changes nothing).
- **Phone numbers.** Some members who use the bot share their number with ``/phone`` and
  Telegram's contact button, so that the dealers' files can name them by phone.
- **Conversions.** Each member has a chance of a service visit on any day, higher for keen
  members (so a naive comparison would flatter events) and for members a dealer brought;
  for 30 days after attending an event the chance is ``ATTENDANCE_LIFT`` times higher.
  Purchases and trade-ins are rarer. Dealers also report customers who are not in the club.
  Every week the operator sends the week's file to the bot in private as a CSV document;
  at the end they send the last file once more, which must change nothing.

The true lift is known here, so the report can set the figure the bot measures (attendees
against comparable members, standardised by lifecycle stage) beside it.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hearth.domain.attribution import ComparisonKind, WindowFigures
from hearth.domain.conversions import ConversionKind
from hearth.services import attribution, channels
from hearth.services.channels import ChannelFigures
from hearth.simulate import updates
from hearth.simulate.community import ScheduledUpdate, SyntheticMember
from hearth.simulate.programme import Action, Checkpoint, Programme

CHANNELS = (  # name, share of the channel-brought newcomers, their service-visit factor
    ("Dealer Pudong", 0.5, 1.3),
    ("Dealer Jinqiao", 0.3, 1.1),
    ("Car wash partner", 0.2, 0.7),
)
CHANNEL_SHARE = 0.7  # of the later joiners who use the bot (and no friend invited)
PHONE_SHARE = 0.4  # of the members who use the bot, share their number
WORKSHOP_TOUCH = 0.3  # a member at a service visit opens the dealer's link there
SERVICE_PER_DAY = 1 / 200  # a member's chance of a service visit on a day, before factors
ATTENDANCE_LIFT = 2.5  # … times this for 30 days after attending an event
LIFT_DAYS = 30
PURCHASE_PER_DAY = 1 / 3_000
TRADE_IN_PER_DAY = 1 / 6_000
STRANGERS_PER_WEEK = 6  # customers of the dealers who are not in the club
IMPORT_WEEKDAY = 6  # the day of each simulated week the operator sends the file (18:00)
_LINK = re.compile(r"\?start=(k-?\d+_\d+)")


@dataclass(frozen=True, slots=True)
class BusinessEvent:
    """A conversion the dealers report: who (Telegram id or phone), when, what, how much."""

    member_id: int | None
    phone: str | None
    on: date
    kind: str
    amount: str
    ref: str


@dataclass
class ImportTally:
    files: int = 0
    rows: int = 0  # rows in the files sent (the repeated one not counted again)
    stored_before_resend: int = 0
    stored_after_resend: int = 0


@dataclass(frozen=True, slots=True)
class ChannelLine:
    """One channel as the bot counts it (``name`` None: members who came direct)."""

    name: str | None
    opened: int  # newcomers the simulation sent through its link
    brought: int  # members the bot attributes to it, in the group now
    reached: int
    conversions: int
    amount_minor: int
    service_visits: int


@dataclass(frozen=True, slots=True)
class UpliftWindow:
    days: int
    complete: bool
    attendees: int
    attendees_share: float | None
    others: int
    others_share: float | None
    standardised_share: float | None
    uplift_points: float | None


@dataclass(frozen=True, slots=True)
class BusinessFigures:
    channels: list[ChannelLine]
    workshop_touches: int  # members already in the club who opened a dealer's link
    moved_by_later_touch: int  # of them, attributed to that dealer anyway (must be 0)
    phones_shared: int
    imports: ImportTally
    reported: dict[str, int]  # kind -> rows about club members
    strangers: int  # rows about customers who are not in the club
    stored: int  # conversions the bot holds
    uplift: list[UpliftWindow]  # event attendance on service visits, 30 and 90 days
    true_lift: float


class Business:
    """Drives channels, phone sharing and conversion files through the real bot."""

    def __init__(self, programme: Programme, *, seed: int, invited: set[int]) -> None:
        """``invited``: members whom a friend's invite brings (growth opens that link)."""
        self.api = programme.api
        self.clock = programme.clock
        self.hearth = programme.hearth
        self.community = programme.community
        self.programme = programme
        self.days = programme.days
        self.rng = random.Random(seed * 104_729 + 11)
        self.by_id = {member.id: member for member in self.community.members}
        self.invited = invited
        self.links: dict[str, str] = {}  # channel name -> start payload
        self.brought: dict[int, str] = {}  # member -> channel whose link they opened first
        self.workshop_touched: set[int] = set()
        self.phones: dict[int, str] = {}  # member -> the number they shared
        self.attended: dict[int, list[int]] = {}  # member -> days they attended an event
        self.pending: list[BusinessEvent] = []  # reported, not yet sent to the bot
        self.last_file: bytes | None = None
        self.reported: Counter[str] = Counter()  # kind -> rows about club members
        self.strangers = 0
        self.imports = ImportTally()
        self._serial = 0
        self._touches: dict[int, list[ScheduledUpdate]] = {}  # day -> links opened

    # -- a day

    def plan(self, day: int) -> tuple[list[ScheduledUpdate], list[Checkpoint]]:
        at = self.community.local_time
        checkpoints: list[Checkpoint] = []
        if day == 0:
            checkpoints.append(Checkpoint(at(day, 0.4), self._create_channels()))
        checkpoints.append(Checkpoint(at(day, 21.5), self._share_phones(day)))
        if day % 7 == IMPORT_WEEKDAY or day == self.days - 1:
            checkpoints.append(Checkpoint(at(day, 18), self._send_file(day)))
        if day == self.days - 1:
            checkpoints.append(Checkpoint(at(day, 18.5), self._send_again()))
        return self._touches.pop(day, []), checkpoints

    def rewrite(self, day: int, batch: list[ScheduledUpdate]) -> list[ScheduledUpdate]:
        """Newcomers a dealer brought open its link before they join (instead of /start
        with the group's link after joining)."""
        rewritten, brought = [], set()
        for item in batch:  # in time order: a join comes before the /start that follows it
            sender = updates.sender_of(item.payload)
            if sender in brought and updates.text_of(item.payload).startswith("/start"):
                continue  # they started through the channel's link already
            rewritten.append(item)
            member = self.by_id.get(sender or 0)
            if member is None or not self._comes_through_a_channel(member, item.payload):
                continue
            name = self._pick_channel()
            brought.add(member.id)
            self.brought[member.id] = name
            opened = item.at - timedelta(minutes=self.rng.uniform(10, 120))
            rewritten.append(self._start(member, self.links[name], opened))
        rewritten.sort(key=lambda item: item.at)
        return rewritten

    async def after_day(self, day: int) -> None:
        """Who attended today's events, then what the dealers saw today."""
        async with self.hearth.uow_factory() as uow:
            for event in self.programme.events:
                if event.held_on == day and event.event_id is not None:
                    for member_id in await uow.events.attendees(event.event_id):
                        self.attended.setdefault(member_id, []).append(day)
        self._conversions(day)

    # -- channels and phone numbers

    def _create_channels(self) -> Action:
        async def action() -> int:
            sent = 0
            for name, _share, _factor in CHANNELS:
                since = len(self.api.delivered)
                sent += await self.programme.operator_says(f"/channel_new {name}")
                for answer in self.api.delivered[since:]:
                    link = _LINK.search(str(answer.get("text") or answer.get("caption") or ""))
                    if link is not None:
                        self.links[name] = link.group(1)
                        break
            assert len(self.links) == len(CHANNELS), "the bot gave no link for a channel"
            return sent

        return action

    def _comes_through_a_channel(self, member: SyntheticMember, payload: updates.JsonDict) -> bool:
        return (
            bool(self.links)
            and member.starts_bot
            and member.id not in self.invited
            and member.join_day is not None
            and updates.joins(payload)
            and self.rng.random() < CHANNEL_SHARE
        )

    def _pick_channel(self) -> str:
        names = [name for name, _share, _factor in CHANNELS]
        weights = [share for _name, share, _factor in CHANNELS]
        return self.rng.choices(names, weights)[0]

    def _share_phones(self, day: int) -> Action:
        """Members who use the bot (and are around) share their number on one evening."""

        async def action() -> int:
            sent = 0
            for member in self.community.members:
                if (
                    not member.starts_bot
                    or member.id in self.phones
                    or not member.present_on(day)
                    or (member.join_day or 0) >= day
                    or self.rng.random() >= PHONE_SHARE / 7
                ):
                    continue
                phone = f"+86138{member.id % 100_000_000:08d}"
                chat = updates.private(member.user)
                at = self.clock.now() + timedelta(seconds=5)
                contact = {
                    "phone_number": phone.removeprefix("+"),  # Telegram may leave out the +
                    "first_name": member.user["first_name"],
                    "user_id": member.id,
                }
                await self.programme.deliver_now(
                    ScheduledUpdate(at, updates.message(chat, member.user, "/phone", at))
                )
                later = at + timedelta(seconds=20)
                await self.programme.deliver_now(
                    ScheduledUpdate(
                        later, updates.message(chat, member.user, None, later, contact=contact)
                    )
                )
                self.phones[member.id] = phone
                sent += 2
            return sent

        return action

    # -- conversions

    def _conversions(self, day: int) -> None:
        on = self.community.first_day + timedelta(days=day)
        factors = {name: factor for name, _share, factor in CHANNELS}
        for member in self.community.members:
            if not member.present_on(day):
                continue
            keen = 0.5 + self.programme.habits[member.id].engagement
            factor = keen * factors.get(self.brought.get(member.id, ""), 1.0)
            if any(0 < day - held <= LIFT_DAYS for held in self.attended.get(member.id, [])):
                factor *= ATTENDANCE_LIFT
            if self.rng.random() < SERVICE_PER_DAY * factor:
                self._report(member, on, "service", self.rng.uniform(600, 2_500))
                if member.id not in self.brought and self.rng.random() < WORKSHOP_TOUCH:
                    self._touch_at_the_workshop(member, day)
            if self.rng.random() < PURCHASE_PER_DAY * factor:
                self._report(member, on, "purchase", self.rng.uniform(150_000, 320_000))
            elif self.rng.random() < TRADE_IN_PER_DAY * factor:
                self._report(member, on, "trade_in", self.rng.uniform(60_000, 180_000))
        for _ in range(self.rng.randrange(STRANGERS_PER_WEEK * 2) // 7):
            self._serial += 1
            self.strangers += 1
            amount = f"{self.rng.uniform(600, 2_500):.2f}"
            stranger = BusinessEvent(
                None, f"+86139{self._serial:08d}", on, "service", amount, f"SV{self._serial}"
            )
            self.pending.append(stranger)

    def _report(self, member: SyntheticMember, on: date, kind: str, amount: float) -> None:
        self._serial += 1
        phone = self.phones.get(member.id)
        # Dealers know the number when the member shared it with them too; else the id.
        by_phone = phone is not None and self.rng.random() < 0.5
        self.pending.append(
            BusinessEvent(
                None if by_phone else member.id,
                phone if by_phone else None,
                on,
                kind,
                f"{amount:.2f}",
                f"{kind[:2].upper()}{self._serial}",
            )
        )
        self.reported[kind] += 1

    def _touch_at_the_workshop(self, member: SyntheticMember, day: int) -> None:
        """A member already in the club opens the dealer's link after a visit to its workshop;
        the bot records the touch but keeps them where they came from."""
        name = CHANNELS[0][0] if self.rng.random() < 0.6 else CHANNELS[1][0]
        if name not in self.links or not member.starts_bot:
            return
        at = self.community.local_time(day + 1, self.rng.uniform(9, 17))  # the next morning
        self._touches.setdefault(day + 1, []).append(self._start(member, self.links[name], at))
        self.workshop_touched.add(member.id)

    def _send_file(self, day: int) -> Action:
        async def action() -> int:
            if not self.pending:
                return 0
            content = _csv(self.pending)
            self.imports.rows += len(self.pending)
            self.pending = []
            self.last_file = content
            return await self._operator_sends(content, f"dealers-week-{day // 7 + 1}.csv")

        return action

    def _send_again(self) -> Action:
        """The operator sends the last file once more: nothing may change."""

        async def action() -> int:
            if self.last_file is None:
                return 0
            self.imports.stored_before_resend = await self._stored()
            sent = await self._operator_sends(self.last_file, "dealers-again.csv")
            self.imports.stored_after_resend = await self._stored()
            return sent

        return action

    async def _stored(self) -> int:
        async with self.hearth.uow_factory() as uow:
            return await uow.conversions.count(self.community.chat_id)

    async def _operator_sends(self, content: bytes, name: str) -> int:
        operator = self.programme.operator
        document = self.api.add_file(content, name, "text/csv")
        at = self.clock.now() + timedelta(seconds=10)
        payload = updates.message(
            updates.private(operator),
            operator,
            None,
            at,
            document=document,
            caption="/import_conversions",
            caption_entities=[{"type": "bot_command", "offset": 0, "length": 19}],
        )
        await self.programme.deliver_now(ScheduledUpdate(at, payload))
        self.imports.files += 1
        return 1

    def _start(self, member: SyntheticMember, payload: str, at: datetime) -> ScheduledUpdate:
        chat = updates.private(member.user)
        return ScheduledUpdate(at, updates.message(chat, member.user, f"/start {payload}", at))

    # -- the figures

    async def figures(self, now: datetime, today: date) -> BusinessFigures:
        """What the bot counts, by channel and for attendance, beside the simulation's truth."""
        community_id = self.community.chat_id
        first = self.community.first_day
        last = today - timedelta(days=1)
        async with self.hearth.uow_factory() as uow:
            profile = await uow.communities.get(community_id)
            assert profile is not None
            report = await channels.report(uow, profile, last=last, days=self.days, now=now)
            moved = 0
            for member_id in sorted(self.workshop_touched):
                moved += community_id in await channels.brought_by(uow, member_id)
            pooled = await attribution.event_attendance_uplift_on_service_visits(
                uow, profile, first=first, last=last, today=today
            )
            stored = await uow.conversions.count(community_id)
        opened = Counter(self.brought.values())
        lines = [
            _channel_line(each, opened[each.channel.name] if each.channel else 0)
            for each in [*report.channels, report.direct]
        ]
        return BusinessFigures(
            channels=lines,
            workshop_touches=len(self.workshop_touched),
            moved_by_later_touch=moved,
            phones_shared=len(self.phones),
            imports=self.imports,
            reported=dict(self.reported),
            strangers=self.strangers,
            stored=stored,
            uplift=[_uplift(window) for window in pooled.windows],
            true_lift=ATTENDANCE_LIFT,
        )


def _csv(rows: list[BusinessEvent]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["telegram_id", "phone", "date", "kind", "amount", "ref"])
    for row in rows:
        writer.writerow(
            [
                row.member_id or "",
                row.phone or "",
                row.on.isoformat(),
                row.kind,
                row.amount,
                row.ref,
            ]
        )
    return out.getvalue().encode()


def _channel_line(figures: ChannelFigures, opened: int) -> ChannelLine:
    kinds = figures.conversions
    return ChannelLine(
        name=figures.channel.name if figures.channel else None,
        opened=opened,
        brought=figures.brought,
        reached=figures.reached,
        conversions=sum(count for count, _amount in kinds.values()),
        amount_minor=sum(amount for _count, amount in kinds.values()),
        service_visits=kinds.get(ConversionKind.SERVICE.value, (0, 0))[0],
    )


def _uplift(window: WindowFigures) -> UpliftWindow:
    others = window.comparison(ComparisonKind.OTHERS)
    group = others.group if others is not None else None
    return UpliftWindow(
        days=window.days,
        complete=window.complete,
        attendees=window.participants.members,
        attendees_share=window.participants.share,
        others=group.members if group is not None else 0,
        others_share=group.share if group is not None else None,
        standardised_share=others.standardised_share if others is not None else None,
        uplift_points=others.uplift_points if others is not None else None,
    )
