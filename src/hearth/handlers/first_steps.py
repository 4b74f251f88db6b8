"""A newcomer's first steps in private: the missions checklist (while the community's
missions are on) and the offer of the profile questionnaire (until they answered it).

Shown after /start for the community the member belongs to, and when a member who started
the bot joins the group (a friend who opened an invite starts the bot before joining).
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot

from hearth.domain.members import CommunityProfile
from hearth.handlers import missions, profile
from hearth.services.ports import UnitOfWork


async def first_steps(
    bot: Bot, uow: UnitOfWork, community: CommunityProfile, member_id: int, now: datetime
) -> None:
    await missions.show_checklist(bot, uow, community, member_id, now)
    await profile.offer(bot, uow, community, member_id)
