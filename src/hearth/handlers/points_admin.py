"""Operators and points: /grant, /deduct (confirmed by a button), /points_rules, /milestones."""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from hearth.domain.errors import InvalidArgument, NotAnOperator
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.points import NotEnoughPoints
from hearth.handlers import keyboards, switches, texts
from hearth.handlers.callbacks import AdjustmentAnswer
from hearth.handlers.filters import IsOperator, OperatorDirectory
from hearth.handlers.personal import operated_community
from hearth.services import communities, members, points
from hearth.services.directory import Directory
from hearth.services.points import rules_of
from hearth.services.ports import Clock, UnitOfWork

MAX_ADJUSTMENT = 100_000
_ADJUSTMENT = re.compile(rf"({members.MEMBER_REFERENCE})\s+(\S+)\s+(.{{1,200}})", re.DOTALL)


def build() -> Router:
    router = Router(name="points_admin")
    router.message.register(grant, Command("grant", "deduct"), IsOperator())
    router.callback_query.register(answered, AdjustmentAnswer.filter(), IsOperator())
    router.message.register(show_or_change_rules, Command("points_rules"), IsOperator())
    switches.register(
        router,
        switches.Switch(
            "milestones",
            communities.set_milestone_announcements,
            texts.milestones_usage,
            texts.milestones_changed,
        ),
    )
    return router


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A grant or deduction waiting for the operator's confirmation."""

    nonce: str
    community_id: int
    member_id: int
    name: str
    amount: int  # negative for a deduction
    reason: str


def parse_adjustment(command: str, arguments: str | None) -> tuple[str, int, str]:
    """(@username or id, signed amount, reason) from "/grant @alice 50 great photos"."""
    match = _ADJUSTMENT.fullmatch((arguments or "").strip())
    if match is None:
        raise InvalidArgument(texts.adjust_usage(command))
    target, amount_text, reason = match.groups()
    # ASCII digits only: str.isdigit also takes "²", which int refuses.
    if not amount_text.isascii() or not amount_text.isdigit():
        raise InvalidArgument(texts.bad_amount())
    if not 1 <= int(amount_text) <= MAX_ADJUSTMENT:
        raise InvalidArgument(texts.bad_amount())
    amount = int(amount_text)
    return target, amount if command == "grant" else -amount, reason.strip()


async def grant(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    target, amount, reason = parse_adjustment(command.command, command.args)
    where = await operated_community(message, bot, community, uow, operators)
    if where is None:
        return
    member = await members.current_member(uow, where.id, target)
    if member is None:
        await message.answer(texts.unknown_member())
        return
    pending = Adjustment(
        nonce=secrets.token_urlsafe(6),
        community_id=where.id,
        member_id=member.id,
        name=member.first_name,
        amount=amount,
        reason=reason,
    )
    await state.update_data(adjustment=asdict(pending))
    await message.answer(
        texts.confirm_adjustment(pending.name, amount, reason),
        reply_markup=keyboards.confirm_or_cancel(pending.nonce),
    )


async def answered(
    query: CallbackQuery,
    callback_data: AdjustmentAnswer,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    stored = (await state.get_data()).get("adjustment")
    pending = Adjustment(**stored) if isinstance(stored, dict) else None
    if pending is None or pending.nonce != callback_data.nonce:
        await query.answer(texts.stale_button(), show_alert=True)  # old, replayed or forged
        return
    await state.update_data(adjustment=None)
    if not callback_data.confirmed:
        await _close(query, texts.adjustment_cancelled())
        return
    # Checked again for this very community: the operator may have lost their rights since.
    if not await operators.is_operator(bot, pending.community_id, query.from_user.id):
        raise NotAnOperator()
    community = await uow.communities.get(pending.community_id)
    if community is None:
        await query.answer(texts.stale_button(), show_alert=True)
        return
    try:
        balance = await points.adjust(
            uow,
            community=community,
            member_id=pending.member_id,
            amount=pending.amount,
            reason=pending.reason,
            actor_id=query.from_user.id,
            key=f"adjust:{pending.nonce}",
            now=clock.now(),
        )
    except NotEnoughPoints as short:
        await _close(query, texts.not_enough_points(short.balance))
        return
    await _close(query, texts.adjustment_done(pending.name, balance))
    await _tell_member(bot, uow, pending, community)


async def _close(query: CallbackQuery, text: str) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_text(text)


async def _tell_member(
    bot: Bot, uow: UnitOfWork, pending: Adjustment, community: CommunityProfile
) -> None:
    member = await uow.members.get(pending.member_id)
    if member is None or not member.writable:
        return
    try:
        await bot.send_message(
            member.id, texts.points_received(pending.amount, pending.reason, community.title)
        )
    except TelegramAPIError:
        return  # the adjustment stands; the member will see it in /points


async def show_or_change_rules(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
    clock: Clock,
) -> None:
    where = await operated_community(message, bot, community, uow, operators)
    if where is None or person is None:
        return
    arguments = (command.args or "").split()
    if not arguments:
        await message.answer(texts.rules_text(rules_of(where).settings()))
        return
    if len(arguments) != 2 or not arguments[1].isascii() or not arguments[1].isdigit():
        raise InvalidArgument(texts.rules_text(rules_of(where).settings()))
    name, value = arguments[0].lower(), int(arguments[1])
    try:
        await communities.set_points_rule(
            uow,
            directory,
            community=where,
            name=name,
            value=value,
            actor_id=person.id,
            now=clock.now(),
        )
    except KeyError:
        raise InvalidArgument(texts.unknown_rule()) from None
    except ValueError:
        raise InvalidArgument(texts.bad_rule_value()) from None
    await message.answer(texts.rule_changed(name, value))
