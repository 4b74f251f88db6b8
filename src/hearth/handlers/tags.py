"""Operators tag members: /tag and /untag (with @username, an id, or as a reply to the
member's message in the group) and /tags, the community's tags with how many members
carry each (answered in private, like every list of members).
"""

from __future__ import annotations

import re

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from hearth.domain.errors import InvalidArgument
from hearth.domain.members import CommunityProfile, MemberProfile, Person
from hearth.handlers import segments_keyboards as buttons
from hearth.handlers import segments_texts as words
from hearth.handlers import texts
from hearth.handlers.callbacks import TagsOf
from hearth.handlers.fallback import refuse_non_operator_button
from hearth.handlers.filters import InPrivate, IsOperator, OperatorDirectory
from hearth.handlers.people import message_author
from hearth.handlers.personal import chosen_operated_community, operated_community
from hearth.handlers.private_answers import PrivateAnswer, PrivateRequest
from hearth.handlers.replies import replace_message
from hearth.services import members, segments
from hearth.services.directory import Directory
from hearth.services.ports import Clock, UnitOfWork
from hearth.services.segments import BadTag, TooManyTags

_NAMED = re.compile(rf"({members.MEMBER_REFERENCE})\s+(.+)", re.DOTALL)
_SEPARATORS = re.compile(r"[\s,，、]+")


def build() -> Router:
    router = Router(name="tags")
    router.message.register(change_tags, Command("tag", "untag"), IsOperator())
    router.message.register(show_tags, Command("tags"), IsOperator())
    router.callback_query.register(tags_of, TagsOf.filter(), InPrivate(), IsOperator())
    router.callback_query.register(refuse_non_operator_button, TagsOf.filter(), ~IsOperator())
    return router


async def change_tags(
    message: Message,
    command: CommandObject,
    bot: Bot,
    community: CommunityProfile | None,
    person: Person | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    clock: Clock,
) -> None:
    reference, tag_words = _parse(message, command)
    try:
        names = segments.tag_names(tag_words)
    except BadTag as bad:
        raise InvalidArgument(words.bad_tag(bad.word)) from None
    except TooManyTags:
        raise InvalidArgument(words.too_many_tags()) from None
    where = await operated_community(message, bot, community, uow, operators)
    if where is None or person is None:
        return
    target = await members.current_member(uow, where.id, reference)
    if target is None:
        await message.answer(texts.unknown_member())
        return
    change = segments.tag if command.command == "tag" else segments.untag
    done = await change(uow, where, target.id, names, actor_id=person.id, now=clock.now())
    # The group hears only what the operator typed there: the member's other tags stay
    # with the operators (/tags, /member).
    tags = None if community is not None else done.tags
    if command.command == "tag":
        await message.answer(words.tagged(target.first_name, done.changed, tags))
    else:
        await message.answer(words.untagged(target.first_name, done.changed, tags))


def _parse(message: Message, command: CommandObject) -> tuple[str, list[str]]:
    """(the member as "@username" or an id, the tag words) of /tag or /untag: named in the
    command, or the author of the message it replies to."""
    arguments = (command.args or "").strip()
    named = _NAMED.fullmatch(arguments)
    if named is not None:
        return named.group(1), _words(named.group(2))
    replied = message.reply_to_message
    author = message_author(replied) if replied is not None else None
    if author is not None and arguments:
        return str(author.id), _words(arguments)
    raise InvalidArgument(words.tag_usage(command.command))


def _words(text: str) -> list[str]:
    return [word for word in _SEPARATORS.split(text) if word]


async def show_tags(
    message: Message,
    bot: Bot,
    community: CommunityProfile | None,
    member: MemberProfile | None,
    uow: UnitOfWork,
    operators: OperatorDirectory,
    directory: Directory,
) -> None:
    async def compose(where: CommunityProfile) -> PrivateAnswer:
        counts = await segments.tag_counts(uow, where)
        return PrivateAnswer(words.tags_overview(where.title, counts), buttons.tags(where, counts))

    request = PrivateRequest(message, bot, community, member, uow, directory)
    await request.answer(operators, "tags", lambda each: TagsOf(community_id=each.id), compose)


async def tags_of(
    query: CallbackQuery,
    callback_data: TagsOf,
    bot: Bot,
    uow: UnitOfWork,
    operators: OperatorDirectory,
) -> None:
    chosen = await chosen_operated_community(query, bot, uow, operators, callback_data.community_id)
    if chosen is None:
        return
    community, _shown = chosen
    counts = await segments.tag_counts(uow, community)
    await query.answer()
    await replace_message(
        query, words.tags_overview(community.title, counts), buttons.tags(community, counts)
    )
