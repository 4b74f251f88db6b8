"""/outbox: operators see what the bot queued, sent and could not deliver."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message

from hearth.domain.members import CommunityProfile
from hearth.handlers import texts
from hearth.handlers.filters import IsOperator, OperatorDirectory
from hearth.handlers.outbox_texts import outbox_report
from hearth.services.delivery import outbox_summary
from hearth.services.ports import Clock, UnitOfWork


def build() -> Router:
    router = Router(name="outbox")
    router.message.register(outbox, Command("outbox"), IsOperator())
    return router


async def outbox(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    """In the group: this community's outbox; in private: every community the operator runs."""
    if community is not None:
        operated = [community]
    else:
        assert message.from_user is not None
        operated = await operators.operated(bot, uow, message.from_user.id)
        if not operated:
            await message.answer(texts.no_communities())
            return
    now = clock.now()
    reports = [
        outbox_report(each.title, await outbox_summary(uow, each.id), now) for each in operated
    ]
    await message.answer("\n\n".join(reports))
