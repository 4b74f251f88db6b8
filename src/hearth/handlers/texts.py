"""Every text members and operators read, through gettext. No logic beyond choosing words."""

from __future__ import annotations

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.text_decorations import html_decoration
from babel.lists import format_list

from hearth.services.reports import Overview


def quote(text: str) -> str:
    """Escape user-provided text for HTML parse mode."""
    return html_decoration.quote(text)


# (command, description) pairs, shown in /help and in Telegram's command menu.
MEMBER_COMMANDS = (
    ("start", __("Open your private chat with Hearth")),
    ("help", __("What Hearth can do")),
    ("settings", __("Your language")),
)
OPERATOR_COMMANDS = (
    ("stats", __("Community figures: /stats [7d|30d|90d]")),
    ("welcome", __("Greet newcomers in the group: /welcome on|off")),
)


def help_text(*, is_operator: bool) -> str:
    lines = [_("<b>Hearth</b> keeps this community lively and notices who takes part."), ""]
    lines.append(_("<b>For members</b>"))
    lines += [f"/{name} — {description}" for name, description in MEMBER_COMMANDS]
    if is_operator:
        lines += ["", _("<b>For operators</b>")]
        lines += [f"/{name} — {description}" for name, description in OPERATOR_COMMANDS]
    lines += [
        "",
        _(
            "Hearth counts who takes part (messages, replies, reactions) but never "
            "stores what you write."
        ),
    ]
    return "\n".join(lines)


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


def stats(overview: Overview, *, days: int) -> str:
    lines = [
        _("<b>{title}</b> — last {days} days").format(
            title=quote(overview.community.title), days=days
        ),
        "",
        _("Members now: {count}").format(count=overview.members),
        _("Reachable in private (started the bot): {count}").format(count=overview.reachable),
        _("Joined: {joined} · Left: {left}").format(joined=overview.joined, left=overview.left),
        _("Active members: {active}").format(active=overview.active),
        _("Active per day (average): {average:.1f}").format(average=overview.average_daily_active),
        _("Stickiness (daily / period active): {ratio:.0%}").format(ratio=overview.stickiness),
        _("Active today: {today}").format(today=overview.days[-1].active),
    ]
    if not overview.community.bot_is_admin:
        lines += ["", privacy_warning()]
    return "\n".join(lines)


def unknown_private_message() -> str:
    return _("I did not understand that. Send /help to see what I can do.")


def stale_button() -> str:
    return _("This button is no longer valid. Please send the command again.")


def something_went_wrong() -> str:
    return _("Sorry, something went wrong on my side. Please try again in a moment.")


def unsupported_language() -> str:
    return _("That language is not available.")
