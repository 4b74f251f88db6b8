"""Operator on/off switches of a group (/welcome, /milestones): one shape, several settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, Person
from hearth.handlers import texts
from hearth.handlers.filters import InGroup, IsOperator
from hearth.services.communities import OnOffSetting
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork


@dataclass(frozen=True, slots=True)
class Switch:
    """A setting an operator turns on or off in the group it is about."""

    command: str
    apply: OnOffSetting
    usage: Callable[[], str]
    changed: Callable[[bool], str]


def on_or_off(command: CommandObject, usage: Callable[[], str]) -> bool:
    """``/<command> on`` is True, ``off`` False; anything else is answered with ``usage()``."""
    argument = (command.args or "").strip().lower()
    if argument not in {"on", "off"}:
        raise InvalidArgument(usage())
    return argument == "on"


def register(router: Router, switch: Switch) -> None:
    """`/<command> on|off` for operators in the group; in private, where to send it."""

    async def flip(
        message: Message,
        command: CommandObject,
        community: CommunityProfile | None,
        person: Person | None,
        uow: UnitOfWork,
        directory: Directory,
        clock: Clock,
    ) -> None:
        if community is None or person is None:
            raise InvalidArgument(switch.usage())
        enabled = on_or_off(command, switch.usage)
        await switch.apply(
            uow,
            directory,
            community_id=community.id,
            enabled=enabled,
            actor_id=person.id,
            now=clock.now(),
        )
        await message.answer(switch.changed(enabled))

    async def in_private(message: Message, **_: Any) -> None:
        await message.answer(texts.group_only(switch.command))

    router.message.register(flip, Command(switch.command), InGroup(), IsOperator())
    router.message.register(in_private, Command(switch.command), IsOperator())
