"""What routers of one programme share: the update's repository as a handler argument, and
the answer to a refused use case once its writes are undone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject

from hearth.domain.errors import HearthError
from hearth.services.ports import UnitOfWork

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
Middleware = Callable[[Handler, TelegramObject, dict[str, Any]], Awaitable[Any]]
Refusal = Callable[[UnitOfWork, HearthError], Awaitable[str]]


def repository(name: str) -> Middleware:
    """An inner middleware that gives the router's handlers ``uow.<name>`` as the argument
    ``name``: only updates one of its handlers matched pay for it."""

    async def middleware(handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        data[name] = getattr(data["uow"], name)
        return await handler(event, data)

    return middleware


def refusal(
    words: Callable[[HearthError], str],
) -> Callable[[UnitOfWork, HearthError], Awaitable[str]]:
    """``refused(uow, error)``: undo what the refused use case wrote (the update's
    transaction commits on return) and say why, in ``words``."""

    async def refused(uow: UnitOfWork, error: HearthError) -> str:
        await uow.rollback()
        return words(error)

    return refused
