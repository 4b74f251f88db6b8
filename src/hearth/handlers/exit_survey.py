"""The exit survey's answers: a tap on a reason, then optionally a few words in private.

The question itself is queued when the member leaves (``handlers/membership.py``); a tap
is checked against the question the member was really asked.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from hearth.domain.exit_survey import CommentTooLong, UnknownSurvey, comment_still_welcome
from hearth.handlers import exit_survey_texts, texts
from hearth.handlers.events_dialog import HasText, NotACommand
from hearth.handlers.exit_survey_texts import ExitAnswer
from hearth.handlers.filters import InPrivate
from hearth.handlers.replies import replace_message
from hearth.services import exit_survey
from hearth.services.ports import Clock, UnitOfWork

ANSWERED = "exit_survey"  # FSM data: the community answered about, and when


class ExitSurveyDialog(StatesGroup):
    comment = State()  # the member tapped a reason: their next message may add a few words


def build() -> Router:
    router = Router(name="exit_survey")
    router.callback_query.register(answer, ExitAnswer.filter())
    router.message.register(
        skip, Command("skip", "cancel"), StateFilter(ExitSurveyDialog.comment), InPrivate()
    )
    router.message.register(
        comment, StateFilter(ExitSurveyDialog.comment), InPrivate(), NotACommand(), HasText()
    )
    return router


async def answer(
    query: CallbackQuery,
    callback_data: ExitAnswer,
    uow: UnitOfWork,
    state: FSMContext,
    clock: Clock,
) -> None:
    now = clock.now()
    try:
        await exit_survey.answer(
            uow,
            community_id=callback_data.community_id,
            member_id=query.from_user.id,
            reason=callback_data.reason,
            now=now,
        )
    except UnknownSurvey:
        await query.answer(texts.stale_button(), show_alert=True)  # forged, or someone else's
        return
    await state.clear()
    await state.set_state(ExitSurveyDialog.comment)
    await state.update_data(
        {ANSWERED: {"community_id": callback_data.community_id, "at": now.isoformat()}}
    )
    await query.answer()
    await replace_message(query, exit_survey_texts.thanks(callback_data.reason), None)


async def skip(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(exit_survey_texts.skipped())


async def comment(message: Message, uow: UnitOfWork, state: FSMContext, clock: Clock) -> None:
    answered = (await state.get_data()).get(ANSWERED)
    if (
        not isinstance(answered, dict)
        or message.from_user is None
        or not comment_still_welcome(datetime.fromisoformat(answered["at"]), clock.now())
    ):
        # long after the tap: this message is about something else
        await state.clear()
        raise SkipHandler()
    try:
        await exit_survey.add_comment(
            uow,
            community_id=int(answered["community_id"]),
            member_id=message.from_user.id,
            text=message.text,
        )
    except CommentTooLong as error:
        await message.answer(exit_survey_texts.comment_too_long(error.limit))
        return
    except UnknownSurvey:
        await state.clear()
        await message.answer(texts.stale_button())
        return
    await state.clear()
    await message.answer(exit_survey_texts.comment_kept())
