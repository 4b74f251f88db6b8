"""The buttons on a nudge: check in, see the event, spend points, play a quiz, claim the
comeback bonus — each records the member's first tap, then does what the button says — and
"Stop these messages", which turns nudges off in one tap and offers "Undo".

The nudge's id travels in the button: a tap on a nudge that was not sent to the presser is
refused as a stale button and changes nothing.
"""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, Message, Update

from hearth.domain.calendar import local_day
from hearth.domain.members import CommunityProfile
from hearth.domain.nudges import NudgeRecord
from hearth.handlers import checkin, events_texts, keyboards, nudges_texts, quizzes, rewards, texts
from hearth.handlers.callbacks import CommunityChoice, NudgeAction, NudgeTap
from hearth.handlers.events_callbacks import listing_buttons
from hearth.handlers.replies import replace_message
from hearth.services import events, nudge_choices
from hearth.services.nudge_choices import (
    NotAnOffer,
    OfferAfterLeaving,
    OfferExpired,
    UnknownNudge,
)
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="nudge_taps")
    router.callback_query.register(tapped, NudgeTap.filter())
    return router


async def tapped(
    query: CallbackQuery,
    callback_data: NudgeTap,
    bot: Bot,
    event_update: Update,
    uow: UnitOfWork,
    clock: Clock,
) -> None:
    member_id, nudge_id, action = query.from_user.id, callback_data.nudge_id, callback_data.action
    try:
        if action is NudgeAction.STOP:
            await nudge_choices.stop(uow, nudge_id, member_id, clock.now())
            await query.answer()
            if isinstance(query.message, Message):
                await query.message.answer(
                    nudges_texts.stopped(), reply_markup=keyboards.nudges_stopped(nudge_id)
                )
            return
        if action is NudgeAction.UNDO:
            await nudge_choices.undo_stop(uow, nudge_id, member_id, clock.now())
            await query.answer()
            await replace_message(query, nudges_texts.undone(), None)
            return
        record = await nudge_choices.tap(uow, nudge_id, member_id, clock.now())
        community = await uow.communities.get(record.community_id)
        if community is None:
            raise UnknownNudge()
        if action is NudgeAction.CLAIM:
            await _claim(query, uow, record, community, clock)
        elif action is NudgeAction.EVENT:
            await _event(query, uow, record, community, clock)
        else:
            await _act(query, bot, event_update, uow, clock, community, action)
    except (UnknownNudge, NotAnOffer):
        await uow.rollback()  # a forged or stale button changes nothing
        await query.answer(texts.stale_button(), show_alert=True)
    except (OfferExpired, OfferAfterLeaving) as closed:
        await uow.rollback()  # a refused claim changes nothing, not even the click
        await query.answer(nudges_texts.offer_closed(closed), show_alert=True)


async def _act(
    query: CallbackQuery,
    bot: Bot,
    event_update: Update,
    uow: UnitOfWork,
    clock: Clock,
    community: CommunityProfile,
    action: NudgeAction,
) -> None:
    """Check in, the rewards list or a practice quiz: as the community picker's buttons do."""
    choice = CommunityChoice(action=action.value, community_id=community.id)
    if action is NudgeAction.REWARDS:
        await rewards.rewards_of(query, choice, uow, uow.rewards, clock)
    elif action is NudgeAction.QUIZ:
        await quizzes.chosen(query, choice, bot, uow, clock)
    else:
        await checkin.check_in_chosen(query, choice, event_update, uow, clock)


async def _event(
    query: CallbackQuery,
    uow: UnitOfWork,
    record: NudgeRecord,
    community: CommunityProfile,
    clock: Clock,
) -> None:
    """The nudge's event with its RSVP buttons (the community's upcoming events when it is
    over or was never named)."""
    listings = await events.upcoming(
        uow, communities=[community], member_id=record.member_id, now=clock.now()
    )
    named = [listing for listing in listings if listing.event.id == record.event_id]
    shown = named or listings
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.answer(
            events_texts.events_list(shown),
            reply_markup=listing_buttons([listing.event for listing in shown]),
        )


async def _claim(
    query: CallbackQuery,
    uow: UnitOfWork,
    record: NudgeRecord,
    community: CommunityProfile,
    clock: Clock,
) -> None:
    now = clock.now()
    credited = await nudge_choices.claim_comeback(uow, record, community, now)
    if not credited:
        await query.answer(nudges_texts.already_claimed(), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        until = local_day(nudge_choices.comeback_expires_at(now), community.timezone)
        await query.message.answer(nudges_texts.claimed(credited, community.title, until))
