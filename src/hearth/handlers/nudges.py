"""/nudges: the operators' side of reactivation nudges.

``/nudges [days]`` is the report (sent, clicked, opt-outs, return rates of nudged and
held-out members, the uplift with its interval); ``/nudges preview`` shows who would be
nudged today and why, sending nothing; ``/nudges templates`` lists the community's own
templates. These are answered in private (from the group, the group hears where to look).
``/nudges pause|resume``, ``cap N``, ``holdout P``, ``template kind text`` and
``template_remove number`` change the community's settings and are answered where sent.
In private an operator of several communities picks one first; a new template's text does
not fit on a button, so that one is sent in the group it is for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.nudges import NudgeKind
from hearth.handlers import nudges_texts_admin as words
from hearth.handlers.callbacks import ROW_ID_LIMIT, CommunityChoice
from hearth.handlers.filters import IsOperator, OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import (
    PrivateAnswer,
    PrivateRequest,
    community_or_picker,
    picker_button,
)
from hearth.services import nudge_admin, nudges
from hearth.services.directory import Directory
from hearth.services.nudge_admin import (
    DEFAULT_REPORT_DAYS,
    MAX_REPORT_DAYS,
    BadTemplate,
    UnknownTemplate,
)
from hearth.services.ports import Clock, UnitOfWork

ACTION = "nudges"  # picker buttons: "nudges", "nudges.preview", "nudges.cap.10", …
READS = frozenset({"report", "preview", "templates"})  # answered in private


class NudgesRequest(NamedTuple):
    """What a ``/nudges`` command asks for: ``action`` with its number, kind or text."""

    action: str  # report | preview | templates | pause | resume | cap | holdout | template | …
    number: int | None = None  # the report's days, the cap, the holdout, a template's number
    kind: NudgeKind | None = None
    text: str | None = None

    @property
    def button(self) -> str:
        """The request as a picker button carries it (a template's text never does)."""
        parts = [ACTION] if self.action == "report" else [ACTION, self.action]
        if self.number is not None:
            parts.append(str(self.number))
        return ".".join(parts)


def build() -> Router:
    router = Router(name="nudges")
    # Non-operators' /nudges reaches the fallback's refusal (it is an operator command).
    router.message.register(nudges_command, Command("nudges"), IsOperator())
    router.callback_query.register(
        nudges_chosen, CommunityChoice.filter(F.action.startswith(ACTION))
    )
    return router


def parse_request(arguments: str | None) -> NudgesRequest:
    """The request ``/nudges …`` makes; InvalidArgument with what to type instead."""
    parts = (arguments or "").strip().split(maxsplit=2)
    if not parts:
        return NudgesRequest("report", DEFAULT_REPORT_DAYS)
    action = parts[0].lower()
    if _is_number(action.removesuffix("d")) and len(parts) == 1:
        days = int(action.removesuffix("d"))
        if not 1 <= days <= MAX_REPORT_DAYS:
            raise InvalidArgument(words.bad_days())
        return NudgesRequest("report", days)
    if action in {"preview", "templates", "pause", "resume"} and len(parts) == 1:
        return NudgesRequest(action)
    if action == "cap":
        return NudgesRequest(action, _number(parts, words.bad_cap))
    if action == "holdout":
        return NudgesRequest(action, _number(parts, words.bad_holdout, percent=True))
    if action == "template_remove":
        number = _number(parts, words.remove_usage)
        if number > ROW_ID_LIMIT:  # names no template, and must not reach SQL
            raise InvalidArgument(words.unknown_template(number))
        return NudgesRequest(action, number)
    if action == "template":
        return _template(parts)
    raise InvalidArgument(words.usage())


def _number(parts: list[str], problem: Callable[[], str], *, percent: bool = False) -> int:
    """The one whole number after the action (``10`` or, for a share, ``10%``)."""
    word = parts[1].removesuffix("%") if percent and len(parts) == 2 else " ".join(parts[1:])
    if not _is_number(word):
        raise InvalidArgument(problem())
    return int(word)


def _is_number(word: str) -> bool:
    """ASCII digits only: ``str.isdigit`` also takes ``²``, which ``int`` refuses."""
    return word.isascii() and word.isdigit()


def _template(parts: list[str]) -> NudgesRequest:
    if len(parts) < 3:
        raise InvalidArgument(words.template_usage())
    try:
        kind = NudgeKind(parts[1].lower())
    except ValueError:
        raise InvalidArgument(words.unknown_kind(parts[1])) from None
    return NudgesRequest("template", kind=kind, text=parts[2])


async def nudges_command(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
    clock: Clock,
) -> None:
    request = parse_request(command.args)
    assert message.from_user is not None
    actor_id = message.from_user.id
    choice = picker_button(request.button)

    async def compose(where: CommunityProfile) -> PrivateAnswer:
        return PrivateAnswer(await respond(request, uow, where, actor_id, clock))

    if request.action in READS:
        private = PrivateRequest(message, bot, community, member, uow, directory)
        await private.answer(operators, "nudges", choice, compose)
        return
    where = community
    if where is None and request.action == "template":
        operated = await operators.operated(bot, uow, actor_id)
        if len(operated) != 1:  # the text cannot ride on a picker's button
            await message.answer(words.template_in_group())
            return
        where = operated[0]
    where = where or await community_or_picker(message, bot, uow, operators, choice)
    if where is not None:
        await message.answer(await respond(request, uow, where, actor_id, clock))


async def nudges_chosen(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, shown_on = chosen
    request = parse_request(callback_data.action.removeprefix(ACTION).replace(".", " "))
    await query.answer()
    await shown_on.answer(await respond(request, uow, community, query.from_user.id, clock))


async def respond(
    request: NudgesRequest,
    uow: UnitOfWork,
    community: CommunityProfile,
    actor_id: int,
    clock: Clock,
) -> str:
    """Do what the request asks in ``community``; the answer's text."""
    now = clock.now()
    action = request.action
    if action == "report":
        days = request.number or DEFAULT_REPORT_DAYS
        return words.report_text(await nudge_admin.report(uow, community, now, days))
    if action == "preview":
        preview = await nudges.preview(uow, community, now)
        return words.preview_text(community.title, preview, community.timezone)
    if action == "templates":
        return words.templates_text(community.title, await nudge_admin.templates(uow, community.id))
    return await _change(request, uow, community.id, actor_id, clock)


async def _change(
    request: NudgesRequest, uow: UnitOfWork, community_id: int, actor_id: int, clock: Clock
) -> str:
    """Apply a change of settings or templates; the confirmation, or why it was refused."""
    now, action, number = clock.now(), request.action, request.number or 0
    try:
        if action in {"pause", "resume"}:
            await nudge_admin.set_paused(
                uow, community_id, action == "pause", actor_id=actor_id, now=now
            )
            return words.paused(action == "pause")
        if action == "cap":
            await nudge_admin.set_daily_cap(uow, community_id, number, actor_id=actor_id, now=now)
            return words.cap_set(number)
        if action == "holdout":
            await nudge_admin.set_holdout(uow, community_id, number, actor_id=actor_id, now=now)
            return words.holdout_set(number)
        if action == "template_remove":
            await nudge_admin.remove_template(uow, community_id, number, actor_id=actor_id, now=now)
            return words.template_removed(number)
        assert request.kind is not None
        assert request.text is not None
        added = await nudge_admin.add_template(
            uow, community_id, request.kind, request.text, actor_id=actor_id, now=now
        )
        return words.template_added(added)
    except BadTemplate as error:
        raise InvalidArgument(words.bad_template(error)) from None
    except UnknownTemplate:
        raise InvalidArgument(words.unknown_template(number)) from None
    except ValueError:
        raise InvalidArgument(words.bad_cap() if action == "cap" else words.bad_holdout()) from None
