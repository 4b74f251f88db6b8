"""The Protocols services need; storage and bot provide the real adapters, tests provide fakes."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from hearth.domain.activity import ActivityDay, ActivityKind, ActivityRecord
from hearth.domain.announcements import Announcement, NewAnnouncement, RunStatus
from hearth.domain.attribution import MemberConversion
from hearth.domain.cars import (
    CarProfile,
    ServiceDue,
    ServiceRequest,
    ServiceRequestLine,
    ServiceSettings,
)
from hearth.domain.channels import Channel, ChannelTouch, ConversionTally, MemberJoin
from hearth.domain.cohorts import CohortCounts, Movement
from hearth.domain.conversions import Conversion, ConversionKind
from hearth.domain.delivery import OutboxCounts, OutboxStatus, OutgoingMessage, QueuedMessage
from hearth.domain.draws import Draw, DrawStatus, Entry, NewDraw
from hearth.domain.engagement import MemberFacts, MemberStanding
from hearth.domain.events import Event, EventDraft, MemberEvent, RsvpCounts, RsvpStatus
from hearth.domain.exit_survey import Departures, ExitReason
from hearth.domain.exports import ConversionEntry, LedgerEntry
from hearth.domain.feedback import FeedbackDraft, FeedbackItem, FeedbackLine, FeedbackStatus
from hearth.domain.greetings import Birthday, Greeting, GreetingCandidate
from hearth.domain.honour import (
    Board,
    HonourMetric,
    HonourReport,
    MetricDraft,
    NewReport,
    ReportStatus,
)
from hearth.domain.lifecycle import LifecycleRules, Stage, StageChange, StageState
from hearth.domain.members import (
    ChatRole,
    CommunityProfile,
    JoinVia,
    MemberProfile,
    MembershipView,
    Person,
)
from hearth.domain.missions import Mission, Programme
from hearth.domain.nudges import (
    Candidate,
    Decision,
    NudgeFacts,
    NudgeKind,
    NudgeMessage,
    NudgeOutcomes,
    NudgePreference,
    NudgeRecord,
    NudgeSettings,
    NudgeTemplate,
    SkipReason,
)
from hearth.domain.points import ExpiringLot, LedgerLine, Lot, NewEntry, ReminderTarget, Tier
from hearth.domain.profile import ProfileQuestion
from hearth.domain.quizzes import (
    AnswerLine,
    PostedPoll,
    Question,
    QuizPoll,
    QuizRound,
    QuizSchedule,
    RoundResult,
    RoundStatus,
    StoredAnswer,
)
from hearth.domain.referrals import Referral, ReferralCounts
from hearth.domain.rewards import NewReward, Redemption, RedemptionLine, RedemptionStatus, Reward
from hearth.domain.rfm import Segment
from hearth.domain.segments import MemberFilter, MemberRecord, Selection, StandingsSummary
from hearth.domain.streaks import CheckinOutcome, StreakState

if TYPE_CHECKING:  # value types that live with their services
    from hearth.services.cars import CarView
    from hearth.services.digest import Digest


class Clock(Protocol):
    """Where services get the time; tests and the simulator control it."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class CommunityRepository(Protocol):
    async def get(self, community_id: int) -> CommunityProfile | None: ...

    async def add(
        self, community_id: int, title: str, *, timezone: str, locale: str, now: datetime
    ) -> bool:
        """Insert a community unless it exists; True when it was new."""
        ...

    async def update(self, community_id: int, **changes: Any) -> None:
        """Change stored fields (title, active, bot_is_admin, welcome_enabled, …)."""
        ...

    async def active(self) -> list[CommunityProfile]: ...


class MemberRepository(Protocol):
    async def get(self, member_id: int) -> MemberProfile | None: ...

    async def upsert(self, person: Person, now: datetime) -> None:
        """Insert a member or refresh their names and Telegram language."""
        ...

    async def update(self, member_id: int, **changes: Any) -> None:
        """Change stored fields (locale, started_bot, started_at, reachable)."""
        ...

    async def by_username(self, username: str) -> MemberProfile | None: ...

    async def first_names(self, member_ids: Collection[int]) -> dict[int, str]:
        """The first name of each of the members Hearth knows."""
        ...


class MembershipRepository(Protocol):
    async def get(self, community_id: int, member_id: int) -> MembershipView | None: ...

    async def add(
        self,
        community_id: int,
        member_id: int,
        *,
        role: ChatRole,
        now: datetime,
        via: JoinVia = JoinVia.JOIN,
    ) -> bool:
        """Insert a current membership unless one exists; True when it was new."""
        ...

    async def rejoin(self, community_id: int, member_id: int, now: datetime) -> None: ...

    async def leave(self, community_id: int, member_id: int, now: datetime) -> None: ...

    async def set_role(self, community_id: int, member_id: int, role: ChatRole) -> None: ...

    async def communities_of(self, member_id: int) -> list[CommunityProfile]:
        """Active communities the member currently belongs to."""
        ...

    async def count_current(self, community_id: int) -> int: ...

    async def set_reminder_hour(
        self, community_id: int, member_id: int, hour: int | None
    ) -> None: ...

    async def reminder_targets(self) -> list[ReminderTarget]:
        """Current, reachable members who asked for a daily check-in reminder."""
        ...

    async def count_reachable(self, community_id: int) -> int:
        """Current members who started the bot and have not blocked it."""
        ...

    async def tiers(self, community_id: int) -> dict[int, str]:
        """The tier last announced to each current member."""
        ...

    async def set_tier(self, community_id: int, member_id: int, tier: str) -> None: ...


class ActivityRepository(Protocol):
    async def add_many(self, records: Iterable[ActivityRecord]) -> None:
        """Insert records, skipping any already stored for the same update."""
        ...

    async def daily_members(
        self, community_id: int, first: date, last: date, kinds: Iterable[ActivityKind]
    ) -> dict[date, int]:
        """Distinct members with activity of the given kinds, per local day."""
        ...

    async def distinct_members(
        self, community_id: int, first: date, last: date, kinds: Iterable[ActivityKind]
    ) -> int: ...


class CheckinRepository(Protocol):
    async def latest(self, community_id: int, member_id: int) -> StreakState | None: ...

    async def add(
        self, community_id: int, member_id: int, outcome: CheckinOutcome, at: datetime
    ) -> bool:
        """Store today's check-in; False when the member already has one for that day."""
        ...

    async def streaks_on(self, community_id: int, day: date) -> list[tuple[int, str, int]]:
        """(member id, first name, streak) of the day's check-ins, longest streak first."""
        ...

    async def mark_reminded(
        self, community_id: int, member_id: int, day: date, now: datetime
    ) -> bool:
        """Record today's reminder; False when one was sent already."""
        ...


class PointsRepository(Protocol):
    async def add_entry(self, entry: NewEntry) -> int | None:
        """Write an entry; its id, or None when its key was written before."""
        ...

    async def has_entry(self, key: str) -> bool: ...

    async def change_balance(
        self, community_id: int, member_id: int, delta: int, now: datetime
    ) -> int | None:
        """Add ``delta`` to the balance unless it would go below zero; the new balance or None."""
        ...

    async def balance(self, community_id: int, member_id: int) -> int: ...

    async def ledger_sum(self, community_id: int, member_id: int) -> int: ...

    async def lots(self, community_id: int, member_id: int) -> list[Lot]:
        """Credits with points left, locked for this transaction where the database can."""
        ...

    async def take_from_lot(self, lot_id: int, amount: int) -> None: ...

    async def earned(self, community_id: int, member_id: int, since: datetime) -> int:
        """Points credited (earned and granted) since ``since``."""
        ...

    async def recent(self, community_id: int, member_id: int, limit: int) -> list[LedgerLine]: ...

    async def earned_by_member(
        self, community_id: int, since: datetime | None
    ) -> list[tuple[int, str, int]]:
        """(member id, first name, points credited since) for current members, most first."""
        ...

    async def due_lots(self, now: datetime, limit: int) -> list[tuple[int, int, int]]:
        """(community id, member id, lot id) of credits past expiry with points left."""
        ...

    async def credit_times(
        self, community_id: int, member_ids: Sequence[int], reason: str, since: datetime
    ) -> dict[int, list[datetime]]:
        """When each member was credited for ``reason`` since ``since``."""
        ...

    async def earned_by_members(
        self, community_id: int, member_ids: Sequence[int], since: datetime
    ) -> dict[int, int]:
        """Points credited since ``since``, for each of the members."""
        ...

    async def add_credits(self, entries: Sequence[NewEntry]) -> list[tuple[int, int, int]]:
        """Write credits in one statement; (community, member, amount) of the new ones."""
        ...

    async def add_to_balances(
        self, community_id: int, amounts: Mapping[int, int], now: datetime
    ) -> None:
        """Add positive amounts to several members' balances at once."""
        ...

    async def totals_by_kind(self, community_id: int) -> dict[str, int]:
        """The sum of the ledger's amounts per entry kind."""
        ...

    async def outstanding(self, community_id: int) -> int:
        """The sum of all members' balances."""
        ...

    async def lots_expiring(self, start: datetime, end: datetime) -> list[ExpiringLot]:
        """Lots with points left that expire after ``start`` and no later than ``end``."""
        ...

    async def mark_reminded(self, lot_id: int, days_before: int, now: datetime) -> bool:
        """Record an expiry reminder; False when it was sent already."""
        ...


class RewardsRepository(Protocol):
    """Rewards, voucher codes and redemptions. Never commits."""

    async def add(
        self, community_id: int, reward: NewReward, *, actor_id: int | None, now: datetime
    ) -> Reward: ...

    async def get(self, reward_id: int) -> Reward | None: ...

    async def active(self, community_id: int) -> list[Reward]:
        """Rewards not archived, cheapest first."""
        ...

    async def archive(self, reward_id: int, now: datetime) -> bool:
        """Withdraw a reward; False when it was archived already."""
        ...

    async def take_one(self, reward_id: int) -> Reward | None:
        """Take one unit in one conditional statement; None when archived or sold out."""
        ...

    async def put_back(self, reward_id: int) -> None:
        """Return one unit to a limited stock (an unlimited one stays unlimited)."""
        ...

    async def add_codes(self, reward_id: int, codes: Sequence[str]) -> int:
        """Add codes to the reward's pool, skipping known ones; how many were new."""
        ...

    async def codes_left(self, reward_ids: Collection[int]) -> dict[int, int]: ...

    async def take_code(self, reward_id: int, redemption_id: int) -> str | None:
        """Hand a free code to the redemption; None when the pool is empty."""
        ...

    async def release_code(self, redemption_id: int) -> None: ...

    async def claim(self, reward: Reward, member_id: int, *, key: str, now: datetime) -> int | None:
        """Insert a pending redemption; its id, or None when ``key`` was claimed before."""
        ...

    async def redemption(self, redemption_id: int) -> Redemption | None: ...

    async def redemption_by_key(self, key: str) -> Redemption | None: ...

    async def redeemed_counts(self, member_id: int, reward_ids: Collection[int]) -> dict[int, int]:
        """The member's redemptions per reward that were not cancelled."""
        ...

    async def change_status(
        self,
        redemption_id: int,
        *,
        was: RedemptionStatus,
        becomes: RedemptionStatus,
        actor_id: int,
        now: datetime,
    ) -> Redemption | None:
        """Move a redemption on if its status is still ``was``; None otherwise."""
        ...

    async def pending(self, community_ids: Collection[int], limit: int) -> list[RedemptionLine]:
        """Pending redemptions, oldest first."""
        ...

    async def count_pending(self, community_ids: Collection[int]) -> int: ...


class EventsRepository(Protocol):
    """Events, RSVPs, attendance and feedback. Never commits."""

    async def add(
        self,
        community_id: int,
        draft: EventDraft,
        *,
        code: str,
        actor_id: int | None,
        now: datetime,
    ) -> Event | None:
        """Store a scheduled event; None when ``code`` belongs to another event already."""
        ...

    async def get(self, event_id: int, *, lock: bool = False) -> Event | None:
        """An event; ``lock`` serialises RSVPs to it until the transaction ends."""
        ...

    async def by_code(self, code: str) -> Event | None: ...

    async def set_card(self, event_id: int, message_id: int | None) -> None: ...

    async def change(self, event_id: int, now: datetime, **changes: Any) -> Event | None:
        """Change a scheduled event's fields; None when it is cancelled or unknown."""
        ...

    async def cancel(self, event_id: int, now: datetime) -> bool:
        """Cancel a scheduled event; False when it was cancelled already."""
        ...

    async def upcoming(
        self, community_ids: Collection[int], now: datetime, limit: int
    ) -> list[Event]:
        """Scheduled events that have not ended, soonest first."""
        ...

    async def of_community(self, community_id: int, now: datetime, limit: int) -> list[Event]:
        """A community's events, cancelled ones included: up to ``limit`` that have not
        ended, soonest first, then up to ``limit`` that have, latest first."""
        ...

    async def starting_between(self, start: datetime, end: datetime) -> list[Event]: ...

    async def awaiting_feedback(
        self, ended_after: datetime, ended_before: datetime
    ) -> list[Event]: ...

    async def mark_feedback_requested(self, event_id: int, now: datetime) -> bool: ...

    async def rsvp(self, event_id: int, member_id: int) -> RsvpStatus | None: ...

    async def set_rsvp(
        self, event_id: int, member_id: int, status: RsvpStatus, now: datetime
    ) -> None: ...

    async def counts(self, event_id: int) -> RsvpCounts: ...

    async def first_waitlisted(self, event_id: int, limit: int) -> list[int]:
        """Member ids at the head of the waitlist, first come first."""
        ...

    async def members_with(self, event_id: int, statuses: Collection[RsvpStatus]) -> list[int]: ...

    async def to_remind(self, event_id: int, hours: int) -> list[int]:
        """Going, reachable members not yet reminded ``hours`` (or fewer) before the start."""
        ...

    async def mark_reminded(self, event_id: int, member_id: int, hours: int) -> None: ...

    async def attend(self, event_id: int, member_id: int, now: datetime) -> bool:
        """Record attendance; False when it was recorded before."""
        ...

    async def attended(self, event_id: int, member_id: int) -> bool: ...

    async def attendees(self, event_id: int) -> list[int]: ...

    async def save_feedback(
        self, event_id: int, member_id: int, now: datetime, **answers: int | str | None
    ) -> None: ...

    async def feedback(self, event_id: int) -> list[tuple[int | None, int | None, str | None]]:
        """(rating, recommend, comment) per attendee who answered."""
        ...


class AnnouncementRepository(Protocol):
    """Announcements and the record of their runs. Never commits."""

    async def add(
        self, announcement: NewAnnouncement, *, actor_id: int | None, now: datetime
    ) -> Announcement: ...

    async def get(self, announcement_id: int) -> Announcement | None:
        """An announcement that is not deleted."""
        ...

    async def of_communities(self, community_ids: Collection[int]) -> list[Announcement]:
        """Announcements not deleted and not finished, oldest first."""
        ...

    async def scheduled(self) -> list[Announcement]:
        """Every announcement that may still run: not paused, deleted or finished."""
        ...

    async def set_paused(self, announcement_id: int, paused: bool, now: datetime) -> bool:
        """Pause or resume; False when it already was."""
        ...

    async def delete(self, announcement_id: int, now: datetime) -> bool: ...

    async def finish(self, announcement_id: int, now: datetime) -> None: ...

    async def record_run(
        self, announcement_id: int, scheduled_for: datetime, status: RunStatus, now: datetime
    ) -> bool:
        """Claim one scheduled instant; False when it was decided before."""
        ...

    async def last_runs(self, announcement_ids: Collection[int]) -> dict[int, datetime]: ...

    async def runs(self, announcement_id: int) -> list[tuple[datetime, RunStatus]]: ...

    async def private_audience(self, community_id: int) -> list[MemberProfile]:
        """Current members who started the bot, can be reached and did not opt out."""
        ...

    async def set_private_copies(
        self, member_id: int, community_ids: Collection[int], enabled: bool, now: datetime
    ) -> None: ...


class GreetingsRepository(Protocol):
    """Birthdays and the greetings opt-in. Never commits."""

    async def set_birthday(
        self, member_id: int, birthday: Birthday | None, now: datetime
    ) -> None: ...

    async def birthday(self, member_id: int) -> Birthday | None: ...

    async def set_greetings(
        self, member_id: int, community_ids: Collection[int], enabled: bool, now: datetime
    ) -> None: ...

    async def greetings_on(self, member_id: int) -> bool: ...

    async def candidates(self, community_id: int) -> list[GreetingCandidate]:
        """Current members who opted in, started the bot and can be reached."""
        ...


class AuditLog(Protocol):
    async def record(
        self,
        *,
        actor_id: int,
        action: str,
        community_id: int | None,
        details: Mapping[str, Any],
        now: datetime,
    ) -> None: ...


class ProcessedUpdates(Protocol):
    async def add_many(self, update_ids: Iterable[int], now: datetime) -> None: ...

    async def claim(self, update_id: int, now: datetime) -> bool:
        """Record the update as handled; False when another worker recorded it first."""
        ...

    async def since(self, moment: datetime) -> set[int]: ...

    async def prune(self, before: datetime) -> int: ...


class OutboxRepository(Protocol):
    """Messages the bot sends on its own initiative, each under a unique dedupe key."""

    async def add(self, message: OutgoingMessage, now: datetime) -> bool:
        """Queue a message unless its dedupe key is known; True when it was new."""
        ...

    async def replace_queued(self, message: OutgoingMessage, now: datetime) -> None:
        """Queue a message, or refresh the payload of the unsent one with the same key."""
        ...

    async def due(self, now: datetime, limit: int, lease: timedelta = ...) -> list[QueuedMessage]:
        """Lease due messages to this worker (others skip them until the lease runs out)."""
        ...

    async def release(self, message_ids: Sequence[int]) -> None:
        """Give leased, unstarted messages back to every worker."""
        ...

    async def next_due_at(self) -> datetime | None: ...

    async def claim(self, message_id: int, now: datetime) -> bool: ...

    async def sent(
        self, message_id: int, now: datetime, telegram_message_id: int | None
    ) -> None: ...

    async def retry(self, message_id: int, not_before: datetime, error: str) -> None: ...

    async def give_up(self, message_id: int, status: OutboxStatus, error: str) -> None: ...

    async def expire(self, message_id: int, now: datetime) -> bool:
        """Queued and past its deadline (``not_after``) → expired, unsent; False otherwise."""
        ...

    async def block_chat(self, chat_id: int, error: str) -> int: ...

    async def interrupt_stale(self, claimed_before: datetime) -> int: ...

    async def counts(self, community_id: int | None = None) -> OutboxCounts: ...

    async def status_of(self, dedupe_key: str) -> OutboxStatus | None: ...


class QuizRepository(Protocol):
    """The question bank, rounds, the polls they posted and the answers to them."""

    async def fingerprints(self, community_id: int) -> set[str]: ...

    async def add_questions(
        self, community_id: int, questions: Sequence[Question], now: datetime, actor: int | None
    ) -> int: ...

    async def topics(self, community_id: int) -> dict[str, int]: ...

    async def questions(
        self, community_id: int, topic: str | None = None
    ) -> list[tuple[int, Question]]: ...

    async def question(self, question_id: int) -> tuple[int, Question] | None: ...

    async def recently_asked(self, community_id: int, since: datetime) -> set[int]: ...

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
    ) -> int | None: ...

    async def round(self, round_id: int) -> QuizRound | None: ...

    async def running_rounds(self, community_id: int | None = None) -> list[QuizRound]: ...

    async def advance_round(self, round_id: int, expected_position: int) -> bool: ...

    async def finish_round(
        self, round_id: int, now: datetime, status: RoundStatus = RoundStatus.FINISHED
    ) -> bool: ...

    async def rounds_since(self, community_id: int, since: datetime) -> list[QuizRound]: ...

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
    ) -> None: ...

    async def poll(self, poll_id: str) -> QuizPoll | None: ...

    async def polls_of(self, round_id: int) -> list[QuizPoll]: ...

    async def answer(self, poll_id: str, member_id: int) -> StoredAnswer | None: ...

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
    ) -> bool: ...

    async def retract_answer(self, poll_id: str, member_id: int) -> bool: ...

    async def round_answers(self, round_id: int) -> list[AnswerLine]: ...

    async def season_points(
        self, community_id: int, since: datetime, limit: int
    ) -> list[tuple[int, int, int]]: ...

    async def topic_record(self, community_id: int, member_id: int) -> list[tuple[str, bool]]: ...

    async def answered_questions(self, community_id: int, member_id: int) -> set[int]: ...

    async def practice_answers_since(self, member_id: int, since: datetime) -> int: ...

    async def add_schedule(
        self,
        community_id: int,
        spec: str,
        *,
        topic: str | None,
        questions: int,
        now: datetime,
        actor: int | None,
    ) -> int: ...

    async def schedules(self, community_id: int | None = None) -> list[QuizSchedule]: ...

    async def schedule(self, schedule_id: int) -> QuizSchedule | None: ...

    async def delete_schedule(self, schedule_id: int, now: datetime) -> bool: ...

    async def mark_handled(self, schedule_id: int, until: datetime) -> None: ...


class EngagementRepository(Protocol):
    """Aggregates for the lifecycle and RFM rules, and the stored standings. Never commits."""

    async def member_facts(
        self, community_id: int, today: date, timezone: str, rules: LifecycleRules
    ) -> list[MemberFacts]:
        """Every membership (current or not): its activity as of ``today``, its stored
        standing and, for current members, recency, frequency and value over the RFM window,
        tier, habits and interests."""
        ...

    async def stage_states(self, community_id: int) -> dict[int, StageState]: ...

    async def forgotten_members(self, community_id: int) -> frozenset[int]:
        """Members of the community (current or not) whose personal data was erased."""
        ...

    async def last_computed_on(self, community_id: int) -> date | None: ...

    async def save_standings(
        self, community_id: int, today: date, standings: Sequence[MemberStanding]
    ) -> None: ...

    async def add_changes(
        self, community_id: int, changes: Sequence[tuple[int, StageChange]]
    ) -> None: ...

    async def changes(self, community_id: int, member_id: int) -> list[StageChange]: ...


class NudgeRepository(Protocol):
    """Nudge decisions and outcomes, settings, templates and members' choices. Never commits."""

    async def settings(self, community_id: int) -> NudgeSettings:
        """The community's settings; the defaults when none were saved."""
        ...

    async def save_settings(
        self, community_id: int, settings: NudgeSettings, now: datetime
    ) -> None: ...

    async def claim_plan(self, community_id: int, day: date, now: datetime) -> bool:
        """Record that the local day's plan is being made; False when it was made already."""
        ...

    async def planned_on(self, community_id: int) -> date | None:
        """The local day of the community's last plan made; None before the first."""
        ...

    async def preference(self, member_id: int) -> NudgePreference:
        """The member's choice; the defaults (on, 21:00–09:00) when they never chose."""
        ...

    async def set_preference(
        self, member_id: int, preference: NudgePreference, now: datetime
    ) -> None: ...

    async def candidates(
        self, community_id: int, timezone: str, today: date, now: datetime
    ) -> list[Candidate]:
        """Current members whose last recomputed stage is declining, dormant or churned,
        with their reachability, choices, habitual local hour, past contacts in this
        community, their recent contacts in any community (for the gap between nudges)
        and the facts a nudge could mention (as of ``now``)."""
        ...

    async def facts(
        self, community_id: int, member_ids: Sequence[int], timezone: str, now: datetime
    ) -> dict[int, NudgeFacts]:
        """What a nudge could mention about each of these members as of ``now`` (as in
        ``candidates``); members with nothing to mention are left out."""
        ...

    async def record(
        self, community_id: int, planned_on: date, decisions: Sequence[Decision], now: datetime
    ) -> int:
        """Store the day's decisions, skipping members already decided for that day;
        how many were new."""
        ...

    async def count_sent(self, community_id: int, day: date) -> int:
        """Nudges planned or sent on a local day (what the daily cap counts)."""
        ...

    async def due(self, now: datetime, limit: int) -> list[NudgeRecord]:
        """Planned nudges and unconfirmed holdout contacts whose time has come, earliest
        first."""
        ...

    async def get(self, nudge_id: int) -> NudgeRecord | None: ...

    async def decided_on(self, community_id: int, day: date) -> list[NudgeRecord]:
        """A local day's decisions as they stand now, in the order the plan made them."""
        ...

    async def mark_sent(
        self,
        nudge_id: int,
        *,
        kind: NudgeKind,
        template: str,
        event_id: int | None,
        now: datetime,
    ) -> bool:
        """Planned → sent, with what it said; False when it was not planned any more
        (another worker sent it)."""
        ...

    async def mark_held_out(self, nudge_id: int, now: datetime) -> bool:
        """Confirm a holdout contact at its time (the checks a nudge would pass, passed):
        from then on it counts, like a sent nudge, in the return rates. False after the first."""
        ...

    async def mark_skipped(self, nudge_id: int, reason: SkipReason) -> bool:
        """A planned nudge or an unconfirmed holdout contact → skipped with a reason; False
        when it was dealt with already."""
        ...

    async def mark_expired(self, nudge_id: int) -> bool:
        """Sent → skipped as late: its outbox message expired before it could go. False
        when it was not (or no longer) marked sent."""
        ...

    async def mark_clicked(self, nudge_id: int, now: datetime) -> bool:
        """Record the first tap on one of the nudge's buttons; False after the first."""
        ...

    async def mark_opted_out(self, nudge_id: int, now: datetime) -> bool:
        """Record that the member stopped nudges from this one; False after the first."""
        ...

    async def clear_opted_out(self, nudge_id: int) -> bool:
        """Forget the opt-out recorded on this nudge (the member undid it); False if none."""
        ...

    async def active_on(self, community_id: int, member_id: int, day: date) -> bool:
        """Whether the member took part in the community on a local day."""
        ...

    async def record_returns(self, now: datetime) -> int:
        """Mark sent and confirmed holdout contacts whose member took part within
        ``RETURN_WINDOW_DAYS`` after the contact (``sent_at``); how many were marked."""
        ...

    async def outcomes(self, community_id: int, since: date, now: datetime) -> NudgeOutcomes:
        """Contacts decided on or after a local day, by kind, and the holdout's, matured once
        their return window is over at ``now``; and the return rates over members."""
        ...

    async def history(self, community_id: int, member_id: int) -> list[NudgeRecord]:
        """A member's decisions in a community, newest first."""
        ...

    async def templates(self, community_id: int) -> list[NudgeTemplate]: ...

    async def add_template(
        self, community_id: int, template: NudgeTemplate, actor_id: int, now: datetime
    ) -> int:
        """Store an operator's template (its ``id`` is ignored); the new id."""
        ...

    async def remove_template(self, community_id: int, template_id: int) -> bool: ...


class SegmentsRepository(Protocol):
    """The stored standings as operators read them: counts, lists, batches. Never writes."""

    async def summary(self, community_id: int) -> StandingsSummary: ...

    async def count(self, community_id: int, selection: Selection) -> int: ...

    async def page(
        self, community_id: int, selection: Selection, *, offset: int, limit: int
    ) -> list[MemberRecord]:
        """Members of the selection, high-value and most valuable first."""
        ...

    def batches(
        self, community_id: int, selection: Selection | None, size: int
    ) -> AsyncIterator[list[MemberRecord]]:
        """Every membership (or the selection's), by member id, ``size`` at a time."""
        ...

    async def count_matching(self, community_id: int, wanted: MemberFilter) -> int:
        """How many current members the filter holds."""
        ...

    async def matching(
        self, community_id: int, wanted: MemberFilter, *, offset: int, limit: int
    ) -> list[MemberRecord]:
        """Current members the filter holds, in its order (searched and sorted in SQL)."""
        ...

    async def tier_counts(self, community_id: int) -> dict[str, int]:
        """Current members per tier last announced to them, most first."""
        ...

    async def automatic_tag_counts(self, community_id: int) -> dict[str, int]:
        """Current members per automatic tag, most used first."""
        ...


class TagRepository(Protocol):
    """Operator tags on members of a community (slugs). Never commits."""

    async def add(
        self,
        community_id: int,
        member_id: int,
        tags: Sequence[str],
        *,
        actor_id: int | None,
        now: datetime,
    ) -> list[str]:
        """Tag the member; the tags that were new."""
        ...

    async def remove(self, community_id: int, member_id: int, tags: Sequence[str]) -> list[str]:
        """Untag the member; the tags they had."""
        ...

    async def of_member(self, community_id: int, member_id: int) -> list[str]: ...

    async def counts(self, community_id: int) -> dict[str, int]:
        """Current members per operator tag, most used first."""
        ...


class ExportRepository(Protocol):
    """A community's activity, ledger and events for export files. Never writes."""

    def activity(self, community_id: int, size: int) -> AsyncIterator[list[ActivityRecord]]: ...

    def ledger(self, community_id: int, size: int) -> AsyncIterator[list[LedgerEntry]]: ...

    async def events(self, community_id: int) -> list[Event]: ...


class MemberCardQueries(Protocol):
    """One member of one community as the operators' member card shows them. Never writes."""

    async def record(self, community_id: int, member_id: int) -> MemberRecord | None:
        """Names, membership, stored standing, tags, balance, streak, last active day; None
        when the member never belonged to the community."""
        ...

    async def first_action(
        self, community_id: int, member_id: int, kinds: Collection[ActivityKind]
    ) -> ActivityRecord | None:
        """The member's earliest activity of one of ``kinds`` in the community."""
        ...

    async def event_counts(self, community_id: int, member_id: int) -> tuple[int, int]:
        """(events registered for as going, events attended)."""
        ...

    async def last_attended(self, community_id: int, member_id: int) -> Event | None: ...

    async def quiz_counts(self, community_id: int, member_id: int) -> tuple[int, int]:
        """(quiz questions answered, answered right)."""
        ...

    async def activity_days(
        self, community_id: int, member_id: int, limit: int
    ) -> list[ActivityDay]:
        """The member's activity per local day and kind, the latest ``limit``, newest first."""
        ...

    async def events_of(self, community_id: int, member_id: int, limit: int) -> list[MemberEvent]:
        """Events the member answered or checked in at, the latest ``limit`` by start."""
        ...

    async def messages_received(
        self, community_id: int, member_id: int, kinds: Collection[str], since: datetime
    ) -> dict[str, int]:
        """Private messages of ``kinds`` delivered to the member since ``since``, per kind."""
        ...


class PrivacyRepository(Protocol):
    """Erases one member's personal data; each method answers how many rows it changed."""

    async def anonymise(self, member_id: int, *, name: str, now: datetime) -> int:
        """Names become ``name``; username and Telegram language go; ``forgotten_at`` set."""
        ...

    async def delete_birthday(self, member_id: int) -> int: ...

    async def delete_greeting_opt_ins(self, member_id: int) -> int: ...

    async def delete_profile_answers(self, member_id: int) -> int:
        """The member's answers to the profile questionnaire (tags ``key:option``)."""
        ...

    async def delete_operator_tags(self, member_id: int) -> int: ...

    async def clear_automatic_tags(self, member_id: int) -> int: ...

    async def clear_feedback_comments(self, member_id: int) -> int: ...

    async def blank_delivered_messages(self, member_id: int) -> int:
        """Blank the payload of private messages whose delivery is over."""
        ...

    async def names(self, member_id: int) -> list[str]:
        """The member's first name and username as stored."""
        ...

    async def blank_delivered_mentions(self, member_id: int, names: Collection[str]) -> int:
        """Blank delivered messages of the member's communities that hold one of ``names``."""
        ...

    async def delete_nudge_preference(self, member_id: int) -> int:
        """The member's nudge choice (on or off, quiet hours)."""
        ...

    async def delete_nudges(self, member_id: int) -> int:
        """Every nudge decision about the member, in every community."""
        ...

    async def delete_feedback_items(self, member_id: int) -> int:
        """What the member told the team (/feedback) and the answers."""
        ...

    async def clear_exit_answers(self, member_id: int) -> int:
        """Blank the member's exit survey answers (that they were asked stays)."""
        ...

    async def clear_honour_photos(self, member_id: int) -> int:
        """The photos the member sent as proof for honour boards (the values stay)."""
        ...


# Local days, first and last, both included; UTC instants, start included, end excluded.
DaySpan = tuple[date, date]
TimeSpan = tuple[datetime, datetime]


class InsightRepository(Protocol):
    """Aggregates behind /stats and the digest. Never commits.

    Each method answers for every span it is given, in the same order, in one statement.
    """

    async def serving_since(self, community_id: int) -> datetime | None:
        """When Hearth began to serve the community; None for an unknown community."""
        ...

    async def participation(
        self, community_id: int, spans: Sequence[DaySpan]
    ) -> list[tuple[int, int]]:
        """(member-days, distinct members) with participation activity, per span."""
        ...

    async def joins_and_leaves(
        self, community_id: int, spans: Sequence[DaySpan]
    ) -> list[tuple[int, int]]:
        """(joins, leaves) recorded, per span."""
        ...

    async def checkins(self, community_id: int, spans: Sequence[DaySpan]) -> list[int]:
        """Check-ins (one per member and local day), per span."""
        ...

    async def churned(self, community_id: int, spans: Sequence[DaySpan]) -> list[int]:
        """Distinct members who left, or whose stage became churned while still in the
        group, per span."""
        ...

    async def streaks(
        self, community_id: int, as_of: Sequence[tuple[date, datetime]]
    ) -> list[dict[int, int]]:
        """Streak length -> members, of the check-in streaks alive at the end of each local
        day, among those who were members then; ``as_of`` holds (day, instant it ends)."""
        ...

    async def first_actions(
        self, community_id: int, span: TimeSpan
    ) -> list[tuple[datetime, datetime | None]]:
        """(joined at, first meaningful action at) of the memberships that joined in
        ``span`` (joins, not members first seen taking part)."""
        ...

    async def points(self, community_id: int, spans: Sequence[TimeSpan]) -> list[tuple[int, int]]:
        """(points issued, points redeemed), per span."""
        ...

    async def attendance(
        self, community_id: int, spans: Sequence[TimeSpan]
    ) -> list[tuple[int, int]]:
        """(attendances, distinct attendees) at the community's events, per span."""
        ...


class CohortRepository(Protocol):
    """Cohorts and movements over time, aggregated by the database. Never commits."""

    async def cohort_counts(
        self, community_id: int, starts: Sequence[date], timezone: str
    ) -> CohortCounts:
        """Members per join week (local Mondays ``starts``) and how many took part in each
        week since."""
        ...

    async def stage_counts(
        self, community_id: int, first: date, last: date
    ) -> dict[date, Counter[Stage]]:
        """Members per lifecycle stage on each local day, from the recorded stage changes."""
        ...

    async def entered_segments(
        self, community_id: int, segments: Collection[Segment], since: date, limit: int
    ) -> tuple[int, list[Movement]]:
        """Current members who entered one of ``segments`` after ``since``: how many, and
        the first ``limit``, high-value first."""
        ...

    async def entered_stage(
        self, community_id: int, stage: Stage, since: date, limit: int
    ) -> tuple[int, list[Movement]]:
        """Current members who moved into ``stage`` after ``since``: how many, and the
        first ``limit``, high-value first."""
        ...


class ProfileRepository(Protocol):
    """A community's questionnaire (the answers are member tags). Never commits."""

    async def questions(self, community_id: int) -> list[ProfileQuestion] | None:
        """The questions asked, in order; None when the community never changed them."""
        ...

    async def save(
        self, community_id: int, questions: Sequence[ProfileQuestion], now: datetime
    ) -> None:
        """Store ``questions`` as the community's whole questionnaire, in this order."""
        ...


class ConsoleLinkRepository(Protocol):
    """The operator console's one-time sign-in links. Never commits."""

    async def add(
        self, nonce: str, operator_id: int, now: datetime, expires_at: datetime
    ) -> None: ...

    async def use(self, nonce: str, operator_id: int, now: datetime) -> bool:
        """Use the link once: False when it is unknown, someone else's, expired or used."""
        ...

    async def prune(self, before: datetime) -> int: ...


class ReferralRepository(Protocol):
    """Which member's invite brought which friend to a community. Never commits."""

    async def add(self, referral: Referral) -> bool:
        """Record a referral; False when the friend was referred to the community before."""
        ...

    async def get(self, community_id: int, referred_id: int) -> Referral | None: ...

    async def mark_joined(self, community_id: int, referred_id: int, at: datetime) -> bool:
        """The friend joined the group (the first join counts); False if not referred."""
        ...

    async def mark_credited(
        self, community_id: int, referred_id: int, points: int, at: datetime
    ) -> bool:
        """The inviter earned ``points`` for the friend; False if that was done already."""
        ...

    async def counts(self, community_id: int, referrer_id: int) -> ReferralCounts: ...


class ConversionRepository(Protocol):
    """Conversions the business reported, unique per community and key. Never commits."""

    async def add_many(self, conversions: Sequence[Conversion], now: datetime) -> set[str]:
        """Insert, skipping keys the community has already; returns the keys that were new."""
        ...

    async def existing_keys(self, community_id: int, keys: Collection[str]) -> set[str]: ...

    async def memberships(self, community_id: int, member_ids: Collection[int]) -> dict[int, bool]:
        """Those of ``member_ids`` who ever belonged to the community: id → a member now?"""
        ...

    async def count(self, community_id: int) -> int: ...

    async def of_member(self, member_id: int) -> list[Conversion]: ...

    def entries(
        self, community_id: int, size: int, *, with_phones: bool = False
    ) -> AsyncIterator[list[ConversionEntry]]:
        """For an export; the phone numbers only ``with_phones``."""
        ...


class AttributionRepository(Protocol):
    """The reads behind attribution (``storage/attribution.py``). Never writes."""

    async def has_conversions(self, community_id: int) -> bool: ...

    async def conversion_totals(
        self,
        community_id: int,
        first: date,
        last: date,
        kinds: Collection[ConversionKind] | None = None,
    ) -> dict[ConversionKind, tuple[int, int]]:
        """Kind → (conversions, amount in the minor unit) on the local days first to last."""
        ...

    async def conversions(
        self,
        community_id: int,
        after: date,
        until: date,
        kinds: Collection[ConversionKind] | None = None,
    ) -> list[tuple[int, MemberConversion]]:
        """(member, conversion) of the local days after ``after`` up to ``until``."""
        ...

    async def memberships(self, community_id: int) -> list[tuple[int, datetime, datetime | None]]:
        """(member, joined at, left at) of everyone who ever joined the community."""
        ...

    async def stage_changes(self, community_id: int, until: date) -> list[tuple[int, date, Stage]]:
        """(member, local day, new stage) of every stage change up to ``until``."""
        ...

    async def ended_events(
        self,
        community_id: int,
        ended_before: datetime,
        *,
        starting_from: datetime | None = None,
        limit: int | None = None,
    ) -> list[tuple[int, str, datetime]]:
        """(event, title, start) of events ended before ``ended_before``, latest first."""
        ...

    async def event_participants(
        self, event_ids: Collection[int]
    ) -> dict[int, tuple[set[int], bool]]:
        """Event → (participants, from RSVPs?): check-ins, else "going" answers."""
        ...

    async def nudge_contacts(
        self, community_id: int, boundaries: Sequence[datetime]
    ) -> list[tuple[int, int, bool, datetime]]:
        """(period, member, held out?, first contact) per member and period."""
        ...

    async def first_answers(
        self, community_id: int, boundaries: Sequence[datetime]
    ) -> list[tuple[int, int, datetime]]:
        """(period, member, first standing quiz answer) per member and period."""
        ...


class MemberContactRepository(Protocol):
    """Phone numbers members shared with the bot themselves. Never commits."""

    async def save(self, member_id: int, phone: str, now: datetime) -> None: ...

    async def phone_of(self, member_id: int) -> str | None: ...

    async def delete(self, member_id: int) -> int:
        """1 when there was a number, else 0."""
        ...

    async def owners(
        self, community_id: int, phones: Collection[str]
    ) -> dict[str, list[tuple[int, bool]]]:
        """Phone → the members of the community (ever) who shared it, with "a member now?"."""
        ...

    async def phones_of(self, member_ids: Collection[int]) -> dict[int, str]: ...


class AttachmentRepository(Protocol):
    """Files outbox messages refer to by id (digest charts). Never commits."""

    async def add(self, filename: str, content: bytes, now: datetime) -> int: ...

    async def get(self, attachment_id: int) -> tuple[str, bytes] | None:
        """(file name, bytes); None once purged."""
        ...

    async def purge(self, before: datetime) -> int: ...


class FeedbackBoxRepository(Protocol):
    """What members told the team (/feedback) and the operators' answers. Never commits."""

    async def add(
        self, community_id: int, member_id: int, draft: FeedbackDraft, now: datetime
    ) -> FeedbackItem | None:
        """Store an open item; None when the member's message was stored already."""
        ...

    async def by_message(self, member_id: int, message_id: int) -> FeedbackItem | None: ...

    async def get(self, item_id: int) -> FeedbackItem | None: ...

    async def sent_since(self, member_id: int, since: datetime) -> list[datetime]:
        """When the member's items (in every community) were stored, after ``since``."""
        ...

    async def open_items(self, community_id: int, offset: int, limit: int) -> list[FeedbackLine]:
        """Open items, newest first."""
        ...

    async def count_open(self, community_id: int) -> int: ...

    async def settle(
        self,
        item_id: int,
        *,
        becomes: FeedbackStatus,
        reply: str | None,
        actor_id: int,
        now: datetime,
    ) -> FeedbackItem | None:
        """Answer or close an open item; None when it was not open (any more)."""
        ...


class ExitSurveyRepository(Protocol):
    """The question to members who left, once per member and community. Never commits."""

    async def claim(self, community_id: int, member_id: int, now: datetime) -> bool:
        """Record that the member is asked now; False when they were asked before, ever."""
        ...

    async def answer(
        self, community_id: int, member_id: int, reason: ExitReason, now: datetime
    ) -> bool:
        """Store the reason; False when the member was never asked about this community."""
        ...

    async def add_comment(self, community_id: int, member_id: int, comment: str) -> bool: ...

    async def departures(self, community_id: int, start: datetime, end: datetime) -> Departures:
        """The questions asked within [start, end) and the reasons given."""
        ...


class HonourRepository(Protocol):
    """Honour metrics, the members' reports and the boards' sums. Never commits."""

    async def add_metric(
        self, community_id: int, draft: MetricDraft, *, actor_id: int, now: datetime
    ) -> HonourMetric | None:
        """Store a metric; None when the community has one by that name."""
        ...

    async def metric(self, metric_id: int) -> HonourMetric | None: ...

    async def metrics(self, community_ids: list[int]) -> list[HonourMetric]:
        """The active metrics of these communities."""
        ...

    async def add_report(self, report: NewReport, now: datetime) -> HonourReport | None:
        """Store a report; None when the member's message was stored already."""
        ...

    async def report(self, report_id: int) -> HonourReport | None: ...

    async def report_by_message(self, member_id: int, message_id: int) -> HonourReport | None: ...

    async def reported_since(self, member_id: int, since: datetime) -> list[datetime]: ...

    async def decide(
        self, report_id: int, *, becomes: ReportStatus, actor_id: int, now: datetime
    ) -> HonourReport | None:
        """Approve or reject a pending report; None when it was not pending (any more)."""
        ...

    async def totals(self, metric_id: int, month: str, limit: int) -> list[tuple[int, str, int]]:
        """(member id, first name, sum of approved amounts) of one month, highest first."""
        ...


class DrawsRepository(Protocol):
    """Lucky draws and their entries. Never commits."""

    async def add(
        self, community_id: int, draw: NewDraw, *, actor_id: int | None, now: datetime
    ) -> Draw: ...

    async def get(self, draw_id: int) -> Draw | None: ...

    async def open_in(self, community_id: int) -> list[Draw]:
        """The community's open draws, closing soonest first."""
        ...

    async def due(self, now: datetime, limit: int) -> list[int]:
        """Ids of open draws whose closing time has come, earliest first."""
        ...

    async def count_in(self, draw_id: int, now: datetime) -> Draw | None:
        """Count one more entry if the draw is open and not past its closing time (locks
        its row until the transaction ends); None otherwise."""
        ...

    async def add_entry(self, draw_id: int, member_id: int, cost: int, now: datetime) -> bool:
        """Store the member's entry; False when they entered before."""
        ...

    async def entered(self, member_id: int, draw_ids: Collection[int]) -> set[int]:
        """Which of these draws the member entered."""
        ...

    async def entries_of(self, draw_id: int) -> list[Entry]:
        """Every entry of a draw, by member id."""
        ...

    async def settle(self, draw_id: int, becomes: DrawStatus, now: datetime) -> Draw | None:
        """Close or cancel an open draw (locks its row); None when it was not open."""
        ...

    async def record_result(self, draw_id: int, seed: int, winners: Sequence[int]) -> None:
        """Store the seed and each winner's rank, in the order drawn."""
        ...

    async def active_since(self, community_id: int, member_id: int, since: datetime) -> bool:
        """Whether the member took part in the community at or after ``since``."""
        ...


class MissionRepository(Protocol):
    """Newcomer missions: each community's programme and what newcomers did. Never commits."""

    async def programme(self, community_id: int) -> Programme:
        """The community's programme: its operators' or, until they change it, the default."""
        ...

    async def save(self, community_id: int, programme: Programme, now: datetime) -> None: ...

    async def newcomers(
        self, community_id: int, member_ids: Collection[int], since: datetime
    ) -> dict[int, datetime]:
        """When each current member of ``member_ids`` joined, for those seen joining at or
        after ``since``."""
        ...

    async def completions(
        self, community_id: int, member_ids: Collection[int]
    ) -> dict[int, dict[Mission, datetime]]: ...

    async def complete(
        self, community_id: int, member_id: int, mission: Mission, at: datetime
    ) -> bool:
        """Record a completion; False when the mission was done before."""
        ...

    async def joined_between(
        self, community_id: int, start: datetime, end: datetime
    ) -> list[tuple[datetime, dict[Mission, datetime]]]:
        """(joined at, missions done) of the members seen joining in [start, end)."""
        ...


class CarRepository(Protocol):
    """Car profiles, maintenance reminder settings and service requests. Never commits."""

    async def get(self, community_id: int, member_id: int) -> CarProfile | None: ...

    async def save(self, profile: CarProfile, now: datetime) -> None:
        """Store the whole profile (insert or replace)."""
        ...

    async def of_member(self, member_id: int) -> list[CarProfile]: ...

    async def reminder_candidates(self) -> list[CarProfile]:
        """Profiles with reminders on and a service day or a mileage, in active
        communities whose maintenance reminders are on."""
        ...

    async def with_purchase(self) -> list[CarProfile]: ...

    async def mark_reminded(
        self, community_id: int, member_id: int, due_on: date, round_: int
    ) -> bool:
        """Record the reminder of ``due_on`` and snooze round; False when recorded already."""
        ...

    async def delete_profiles(self, member_id: int) -> int: ...

    async def settings(self, community_id: int) -> ServiceSettings: ...

    async def save_settings(
        self, community_id: int, settings: ServiceSettings, now: datetime
    ) -> None: ...

    async def add_request(
        self, community_id: int, member_id: int, due_on: date, now: datetime
    ) -> bool:
        """Record a service request; False when the member asked for this due day before."""
        ...

    async def request(self, request_id: int) -> ServiceRequest | None: ...

    async def requests_of_member(self, member_id: int) -> list[ServiceRequest]: ...

    async def count_open(self, community_id: int) -> int: ...

    async def open_requests(
        self, community_id: int, offset: int, limit: int
    ) -> list[ServiceRequestLine]: ...

    async def settle_request(self, request_id: int, actor_id: int, now: datetime) -> bool:
        """Mark an open request done; False when it was done already."""
        ...

    async def delete_requests(self, member_id: int) -> int: ...


class ChannelRepository(Protocol):
    """Channels, their touches, and the facts their figures are made of. Never commits."""

    async def add(self, community_id: int, name: str, now: datetime) -> Channel | None:
        """A new channel; None when the community has one by this very name."""
        ...

    async def get(self, channel_id: int) -> Channel | None: ...

    async def of_community(self, community_id: int) -> list[Channel]:
        """The community's channels, by number (archived ones too)."""
        ...

    async def of_contact(self, member_id: int) -> list[Channel]:
        """The channels whose contact person the member is now."""
        ...

    async def rename(self, channel_id: int, name: str) -> bool:
        """False when another channel of the community has this very name."""
        ...

    async def set_archived(self, channel_id: int, archived: bool) -> bool:
        """False when the channel was so already."""
        ...

    async def set_contact(self, channel_id: int, contact_id: int | None) -> None: ...

    async def add_touch(self, touch: ChannelTouch) -> bool:
        """Record a touch; False when the member touched the channel on that UTC day."""
        ...

    async def touches(self, community_id: int) -> list[ChannelTouch]: ...

    async def touches_of(self, member_id: int) -> list[ChannelTouch]: ...

    async def delete_touches(self, member_id: int) -> int: ...

    async def joins(self, community_id: int, member_id: int | None = None) -> list[MemberJoin]:
        """The community's members, current and former (or the one ``member_id``), with
        their first join."""
        ...

    async def active_days(
        self, community_id: int, span: TimeSpan, joined_since: datetime
    ) -> dict[int, list[tuple[datetime, datetime]]]:
        """Member id -> (first, last moment) of each local day they took part within
        ``span``, for members whose membership began at ``joined_since`` or later."""
        ...

    async def active_members(
        self, community_id: int, span: TimeSpan, joined_since: datetime
    ) -> set[int]:
        """Members who took part within ``span``, among those whose membership began at
        ``joined_since`` or later."""
        ...

    async def attendances(self, community_id: int, span: TimeSpan) -> dict[int, int]:
        """Member id -> on-site check-ins at the community's events within ``span``."""
        ...

    async def conversions(
        self, community_id: int, first: date, last: date
    ) -> list[ConversionTally]:
        """Each member's conversions per kind on the days ``first`` to ``last``."""
        ...


class UnitOfWork(Protocol):
    """One transaction. Repositories never commit; the unit of work does."""

    @property
    def communities(self) -> CommunityRepository: ...

    @property
    def members(self) -> MemberRepository: ...

    @property
    def memberships(self) -> MembershipRepository: ...

    @property
    def activity(self) -> ActivityRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def checkins(self) -> CheckinRepository: ...

    @property
    def points(self) -> PointsRepository: ...

    @property
    def rewards(self) -> RewardsRepository: ...

    @property
    def events(self) -> EventsRepository: ...

    @property
    def announcements(self) -> AnnouncementRepository: ...

    @property
    def greetings(self) -> GreetingsRepository: ...

    @property
    def processed_updates(self) -> ProcessedUpdates: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def quizzes(self) -> QuizRepository: ...

    @property
    def engagement(self) -> EngagementRepository: ...

    @property
    def insight(self) -> InsightRepository: ...

    @property
    def segments(self) -> SegmentsRepository: ...

    @property
    def tags(self) -> TagRepository: ...

    @property
    def exports(self) -> ExportRepository: ...

    @property
    def member_cards(self) -> MemberCardQueries: ...

    @property
    def privacy(self) -> PrivacyRepository: ...

    @property
    def cohorts(self) -> CohortRepository: ...

    @property
    def attachments(self) -> AttachmentRepository: ...

    @property
    def nudges(self) -> NudgeRepository: ...

    @property
    def profile(self) -> ProfileRepository: ...

    @property
    def referrals(self) -> ReferralRepository: ...

    @property
    def conversions(self) -> ConversionRepository: ...

    @property
    def member_contacts(self) -> MemberContactRepository: ...

    @property
    def attribution(self) -> AttributionRepository: ...

    @property
    def console_links(self) -> ConsoleLinkRepository: ...

    @property
    def draws(self) -> DrawsRepository: ...

    @property
    def feedback_box(self) -> FeedbackBoxRepository: ...

    @property
    def exit_surveys(self) -> ExitSurveyRepository: ...

    @property
    def honour(self) -> HonourRepository: ...

    @property
    def missions(self) -> MissionRepository: ...

    @property
    def cars(self) -> CarRepository: ...

    @property
    def channels(self) -> ChannelRepository: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run callback after the transaction has committed (for in-memory caches)."""
        ...


class Notifier(Protocol):
    """Queues the private messages the bot writes on its own initiative, in the member's
    language, into the outbox of the caller's transaction; the delivery worker sends them.

    ``key`` is the decision's natural idempotency key; each method returns True when the
    message was new (a decision taken twice queues one message).
    """

    async def checkin_reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        streak: int,
    ) -> bool: ...

    async def expiry_reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        points: int,
        day: date,
    ) -> bool: ...

    async def tier_reached(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        tier: Tier,
    ) -> bool: ...


class RedemptionNotices(Protocol):
    """Tells a member in private, through the outbox of the caller's transaction, that an
    operator settled their redemption: handed the reward over, or cancelled it and refunded
    the points; True when the message was new."""

    async def redemption_settled(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        redemption: Redemption,
        reward_title: str,
    ) -> bool: ...


class ConversionNotices(Protocol):
    """Tells a member in private, through the outbox of the caller's transaction, that a
    purchase (or trade-in) the business reported earned them points; True when new."""

    async def credited(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        kind: ConversionKind,
        points: int,
    ) -> bool: ...


class ReferralNotices(Protocol):
    """Tells an inviter in private, through the outbox of the caller's transaction, that a
    friend they invited joined and earned them points; True when the message was new."""

    async def credited(
        self,
        uow: UnitOfWork,
        key: str,
        referrer: MemberProfile,
        community: CommunityProfile,
        friend: str,
        points: int,
    ) -> bool: ...


class MissionNotices(Protocol):
    """Tells a newcomer in private, through the outbox of the caller's transaction, that they
    did a mission (and earned the bonus, when ``bonus`` > 0); True when the message was new."""

    async def completed(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        mission: Mission,
        points: int,
        remaining: int,
        bonus: int,
    ) -> bool: ...


class NudgeSender(Protocol):
    """Renders a nudge in the member's language, with its buttons, and queues it in the
    outbox of the caller's transaction under the key ``nudge:<id>``."""

    async def nudge(
        self,
        uow: UnitOfWork,
        member: MemberProfile,
        community: CommunityProfile,
        message: NudgeMessage,
        *,
        not_after: datetime | None = None,
    ) -> bool:
        """True when the message was new. It is never sent after ``not_after`` (UTC)."""
        ...


class EventNotices(Protocol):
    """What the events feature writes on its own initiative, queued in the outbox of the
    caller's transaction: the group card's live counts (coalesced) and private notices.

    ``key`` is the decision's natural idempotency key; the private notices return True
    when the message was new.
    """

    async def card_changed(
        self, uow: UnitOfWork, event: Event, community: CommunityProfile, counts: RsvpCounts
    ) -> None:
        """Refresh the group card; many changes within a short window become one edit."""
        ...

    async def moved_up(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
    ) -> bool: ...

    async def cancelled(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
    ) -> bool: ...

    async def reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
        hours: int,
    ) -> bool: ...

    async def feedback_request(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        event: Event,
    ) -> bool: ...


class DrawNotices(Protocol):
    """What the lucky draws write on their own initiative, queued in the outbox of the
    caller's transaction under the decision's ``key``: group messages in the community's
    language, private ones in the member's. Each returns True when the message was new."""

    async def announce(
        self,
        uow: UnitOfWork,
        key: str,
        draw: Draw,
        community: CommunityProfile,
        event_title: str | None,
    ) -> bool:
        """The new draw in the group, with its Enter button (``event_title``: the event
        its entrants must have attended)."""
        ...

    async def results(
        self,
        uow: UnitOfWork,
        key: str,
        draw: Draw,
        community: CommunityProfile,
        winners: Sequence[tuple[int, str]],
    ) -> bool:
        """The winners (member id, first name), in the order drawn, in the group."""
        ...

    async def won(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        draw: Draw,
    ) -> bool:
        """A winner, told in private."""
        ...

    async def cancelled(
        self, uow: UnitOfWork, key: str, draw: Draw, community: CommunityProfile
    ) -> bool:
        """The draw is off, in the group."""
        ...

    async def refunded(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        draw: Draw,
        refund: int,
    ) -> bool:
        """An entrant of a cancelled draw, told in private (``refund`` points back; 0: free)."""
        ...


class Announcer(Protocol):
    """Queues an announcement's run in the outbox of the caller's transaction."""

    async def announce(
        self,
        uow: UnitOfWork,
        announcement: Announcement,
        community: CommunityProfile,
        scheduled_for: datetime,
        recipients: Sequence[MemberProfile],
    ) -> int:
        """The group message and a private copy per recipient, each under a dedupe key of
        announcement × ``scheduled_for`` × chat; how many were new."""
        ...


class Greeter(Protocol):
    """Queues a greeting in the member's language in the caller's transaction."""

    async def greet(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        greeting: Greeting,
    ) -> bool:
        """True when the greeting was new (``key`` makes it once a year)."""
        ...


class AnnouncementTimetable(Protocol):
    """Keeps the scheduler's jobs in step with the stored announcements."""

    def changed(self, announcement_id: int) -> None:
        """An announcement was created, paused, resumed or deleted (call after commit)."""
        ...


class QuizRoundDriver(Protocol):
    """Keeps quiz rounds moving: posts each question once the previous one has closed."""

    async def begin(self, round_id: int) -> None:
        """Post a new round's first question now, then keep the round moving."""
        ...

    async def stop_round(self, community: CommunityProfile) -> bool:
        """End the community's running round now; False when none was running."""
        ...


class ScheduleWatcher(Protocol):
    """Keeps the scheduler's jobs in step with stored schedules."""

    def changed(self, schedule_id: int) -> None:
        """A schedule was created or deleted (call after commit)."""
        ...


class QuizPoster(Protocol):
    """Posts quiz polls (Telegram must tell their ids) and queues round results."""

    async def post_question(
        self,
        community: CommunityProfile,
        question: Question,
        *,
        position: int,
        total: int,
        open_seconds: int,
    ) -> PostedPoll | None:
        """Post one question as a quiz poll in the group; None when Telegram refused it."""
        ...

    async def results(
        self,
        uow: UnitOfWork,
        key: str,
        community: CommunityProfile,
        result: RoundResult,
        *,
        hardest: Question | None,
        names: Mapping[int, str],
    ) -> bool:
        """Queue the round's results for the group, in the outbox of ``uow``."""
        ...


class DigestPost(Protocol):
    """Delivers the weekly digest: who operates a community, and each operator's copy."""

    async def operators(self, community: CommunityProfile) -> list[int]:
        """The user ids of the community's operators (chat admins and configured ones)."""
        ...

    async def post(
        self, uow: UnitOfWork, digest: Digest, recipients: Sequence[MemberProfile]
    ) -> int:
        """Queue the digest, text and charts, for each recipient in the outbox of ``uow``
        under ``digest.digest_key``; how many recipients' copies were new."""
        ...


class FeedbackNotices(Protocol):
    """Tells operators that feedback waits and members what the operators answered, in
    each reader's language, queued in the outbox of the caller's transaction."""

    async def operators(self, community: CommunityProfile) -> list[int]:
        """The user ids of the community's operators (may ask Telegram: call it before
        writing anything, since a request commits the open transaction)."""
        ...

    async def feedback_waiting(
        self, uow: UnitOfWork, community: CommunityProfile, operator: MemberProfile, waiting: int
    ) -> None:
        """Queue the operator's note that ``waiting`` items are open; the notes of a few
        minutes become one message (the latest count wins)."""
        ...

    async def answered(
        self,
        uow: UnitOfWork,
        item: FeedbackItem,
        member: MemberProfile,
        community: CommunityProfile,
    ) -> bool:
        """Queue the operators' answer (``item.reply``) to the member, once per item."""
        ...


class ServiceNotices(Protocol):
    """Maintenance reminders for members and notes of service requests for operators, in
    each reader's language, queued in the outbox of the caller's transaction."""

    async def operators(self, community: CommunityProfile) -> list[int]:
        """As ``FeedbackNotices.operators`` (call it before writing anything)."""
        ...

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
        """Queue the reminder of ``due`` with its buttons (book, snooze while allowed,
        stop), sent from ``not_before`` and never after ``not_after``; True when new."""
        ...

    async def requests_waiting(
        self, uow: UnitOfWork, community: CommunityProfile, operator: MemberProfile, waiting: int
    ) -> None:
        """Queue the operator's note that ``waiting`` service requests are open; the notes
        of a few minutes become one message (the latest count wins)."""
        ...


class ExitSurveyAsker(Protocol):
    """Queues the exit survey's question in the member's language."""

    async def ask(
        self, uow: UnitOfWork, key: str, member: MemberProfile, community: CommunityProfile
    ) -> bool: ...


class HonourNotices(Protocol):
    """Reports to review for operators, decisions for members, boards for the group."""

    async def operators(self, community: CommunityProfile) -> list[int]:
        """As ``FeedbackNotices.operators``."""
        ...

    async def review(
        self,
        uow: UnitOfWork,
        key: str,
        operator: MemberProfile,
        community: CommunityProfile,
        metric: HonourMetric,
        report: HonourReport,
        reporter: str,
    ) -> bool:
        """Queue a pending report (its photo too) with Approve / Reject for one operator."""
        ...

    async def decided(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        metric: HonourMetric,
        report: HonourReport,
    ) -> bool: ...

    async def board(
        self, uow: UnitOfWork, key: str, community: CommunityProfile, board: Board
    ) -> bool:
        """Queue a finished month's board for the group."""
        ...


UnitOfWorkFactory = Callable[[], AbstractAsyncContextManager[UnitOfWork]]


class ActivitySink(Protocol):
    """Where passive engagement events go; may buffer them and write in batches."""

    def record(self, activity: ActivityRecord) -> None: ...
