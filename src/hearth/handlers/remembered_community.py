"""The community an operator picked last for a command of several steps (/missions,
/profile_questions): kept in their state, so later commands apply to it without a picker."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from hearth.domain.members import CommunityProfile
from hearth.handlers.filters import OperatorDirectory
from hearth.handlers.personal import chosen_operated_community
from hearth.handlers.private_answers import community_or_picker, picker_button
from hearth.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class RememberedCommunity:
    """The pick, stored under ``key`` in the operator's state; the picker's buttons carry
    ``action``."""

    action: str
    key: str

    async def recall(
        self,
        message: Message,
        bot: Bot,
        uow: UnitOfWork,
        operators: OperatorDirectory,
        state: FSMContext,
        operator_id: int,
    ) -> CommunityProfile | None:
        """The community picked last (if the operator still operates it), their only one, or
        None after showing a picker."""
        picked = (await state.get_data()).get(self.key)
        if isinstance(picked, int):
            for community in await operators.operated(bot, uow, operator_id):
                if community.id == picked:
                    return community
        return await community_or_picker(message, bot, uow, operators, picker_button(self.action))

    async def remember(
        self,
        query: CallbackQuery,
        bot: Bot,
        uow: UnitOfWork,
        operators: OperatorDirectory,
        state: FSMContext,
        community_id: int,
    ) -> CommunityProfile | None:
        """The community the picker's button names, kept as the pick; None (the button
        answered as stale) when it is gone. Raises NotAnOperator unless the presser operates
        it."""
        chosen = await chosen_operated_community(query, bot, uow, operators, community_id)
        if chosen is None:
            return None
        community, _shown = chosen
        await state.update_data({self.key: community.id})
        return community
