"""/profile_questions: operators see and change their community's questionnaire, in private.

``/profile_questions`` lists the questions (an operator of several communities picks one
first, and later changes apply to the one picked); ``add``, ``add_multi``, ``option``,
``drop_option`` and ``remove`` change them. Every change is audited by the service.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, Person
from hearth.domain.profile import BadQuestion, ProfileQuestion
from hearth.handlers import profile_texts as words
from hearth.handlers.callbacks import CommunityChoice
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InGroup, InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.remembered_community import RememberedCommunity
from hearth.handlers.replies import redirect, replace_message
from hearth.services import profile
from hearth.services.ports import Clock, UnitOfWork

ACTION = "profile_questions"  # the community picker's buttons
_PICKED = RememberedCommunity(action=ACTION, key="profile_questions_community")


def build() -> Router:
    router = Router(name="profile_questions")
    command = Command("profile_questions")
    router.message.register(manage, command, InPrivate(), IsOperator())
    router.message.register(
        redirect(lambda _command: words.questions_in_private()), command, InGroup(), IsOperator()
    )
    chosen = CommunityChoice.filter(F.action == ACTION)
    router.callback_query.register(questions_of, chosen, InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, chosen)
    return router


async def manage(
    message: Message,
    command: CommandObject,
    bot: Bot,
    person: Person | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
    clock: Clock,
) -> None:
    if person is None:
        return
    community = await _PICKED.recall(message, bot, uow, operators, state, person.id)
    if community is None:
        return
    arguments = (command.args or "").strip()
    if not arguments:
        asked = await profile.questions(uow, community)
        await message.answer(words.questions_overview(community.title, asked))
        return
    try:
        changed = await _change(uow, community, arguments, person.id, clock)
    except BadQuestion as bad:
        raise InvalidArgument(words.bad_question(bad.reason)) from None
    await message.answer(words.questions_changed(community.title, changed))


async def _change(
    uow: UnitOfWork, community: CommunityProfile, arguments: str, actor_id: int, clock: Clock
) -> list[ProfileQuestion]:
    """Apply ``add|add_multi KEY text``, ``option|drop_option KEY label`` or ``remove KEY``."""
    action, _, rest = arguments.partition(" ")
    key, _, text = rest.strip().partition(" ")
    text = text.strip()
    now = clock.now()
    if action in ("add", "add_multi") and key and text:
        return await profile.add_question(
            uow,
            community,
            key=key,
            prompt=text,
            multiple=action == "add_multi",
            actor_id=actor_id,
            now=now,
        )
    if action == "option" and key and text:
        return await profile.add_option(
            uow, community, key=key, label=text, actor_id=actor_id, now=now
        )
    if action == "drop_option" and key and text:
        return await profile.remove_option(
            uow, community, key=key, label=text, actor_id=actor_id, now=now
        )
    if action == "remove" and key and not text:
        return await profile.remove_question(uow, community, key=key, actor_id=actor_id, now=now)
    raise InvalidArgument(words.questions_usage())


async def questions_of(
    query: CallbackQuery,
    callback_data: CommunityChoice,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    state: FSMContext,
) -> None:
    community = await _PICKED.remember(
        query, bot, uow, operators, state, callback_data.community_id
    )
    if community is None:
        return
    asked = await profile.questions(uow, community)
    await query.answer()
    await replace_message(query, words.questions_overview(community.title, asked), None)
