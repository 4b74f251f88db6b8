"""A synthetic owners' club: members with habits, who join, talk, react, drift and leave."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hearth.domain.deep_links import community_payload
from hearth.simulate import updates
from hearth.simulate.updates import JsonDict

FIRST_NAMES_EN = ("Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Chris")
FIRST_NAMES_ZH = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰")
CHATTER = (
    "Morning everyone!",
    "Anyone tried the new winter tyres?",
    "Just finished a road trip, 800 km without a problem.",
    "车友们好！",
    "周末有人一起去保养吗？",
    "Great photo!",
    "Which oil do you use?",
    "今天天气不错，适合自驾。",
)

REVIVED_RATE = 0.4  # messages per day of a member a nudge brought back, while it lasts


@dataclass(frozen=True, slots=True)
class SyntheticMember:
    """One simulated member and their habits."""

    user: JsonDict
    messages_per_day: float  # on a good day, before drift
    peak_hour: int  # local hour around which they are active
    join_day: int | None  # None: already in the group before the simulation
    leave_day: int | None
    starts_bot: bool
    drift_per_day: float  # 0: steady; >0: slowly losing interest
    checkin_habit: float  # chance of checking in on a day they are around

    @property
    def id(self) -> int:
        return int(self.user["id"])

    def present_on(self, day: int) -> bool:
        joined = self.join_day is None or self.join_day <= day
        return joined and (self.leave_day is None or day < self.leave_day)

    def rate_on(self, day: int, weekday: int) -> float:
        weekend = 1.4 if weekday >= 5 else 1.0
        return self.messages_per_day * weekend * (1.0 - self.drift_per_day) ** day


@dataclass(frozen=True, slots=True)
class ScheduledUpdate:
    """An update and the moment it happens."""

    at: datetime
    payload: JsonDict


class SyntheticCommunity:
    """Generates a community's updates day by day, reproducibly from a seed."""

    def __init__(
        self,
        *,
        chat_id: int,
        title: str,
        members: int,
        days: int,
        seed: int,
        timezone: str,
        first_day: date,
        operator_id: int,
    ) -> None:
        self.rng = random.Random(seed)
        self.chat = updates.group(chat_id, title)
        self.chat_id = chat_id
        self.days = days
        self.zone = ZoneInfo(timezone)
        self.first_day = first_day
        self.operator = updates.user(operator_id, "Olivia", username="club_operator")
        self.members = [self._member(10_000 + index) for index in range(members)]
        self._message_ids = 0
        self._recent: list[tuple[int, JsonDict]] = []  # (message_id, author) to reply to
        self._revived: dict[int, int] = {}  # member id -> last day of renewed interest
        self._joined_at: dict[int, datetime] = {}  # member id -> when they joined the group

    def _member(self, user_id: int) -> SyntheticMember:
        rng = self.rng
        chinese = rng.random() < 0.4
        name = rng.choice(FIRST_NAMES_ZH if chinese else FIRST_NAMES_EN)
        lurker = rng.random() < 0.3
        joins_later = rng.random() < 0.25
        join_day = rng.randrange(1, self.days) if joins_later and self.days > 1 else None
        leaves = rng.random() < 0.08 and self.days > 2
        leave_day = rng.randrange((join_day or 0) + 1, self.days + 1) if leaves else None
        return SyntheticMember(
            user=updates.user(
                user_id,
                name,
                username=f"member{user_id}",
                language_code="zh-hans" if chinese else rng.choice(("en", "en-GB", "de")),
            ),
            messages_per_day=0.05 if lurker else rng.lognormvariate(0.0, 0.8),
            peak_hour=int(rng.triangular(7, 23, 19)),
            join_day=join_day,
            leave_day=leave_day,
            starts_bot=rng.random() < 0.35,
            drift_per_day=0.08 if rng.random() < 0.15 else 0.0,
            checkin_habit=0.0 if lurker and rng.random() < 0.5 else rng.uniform(0.2, 0.95),
        )

    def revive(self, member_id: int, until_day: int) -> None:
        """A member answered a nudge: they talk at least at ``REVIVED_RATE`` until then."""
        self._revived[member_id] = max(until_day, self._revived.get(member_id, -1))

    def was_revived(self, member_id: int) -> bool:
        """Whether a nudge ever brought the member back."""
        return member_id in self._revived

    def local_time(self, day: int, hour: float) -> datetime:
        start = datetime.combine(self.first_day + timedelta(days=day), datetime.min.time())
        return start.replace(tzinfo=self.zone) + timedelta(hours=hour)

    def setup(self) -> list[ScheduledUpdate]:
        """The operator adds the bot to the group as an administrator."""
        at = self.local_time(0, 8)
        bot = updates.user(0, "Hearth", is_bot=True)  # the id is filled in by the runner
        return [
            ScheduledUpdate(
                at,
                updates.chat_member_update(
                    self.chat,
                    bot,
                    "left",
                    "administrator",
                    at,
                    actor=self.operator,
                    kind="my_chat_member",
                ),
            )
        ]

    def day(self, day: int) -> list[ScheduledUpdate]:
        """Every update of one simulated day, in time order."""
        weekday = (self.first_day + timedelta(days=day)).weekday()
        scheduled: list[ScheduledUpdate] = []
        slots: list[tuple[datetime, bool, SyntheticMember]] = []  # (when, talks?, who)
        for member in self.members:
            scheduled += self._membership_changes(member, day)
            if not member.present_on(day):
                continue
            # On their join day, members take part only once they are in the group.
            joined = self._joined_at.get(member.id) if member.join_day == day else None
            rate = member.rate_on(day, weekday)
            if self._revived.get(member.id, -1) >= day:  # a nudge brought them back
                rate = max(rate, REVIVED_RATE)
            for _ in range(self._poisson(rate)):
                hour = min(23.99, max(0.0, self.rng.gauss(member.peak_hour, 2.0)))
                slots.append((_after(self.local_time(day, hour), joined), True, member))
            if self.rng.random() < min(0.9, rate * 0.4):
                at = self.local_time(day, self.rng.uniform(7, 23.9))
                slots.append((_after(at, joined), False, member))
            if self.rng.random() < member.checkin_habit * (1.0 - member.drift_per_day) ** day:
                hour = min(23.9, max(6.0, self.rng.gauss(member.peak_hour - 1, 1.5)))
                scheduled.append(self._check_in(member, _after(self.local_time(day, hour), joined)))
        # Materialise in time order, so that replies point at earlier messages.
        for at, talks, member in sorted(slots, key=lambda slot: (slot[0], slot[2].id)):
            scheduled.append(self._talk(member, at) if talks else self._react(member, at))
        scheduled.sort(key=lambda item: item.at)
        return scheduled

    def redeemers(self, day: int) -> list[SyntheticMember]:
        """Members who look at the rewards store today (those who started the bot)."""
        return [
            member
            for member in self.members
            if member.starts_bot and member.present_on(day) and self.rng.random() < 0.03
        ]

    def _membership_changes(self, member: SyntheticMember, day: int) -> list[ScheduledUpdate]:
        changes: list[ScheduledUpdate] = []
        if member.join_day == day:
            at = self.local_time(day, self.rng.uniform(8, 22))
            self._joined_at[member.id] = at
            changes.append(
                ScheduledUpdate(
                    at, updates.chat_member_update(self.chat, member.user, "left", "member", at)
                )
            )
            if member.starts_bot:
                start_at = at + timedelta(minutes=self.rng.uniform(1, 30))
                payload = updates.message(
                    updates.private(member.user),
                    member.user,
                    f"/start {community_payload(self.chat_id)}",
                    start_at,
                )
                changes.append(ScheduledUpdate(start_at, payload))
        elif member.join_day is None and day == 0 and member.starts_bot:
            at = self.local_time(0, self.rng.uniform(9, 22))
            payload = updates.message(updates.private(member.user), member.user, "/start", at)
            changes.append(ScheduledUpdate(at, payload))
        if member.leave_day == day:
            at = self.local_time(day, self.rng.uniform(0, 23.9))
            changes.append(
                ScheduledUpdate(
                    at, updates.chat_member_update(self.chat, member.user, "member", "left", at)
                )
            )
        return changes

    def _talk(self, member: SyntheticMember, at: datetime) -> ScheduledUpdate:
        self._message_ids += 1
        reply_to = None
        if self._recent and self.rng.random() < 0.25:
            message_id, author = self.rng.choice(self._recent)
            reply_to = {
                "message_id": message_id,
                "date": updates.timestamp(at) - 60,
                "chat": self.chat,
                "from": author,
                "text": "…",
            }
        payload = updates.message(
            self.chat,
            member.user,
            self.rng.choice(CHATTER),
            at,
            message_id=self._message_ids,
            reply_to=reply_to,
        )
        self._recent = [*self._recent[-49:], (self._message_ids, member.user)]
        return ScheduledUpdate(at, payload)

    def _check_in(self, member: SyntheticMember, at: datetime) -> ScheduledUpdate:
        self._message_ids += 1
        payload = updates.message(
            self.chat, member.user, "/checkin", at, message_id=self._message_ids
        )
        return ScheduledUpdate(at, payload)

    def _react(self, member: SyntheticMember, at: datetime) -> ScheduledUpdate:
        message_id = self.rng.choice(self._recent)[0] if self._recent else 1
        payload = updates.reaction(self.chat, member.user, at, message_id=message_id)
        return ScheduledUpdate(at, payload)

    def _poisson(self, rate: float) -> int:
        # Knuth's method; rates here are small.
        limit, count, product = math.exp(-rate), 0, self.rng.random()
        while product > limit:
            count += 1
            product *= self.rng.random()
        return count


def _after(at: datetime, joined: datetime | None) -> datetime:
    """``at``, or a few minutes after ``joined`` if that is later (nobody talks in a group
    before joining it)."""
    if joined is None or at > joined:
        return at
    return min(joined + timedelta(minutes=3), joined.replace(hour=23, minute=59))
