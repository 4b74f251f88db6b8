"""Members joining and leaving: chat_member updates, with service messages as a fallback."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramForbiddenError
from aiogram.types import ChatMemberUpdated, Message, Update, User
from aiogram.utils.i18n import I18n

from hearth.domain.locales import choose_locale
from hearth.domain.members import (
    ChatRole,
    CommunityProfile,
    JoinOutcome,
    LeaveOutcome,
    MemberProfile,
)
from hearth.handlers import texts
from hearth.handlers.filters import InGroup, MemberLeft, NewMembers, OperatorDirectory, Welcomer
from hearth.handlers.first_steps import first_steps
from hearth.handlers.people import chat_role, is_real_member, person_from
from hearth.services import exit_survey, members
from hearth.services.directory import Directory
from hearth.services.ports import ExitSurveyAsker, UnitOfWork

log = logging.getLogger(__name__)


def build() -> Router:
    router = Router(name="membership")
    router.chat_member.register(member_status_changed, InGroup())
    router.message.register(members_joined_message, NewMembers(), InGroup())
    router.message.register(member_left_message, MemberLeft(), InGroup())
    return router


async def member_status_changed(
    event: ChatMemberUpdated,
    event_update: Update,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    operators: OperatorDirectory,
    i18n: I18n,
    welcomes: Welcomer,
    exit_surveys: ExitSurveyAsker,
) -> None:
    user = event.new_chat_member.user
    if community is None or not is_real_member(user):
        return
    old_role, new_role = chat_role(event.old_chat_member), chat_role(event.new_chat_member)
    if old_role != new_role:
        operators.forget(community.id)
    if new_role is None:
        await _left(uow, directory, exit_surveys, community, user, event.date, event_update)
        return
    if old_role is not None:
        await members.role_changed(uow, community_id=community.id, member_id=user.id, role=new_role)
        return
    arrival = Arrival([user], new_role, event.date, event_update.update_id)
    await _welcome(
        arrival, community, bot=bot, uow=uow, directory=directory, i18n=i18n, welcomes=welcomes
    )


async def members_joined_message(
    message: Message,
    event_update: Update,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    i18n: I18n,
    welcomes: Welcomer,
) -> None:
    newcomers = [user for user in message.new_chat_members or [] if is_real_member(user)]
    if community is not None and newcomers:
        arrival = Arrival(newcomers, ChatRole.MEMBER, message.date, event_update.update_id)
        await _welcome(
            arrival, community, bot=bot, uow=uow, directory=directory, i18n=i18n, welcomes=welcomes
        )


async def member_left_message(
    message: Message,
    event_update: Update,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    directory: Directory,
    exit_surveys: ExitSurveyAsker,
) -> None:
    user = message.left_chat_member
    if community is None or user is None or not is_real_member(user):
        return
    await _left(uow, directory, exit_surveys, community, user, message.date, event_update)


async def _left(
    uow: UnitOfWork,
    directory: Directory,
    exit_surveys: ExitSurveyAsker,
    community: CommunityProfile,
    user: User,
    at: datetime,
    update: Update,
) -> None:
    """Record the leave; a member who really left (not a repeated signal) is asked why."""
    outcome = await members.member_left(
        uow, directory, community=community, member_id=user.id, at=at, update_id=update.update_id
    )
    if outcome is LeaveOutcome.LEFT:
        await exit_survey.member_left(
            uow, exit_surveys, community=community, member_id=user.id, now=at
        )


@dataclass(frozen=True, slots=True)
class Arrival:
    """Members a join signal announced."""

    users: list[User]
    role: ChatRole
    at: datetime
    update_id: int


async def _welcome(
    arrival: Arrival,
    community: CommunityProfile,
    *,
    bot: Bot,
    uow: UnitOfWork,
    directory: Directory,
    i18n: I18n,
    welcomes: Welcomer,
) -> None:
    """Record the joins; greet the real newcomers in the group and, if they allow it, privately."""
    greeted: list[User] = []
    for user in arrival.users:
        outcome = await members.member_joined(
            uow,
            directory,
            community=community,
            person=person_from(user),
            role=arrival.role,
            at=arrival.at,
            update_id=arrival.update_id,
        )
        if outcome is not JoinOutcome.ALREADY_MEMBER:
            greeted.append(user)
    if not greeted:
        return
    if community.welcome_enabled:
        await welcomes.welcome(bot, community, [person_from(u).display_name for u in greeted])
    for user in greeted:
        await _onboard_privately(bot, uow, directory, user, community, i18n, arrival.at)


async def _onboard_privately(
    bot: Bot,
    uow: UnitOfWork,
    directory: Directory,
    user: User,
    community: CommunityProfile,
    i18n: I18n,
    at: datetime,
) -> None:
    """Members who started the bot get a private onboarding message, with their first steps
    (missions, questionnaire); others are not written to."""
    member: MemberProfile | None = await uow.members.get(user.id)
    if member is None or not member.writable:
        return
    locale = choose_locale(
        member_choice=member.locale,
        language_code=member.language_code,
        community_locale=community.locale,
        default=i18n.default_locale,
        available=i18n.available_locales,
    )
    with i18n.use_locale(locale):
        try:
            await bot.send_message(user.id, texts.onboarding(community.title))
            await first_steps(bot, uow, community, user.id, at)
        except TelegramForbiddenError:
            await members.set_reachable(uow, directory, member_id=user.id, reachable=False)
        except TelegramAPIError as error:
            log.warning("onboarding for %s not delivered: %s", user.id, error)
