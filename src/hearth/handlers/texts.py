"""Every text members and operators read, through gettext. No logic beyond choosing words."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from aiogram.utils.i18n import get_i18n, ngettext
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.text_decorations import html_decoration
from babel.lists import format_list

from hearth.domain.calendar import local_day
from hearth.domain.points import Tier
from hearth.services.checkin import CheckinResult, DayBoard
from hearth.services.points import Leaderboard, Summary
from hearth.services.reports import Compared, Insight


def quote(text: str) -> str:
    """Escape user-provided text for HTML parse mode."""
    return html_decoration.quote(text)


# (command, description) pairs, shown in /help and in Telegram's command menu.
MEMBER_COMMANDS = (
    ("start", __("Open your private chat with Hearth")),
    ("checkin", __("Check in for today and keep your streak")),
    ("checkins", __("Today's check-ins in the group")),
    ("points", __("Your points, tier and points about to expire")),
    ("top", __("Leaderboard: /top [week|month|all]")),
    ("rewards", __("Rewards you can redeem with your points")),
    ("draws", __("Lucky draws open now")),
    ("draw", __("A lucky draw's winners and seed: /draw number")),
    ("quiz", __("Quizzes: /quiz to practise in private, /quiz top, /quiz topics")),
    ("events", __("Upcoming events: answer Going, Maybe or Can't go")),
    ("attend", __("Check in at an event on site: /attend CODE")),
    ("reminder", __("Daily check-in reminder: /reminder 20 or /reminder off")),
    ("announcements", __("Announcements in private too: /announcements on|off")),
    ("greetings", __("Anniversary and birthday greetings: /greetings on|off")),
    ("birthday", __("Your birthday for a greeting: /birthday MM-DD or /birthday off")),
    ("feedback", __("Write to the team, in private: /feedback text")),
    ("honour", __("Monthly honour boards: /honour [board] [YYYY-MM]")),
    ("report", __("Report a value for an honour board: /report board value")),
    ("me", __("You in your community: points, profile, friends you invited")),
    ("profile", __("Your profile: car, city, interests — change or skip any answer")),
    ("car", __("Your car: model, year, mileage, last service, and service reminders")),
    ("invite", __("Your personal invite link: friends who join earn you points")),
    ("settings", __("Your language, nudges and quiet hours")),
    ("mydata", __("Everything Hearth holds about you, as a text and a file")),
    ("phone", __("Share your number so dealer visits count for you; /phone off deletes it")),
    ("my_channel", __("For a dealer's or partner's contact person: their channel's figures")),
    ("forget_me", __("Erase your personal data (your points stay)")),
    ("help", __("What Hearth can do")),
)
OPERATOR_COMMANDS = (
    (
        "stats",
        __("Community figures: /stats [7d|30d|90d]; what taking part led to: /stats conversions"),
    ),
    ("member", __("One member's card, in private: /member @user|id (or reply to them)")),
    ("segments", __("Members per lifecycle stage and RFM segment, with lists and files")),
    ("cohorts", __("Retention by join week, table and heat map in private: /cohorts [weeks]")),
    ("digest", __("Weekly digest: /digest for a preview now, /digest on|off in the group")),
    ("console", __("The web console: a one-time sign-in link for your browser, in private")),
    (
        "nudges",
        __(
            "Reactivation nudges: /nudges for the report; /nudges preview|pause|resume|"
            "cap N|holdout P|templates"
        ),
    ),
    ("tag", __("Tag a member: /tag @user|id tag (or reply to their message)")),
    ("untag", __("Take a tag off: /untag @user|id tag")),
    ("tags", __("The community's tags and how many members carry each")),
    ("tagged", __("Members with a tag: /tagged tag")),
    ("profile_questions", __("The questionnaire members answer in /profile (in private)")),
    ("missions", __("Newcomer missions: the list, points, bonus, on or off (in private)")),
    (
        "service_settings",
        __("Maintenance reminders (off by default): on|off, interval, models, booking link"),
    ),
    ("service_requests", __("Members' requests to book a service: contact them, mark done")),
    ("export", __("A file of members, activity, points or events: /export members [csv|xlsx]")),
    ("forget", __("Erase a member's personal data at their request: /forget @user|id")),
    ("welcome", __("Greet newcomers in the group: /welcome on|off")),
    ("grant", __("Give points: /grant @user|id amount reason")),
    ("deduct", __("Take points back: /deduct @user|id amount reason")),
    ("points_rules", __("See or change what taking part is worth")),
    ("milestones", __("Celebrate long streaks in the group: /milestones on|off")),
    ("reward_new", __("New reward: /reward_new cost stock|unlimited title [limit=N tier=gold]")),
    ("reward_archive", __("Withdraw a reward: /reward_archive number")),
    ("redemptions", __("Pending redemptions to fulfil or cancel")),
    ("codes", __("Import voucher codes: send a CSV with the caption /codes number")),
    ("draw_new", __("New lucky draw: /draw_new winners cost|free YYYY-MM-DD HH:MM prize")),
    ("draw_cancel", __("Cancel a lucky draw, refunding entries: /draw_cancel number")),
    ("event_new", __("New event: a short dialog in private, then publish it in the group")),
    ("event_edit", __("Change an event: /event_edit number field value")),
    ("event_cancel", __("Cancel an event and tell everyone registered: /event_cancel number")),
    ("event_code", __("An event's attendance code and QR: /event_code number")),
    ("event_report", __("Registrations, attendance, rating and NPS: /event_report number")),
    ("announce", __("New announcement: text or photo, now or on a schedule (in private)")),
    ("announcements_list", __("Scheduled announcements: pause, resume or delete them")),
    ("outbox", __("Messages the bot queued, sent and could not deliver")),
    ("inbox", __("Members' feedback: read, answer, close")),
    ("reply", __("Answer feedback: /reply number text")),
    ("honour_new", __("New honour board: /honour_new name unit=km approval=yes|no")),
    ("channel_new", __("New dealer or partner channel, with its link and QR: /channel_new name")),
    ("channels", __("Channels, members brought and reached; figures: /stats channels [days]")),
    ("channel", __("A channel's card, link, QR code and figures: /channel number")),
    ("channel_rename", __("Rename a channel (its link stays): /channel_rename number name")),
    ("channel_archive", __("Archive a channel, its link stops counting: /channel_archive number")),
    (
        "channel_contact",
        __("A channel's contact person, who reads its figures: /channel_contact number @user|off"),
    ),
    (
        "quiz_import",
        __("Add quiz questions: a YAML, CSV or JSON file with this caption; rounds: /quiz start"),
    ),
    (
        "import_conversions",
        __("Import the dealer's service visits and purchases: a CSV file with this caption"),
    ),
)


# Telegram takes at most 4,096 characters per message; a help page that grows past it is
# sent as several messages, split between lines (the operators' commands start a new one).
HELP_MESSAGE_LIMIT = 4000


def help_text(*, is_operator: bool) -> str:
    """The whole help page (what the in-bot /help sends, in one or more messages)."""
    return "\n\n".join(help_messages(is_operator=is_operator))


def help_messages(*, is_operator: bool) -> list[str]:
    """/help as messages that each fit Telegram's limit."""
    members = [_("<b>Hearth</b> keeps this community lively and notices who takes part."), ""]
    members.append(_("<b>For members</b>"))
    members += [f"/{name} — {description}" for name, description in MEMBER_COMMANDS]
    privacy = _(
        "Hearth counts who takes part (messages, replies, reactions) but never "
        "stores what you write."
    )
    sections = [members]
    if is_operator:
        operators = [_("<b>For operators</b>")]
        operators += [f"/{name} — {description}" for name, description in OPERATOR_COMMANDS]
        sections.append(operators)
    sections[-1] += ["", privacy]
    return [chunk for lines in sections for chunk in _chunks(lines, HELP_MESSAGE_LIMIT)]


def _chunks(lines: list[str], limit: int) -> list[str]:
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if chunks[-1] and size + len(line) + 1 > limit:
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += len(line) + 1
    return ["\n".join(chunk).strip("\n") for chunk in chunks]


def start_private(*, name: str, first_start: bool, communities: list[str]) -> str:
    greeting = (
        _("Welcome, {name}! I am Hearth, the assistant of your community.")
        if first_start
        else _("Welcome back, {name}!")
    ).format(name=quote(name))
    lines = [greeting, ""]
    if communities:
        lines.append(_("Your communities: {titles}.").format(titles=quote(", ".join(communities))))
    else:
        lines.append(_("Join your community's group and I will recognise you there."))
    lines += [
        _("You can now receive private messages from me. Change your language with /settings."),
        _("Send /help to see everything I can do."),
    ]
    return "\n".join(lines)


def linked_to(title: str) -> str:
    return _("You are connected to <b>{title}</b>.").format(title=quote(title))


def unknown_link() -> str:
    return _(
        "This link does not belong to a community I serve. Ask the group's team for a new one."
    )


def onboarding(title: str) -> str:
    return "\n".join(
        [
            _("Welcome to <b>{title}</b>!").format(title=quote(title)),
            "",
            _(
                "I keep track of who takes part in the group — messages, replies and "
                "reactions — so the team can see how the community is doing. I never keep "
                "what you write."
            ),
            _(
                "Check in every day with /checkin: you earn points, build a streak and climb "
                "the tiers. /points shows your balance."
            ),
            _("Send /help to see what you can do, and /settings to choose your language."),
        ]
    )


def group_welcome(names: list[str]) -> str:
    # "A, B and C" in English, "A、B和C" in Chinese.
    listed = format_list([quote(name) for name in names], locale=get_i18n().current_locale)
    return _(
        "Welcome, {names}! Say hello to everyone. Open Hearth in private to get personal updates."
    ).format(names=listed)


def bot_added(*, is_admin: bool) -> str:
    lines = [
        _("Hello! I am Hearth. I will help the team keep this community lively."),
        "",
        _("Members: send /help to see what you can do."),
        _("Operators (the group's admins): send /stats for the community's figures."),
    ]
    if not is_admin:
        lines += ["", privacy_warning()]
    return "\n".join(lines)


def privacy_warning() -> str:
    return _(
        "⚠️ I am not an administrator here, so Telegram shows me only commands: messages, "
        "reactions and joins are not counted. Make me an administrator to see them."
    )


def settings_prompt(current: str) -> str:
    from hearth.handlers.keyboards import LANGUAGE_NAMES

    return _("Your language is {language}. Choose another:").format(
        language=LANGUAGE_NAMES.get(current, current)
    )


def language_changed() -> str:
    return _("Done: I will speak English with you.")


def not_an_operator() -> str:
    return _("This command is for the community's operators.")


def group_only(command: str) -> str:
    return _("Send /{command} in the group it is about.").format(command=command)


def welcome_usage() -> str:
    return _("Usage: /welcome on or /welcome off")


def welcome_changed(enabled: bool) -> str:
    if enabled:
        return _("Newcomers will be welcomed in the group.")
    return _("Newcomers will no longer be welcomed in the group.")


def stats_usage() -> str:
    return _("Usage: /stats, /stats 7d, /stats 30d or /stats 90d")


def choose_community() -> str:
    return _("Which community?")


def no_communities() -> str:
    return _("You do not operate any community yet. Add me to your group as an administrator.")


def stats(insight: Insight) -> str:
    """The /stats answer: one short line per figure, each with its change against the
    period of the same length before (see ``change``)."""
    lines = [
        _("<b>{title}</b> — last {days} days").format(
            title=quote(insight.community.title), days=insight.days
        ),
        _("Changes against the {days} days before").format(days=insight.days),
        "",
        *figure_lines(insight, *STATS_FIGURES),
        _("Reachable in private (started the bot): {count}").format(count=insight.reachable),
    ]
    if not insight.community.bot_is_admin:
        lines += ["", privacy_warning()]
    return "\n".join(lines)


# The figures of /stats, in order; the weekly digest shows a few of them (``figure_lines``).
STATS_FIGURES = (
    "members",
    "joined",
    "left",
    "daily_active",
    "weekly_active",
    "monthly_active",
    "stickiness",
    "activation_rate",
    "checkin_rate",
    "churn_rate",
    "median_streak",
    "points_issued",
    "points_redeemed",
    "attendances",
    "event_participation",
)


def figure_lines(insight: Insight, *names: str) -> list[str]:
    """One line per named figure (``STATS_FIGURES``) with its change against the period
    before: the same words in /stats and in the weekly digest."""
    now = insight.current
    lines: dict[str, tuple[str, Compared]] = {
        "members": (_("Members now: {count}").format(count=now.members), insight.members),
        "joined": (_("Joined: {count}").format(count=now.joined), insight.joined),
        "left": (_("Left: {count}").format(count=now.left), insight.left),
        "daily_active": (
            _("Active per day (DAU): {value}").format(value=f"{now.daily_active:.1f}"),
            insight.daily_active,
        ),
        "weekly_active": (
            _("Active in 7 days (WAU): {count}").format(count=now.weekly_active),
            insight.weekly_active,
        ),
        "monthly_active": (
            _("Active in 30 days (MAU): {count}").format(count=now.monthly_active),
            insight.monthly_active,
        ),
        "stickiness": (
            _("Stickiness (DAU / MAU): {rate}").format(rate=_rate(now.stickiness)),
            insight.stickiness,
        ),
        "activation_rate": (
            _("Newcomers activated: {rate}").format(
                rate=_rate(now.activation_rate, now.activated, now.activation_judged)
            ),
            insight.activation_rate,
        ),
        "checkin_rate": (
            _("Check-in rate (daily): {rate}").format(rate=_rate(now.checkin_rate)),
            insight.checkin_rate,
        ),
        "churn_rate": (
            _("Churn rate: {rate}").format(
                rate=_rate(now.churn_rate, now.churned, now.members_at_start)
            ),
            insight.churn_rate,
        ),
        "median_streak": (
            _("Median streak (days): {value}").format(
                value=_NO_VALUE if now.median_streak is None else f"{now.median_streak:g}"
            ),
            insight.median_streak,
        ),
        "points_issued": (
            _("Points issued: {count}").format(count=now.points_issued),
            insight.points_issued,
        ),
        "points_redeemed": (
            _("Points redeemed: {count}").format(count=now.points_redeemed),
            insight.points_redeemed,
        ),
        "attendances": (
            _("Event attendances: {count}").format(count=now.attendances),
            insight.attendances,
        ),
        "event_participation": (
            _("Event participation: {rate}").format(
                rate=_rate(now.event_participation, now.attendees, now.members)
            ),
            insight.event_participation,
        ),
    }
    return [_moved(*lines[name]) for name in names]


_NO_VALUE = "–"  # a figure with no value, such as a rate of nobody


def _rate(value: float | None, part: int | None = None, whole: int | None = None) -> str:
    """A share as a whole percentage, with its parts when given: "20% (1/5)"."""
    if value is None:
        return _NO_VALUE
    shown = f"{value:.0%}"
    return shown if part is None else f"{shown} ({part}/{whole})"


def _moved(line: str, figure: Compared) -> str:
    return f"{line} · {change(figure)}"


def change(figure: Compared) -> str:
    """How a figure moved against the previous period: "▲ 12%" for an amount, "▼ 3 pts"
    (percentage points) for a rate, "=" when it did not move, "—" when there is nothing
    to compare with."""
    moved = figure.change
    if moved is None:
        return "—"
    if abs(moved) < 1e-9:
        return "="
    arrow = "▲" if moved > 0 else "▼"
    size = round(abs(moved))
    # "<" opens a tag in HTML parse mode: a bare one makes Telegram refuse the whole message
    if not figure.is_rate:
        return f"{arrow} {size}%" if size else f"{arrow} &lt;1%"
    if not size:
        return quote(_("{arrow} <1 pt").format(arrow=arrow))
    return ngettext("{arrow} {points} pt", "{arrow} {points} pts", size).format(
        arrow=arrow, points=size
    )


def unknown_private_message() -> str:
    return _("I did not understand that. Send /help to see what I can do.")


def stale_button() -> str:
    return _("This button is no longer valid. Please send the command again.")


def something_went_wrong() -> str:
    return _("Sorry, something went wrong on my side. Please try again in a moment.")


def unsupported_language() -> str:
    return _("That language is not available.")


# --- check-ins and points -------------------------------------------------------------

TIER_NAMES = {
    "member": __("Member"),
    "silver": __("Silver"),
    "gold": __("Gold"),
    "platinum": __("Platinum"),
}


def tier_name(tier: Tier) -> str:
    return str(TIER_NAMES.get(tier.name, tier.name))


def reason_label(reason: str) -> str:
    """How a ledger entry's reason reads to a member."""
    if reason == "checkin":
        return _("check-in")
    if reason == "first_checkin":
        return _("first check-in bonus")
    if reason.startswith("milestone_"):
        return _("{days}-day streak").format(days=reason.removeprefix("milestone_"))
    if reason == "expired":
        return _("expired")
    if reason == "refund":
        return _("refund")
    if reason == "event":
        return _("event attendance")
    if reason == "referral":
        return _("a friend you invited")
    if reason == "purchase":
        return _("a purchase")
    if reason == "trade_in":
        return _("a trade-in")
    if reason == "mission":
        return _("newcomer mission")
    if reason == "mission-bonus":
        return _("newcomer missions bonus")
    if reason == "comeback":
        return _("welcome-back gift")
    return quote(reason)


def checkin_done(result: CheckinResult) -> str:
    outcome = result.outcome
    lines = [
        _("✅ Checked in! Streak: {streak} days (best: {best}).").format(
            streak=outcome.streak, best=outcome.best
        ),
        _("+{points} points ({details}). Balance: {balance}.").format(
            points=result.earned,
            details=", ".join(f"{reason_label(r)} +{amount}" for r, amount in result.credits),
            balance=result.balance,
        ),
    ]
    if outcome.freezes_used:
        lines.append(
            _("🧊 A streak freeze covered {days} missed day(s).").format(days=outcome.freezes_used)
        )
    if outcome.freeze_earned:
        lines.append(
            _(
                "🧊 You earned a streak freeze ({held} held): it covers a missed day automatically."
            ).format(held=outcome.freezes)
        )
    if outcome.broken_streak:
        lines.append(
            _("Your {days}-day streak ended; a new one starts today.").format(
                days=outcome.broken_streak
            )
        )
    if result.promoted:
        lines.append(tier_reached(result.tier))
    return "\n".join(lines)


def tier_reached(tier: Tier) -> str:
    return _("🎉 You reached the {tier} tier: from now on you earn ×{multiplier} points.").format(
        tier=tier_name(tier), multiplier=f"{tier.multiplier:g}"
    )


def already_checked_in(streak: int, next_in: timedelta) -> str:
    minutes = max(1, int(next_in.total_seconds() // 60))
    return _(
        "You have already checked in today. Streak: {streak} days. "
        "The next check-in opens in {hours} h {minutes} min."
    ).format(streak=streak, hours=minutes // 60, minutes=minutes % 60)


def checked_in_in_group(name: str) -> str:
    return _("✅ {name} checked in! Open Hearth in private to see your streak and points.").format(
        name=quote(name)
    )


def streak_celebration(name: str, days: int) -> str:
    return _("🔥 {name} has checked in {days} days in a row!").format(name=quote(name), days=days)


def day_board(board: DayBoard) -> str:
    lines = [_("<b>Check-ins today</b>: {count}").format(count=board.count)]
    for position, (name, streak) in enumerate(board.top, start=1):
        lines.append(
            _("{position}. {name} — {days} days").format(
                position=position, name=quote(name), days=streak
            )
        )
    if not board.top:
        lines.append(_("Nobody has checked in yet today. Be the first: /checkin"))
    return "\n".join(lines)


def no_community() -> str:
    return _("You are not in any community I serve yet. Join your club's group first.")


def points_summary(title: str, summary: Summary, timezone: str) -> str:
    lines = [
        _("<b>Your points in {title}</b>").format(title=quote(title)),
        _("Balance: {balance}").format(balance=summary.balance),
    ]
    tier = tier_name(summary.tier)
    if summary.next_tier is not None:
        lines.append(
            _("Tier: {tier} — earn {missing} more points within 12 months to reach {next}.").format(
                tier=tier, missing=summary.to_next_tier, next=tier_name(summary.next_tier)
            )
        )
    else:
        lines.append(_("Tier: {tier} — the highest.").format(tier=tier))
    for amount, day in summary.expiring:
        lines.append(
            _("⏳ {points} points expire on {date}.").format(points=amount, date=day.isoformat())
        )
    if summary.recent:
        lines += ["", _("<b>Recent</b>")]
        lines += [
            f"{local_day(line.at, timezone).isoformat()}  {line.amount:+d}  "
            f"{reason_label(line.reason)}"
            for line in summary.recent
        ]
    return "\n".join(lines)


PERIOD_NAMES = {"week": __("this week"), "month": __("this month"), "all": __("all time")}


def leaderboard(board: Leaderboard, period: str) -> str:
    lines = [_("<b>Top members — {period}</b>").format(period=PERIOD_NAMES[period])]
    for rank, name, points in board.rows:
        lines.append(f"{rank}. {quote(name)} — {points}")
    if not board.rows:
        lines.append(_("No points earned in this period yet."))
    if board.own_rank is not None:
        lines.append(
            _("You: #{rank} with {points} points.").format(
                rank=board.own_rank, points=board.own_points
            )
        )
    return "\n".join(lines)


def top_usage() -> str:
    return _("Usage: /top, /top week, /top month or /top all")


def adjust_usage(command: str) -> str:
    return _("Usage: /{command} @username|id amount reason").format(command=command)


def bad_amount() -> str:
    return _("The amount must be a whole number from 1 to 100000.")


def unknown_member() -> str:
    return _("I do not know that member in this community.")


def confirm_adjustment(name: str, amount: int, reason: str) -> str:
    if amount > 0:
        text = _("Grant {points} points to {name}? Reason: {reason}")
    else:
        text = _("Deduct {points} points from {name}? Reason: {reason}")
    return text.format(points=abs(amount), name=quote(name), reason=quote(reason))


def adjustment_done(name: str, balance: int) -> str:
    return _("Done: {name} now has {balance} points.").format(name=quote(name), balance=balance)


def adjustment_cancelled() -> str:
    return _("Cancelled: nothing was changed.")


def not_enough_points(balance: int) -> str:
    return _("The member has only {balance} points: nothing was deducted.").format(balance=balance)


def points_received(amount: int, reason: str, title: str) -> str:
    if amount > 0:
        text = _("You received {points} points in {title}: {reason}")
    else:
        text = _("{points} points were deducted in {title}: {reason}")
    return text.format(points=abs(amount), title=quote(title), reason=quote(reason))


def rules_text(settings: Mapping[str, int]) -> str:
    lines = [_("<b>Points rules</b>")]
    lines += [f"{name}: {value}" for name, value in settings.items()]
    lines += ["", _("Change one with /points_rules name value, e.g. /points_rules checkin 15")]
    return "\n".join(lines)


def rule_changed(name: str, value: int) -> str:
    return _("Done: {rule} is now {value}.").format(rule=name, value=value)


def unknown_rule() -> str:
    return _("There is no such rule. Send /points_rules to see them all.")


def bad_rule_value() -> str:
    return _("That value is out of range for this rule.")


def milestones_usage() -> str:
    return _("Usage: /milestones on or /milestones off")


def milestones_changed(enabled: bool) -> str:
    if enabled:
        return _("Streaks of 7 days and more will be celebrated in the group.")
    return _("Streaks will no longer be celebrated in the group.")


def reminder_usage() -> str:
    return _("Usage: /reminder 20 (a local hour from 0 to 23) or /reminder off")


def reminder_set(hour: int) -> str:
    return _(
        "I will remind you at {hour}:00 (your community's time) on days you have not "
        "checked in yet."
    ).format(hour=hour)


def reminder_off() -> str:
    return _("Check-in reminders are off.")


def checkin_reminder(title: str, streak: int) -> str:
    if streak:
        return _("Time to check in to {title} — keep your {days}-day streak going!").format(
            title=quote(title), days=streak
        )
    return _("Time to check in to {title}!").format(title=quote(title))


def expiry_reminder(points: int, day: date, title: str) -> str:
    return _(
        "⏳ {points} of your points in {title} expire on {date}. Spend them in /rewards "
        "before then."
    ).format(points=points, title=quote(title), date=day.isoformat())
