"""The onboarding questionnaire: members answer with buttons, operators choose the questions.

Answers are the member's tags (``domain/profile.py``), written the moment a button is
pressed, and each answer is a ``profile`` activity (the newcomer missions look for it).
Operators' changes to the questions are audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hearth.domain.activity import ActivityKind
from hearth.domain.members import CommunityProfile
from hearth.domain.profile import (
    DEFAULT_QUESTIONS,
    BadQuestion,
    NoSuchAnswer,
    ProfileOption,
    ProfileQuestion,
    chosen,
    new_question,
    next_question,
    tap,
    with_option,
    without_option,
)
from hearth.services.members import record_activity
from hearth.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A member's answers in one community: every question asked, with what they chose."""

    community: CommunityProfile
    answers: list[tuple[ProfileQuestion, list[ProfileOption]]]

    @property
    def questions(self) -> list[ProfileQuestion]:
        return [question for question, _ in self.answers]

    @property
    def answered(self) -> bool:
        return any(options for _, options in self.answers)

    def question(self, key: str) -> ProfileQuestion | None:
        return next((question for question in self.questions if question.key == key), None)

    def chosen(self, key: str) -> list[ProfileOption]:
        return next((options for question, options in self.answers if question.key == key), [])

    def after(self, key: str | None) -> ProfileQuestion | None:
        """The question to ask after ``key`` (the first for None), None at the end."""
        return next_question(self.questions, key)


async def questions(uow: UnitOfWork, community: CommunityProfile) -> list[ProfileQuestion]:
    """The questions the community asks: its operators' or, until they change them, the
    defaults."""
    stored = await uow.profile.questions(community.id)
    return list(DEFAULT_QUESTIONS) if stored is None else stored


async def view(uow: UnitOfWork, community: CommunityProfile, member_id: int) -> ProfileView:
    """The member's answers to the community's questions (those with options to press)."""
    tags = await uow.tags.of_member(community.id, member_id)
    asked = [question for question in await questions(uow, community) if question.options]
    return ProfileView(community, [(question, chosen(question, tags)) for question in asked])


async def to_offer(
    uow: UnitOfWork, community: CommunityProfile, member_id: int
) -> ProfileView | None:
    """The questionnaire to offer a member who has not answered any of it yet, or None."""
    found = await view(uow, community, member_id)
    return None if found.answered or not found.questions else found


async def answer(
    uow: UnitOfWork,
    community: CommunityProfile,
    member_id: int,
    *,
    key: str,
    position: int,
    now: datetime,
    update_id: int | None,
) -> ProfileView:
    """The member pressed the option at ``position`` of the question ``key``: a single
    answer replaces their earlier one, a multiple one is toggled. Raises NoSuchAnswer when
    the question or option is no longer asked. Returns the answers as they are now."""
    before = await view(uow, community, member_id)
    question = before.question(key)
    option = question.option(position) if question is not None else None
    if question is None or option is None:
        raise NoSuchAnswer()
    change = tap(question, option, await uow.tags.of_member(community.id, member_id))
    if change.remove:
        await uow.tags.remove(community.id, member_id, change.remove)
    if change.add:
        await uow.tags.add(community.id, member_id, change.add, actor_id=member_id, now=now)
    await record_activity(uow, community, member_id, ActivityKind.PROFILE, now, update_id)
    return await view(uow, community, member_id)


# -- operators


async def add_question(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    key: str,
    prompt: str,
    multiple: bool,
    actor_id: int,
    now: datetime,
) -> list[ProfileQuestion]:
    """Add a question (without options yet) at the end; raises BadQuestion. Audited."""

    def change(asked: list[ProfileQuestion]) -> list[ProfileQuestion]:
        return [*asked, new_question(asked, key, prompt, multiple=multiple)]

    return await _change(uow, community, change, "profile.question_add", key, actor_id, now)


async def remove_question(
    uow: UnitOfWork, community: CommunityProfile, *, key: str, actor_id: int, now: datetime
) -> list[ProfileQuestion]:
    """Stop asking a question (members' answers to it stay their tags); raises
    BadQuestion("unknown"). Audited."""

    def change(asked: list[ProfileQuestion]) -> list[ProfileQuestion]:
        _find(asked, key)
        return [question for question in asked if question.key != key]

    return await _change(uow, community, change, "profile.question_remove", key, actor_id, now)


async def add_option(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    key: str,
    label: str,
    actor_id: int,
    now: datetime,
) -> list[ProfileQuestion]:
    """Add an option to a question; raises BadQuestion. Audited."""

    def change(asked: list[ProfileQuestion]) -> list[ProfileQuestion]:
        return _replaced(asked, with_option(_find(asked, key), label))

    return await _change(
        uow, community, change, "profile.option_add", key, actor_id, now, option=label
    )


async def remove_option(
    uow: UnitOfWork,
    community: CommunityProfile,
    *,
    key: str,
    label: str,
    actor_id: int,
    now: datetime,
) -> list[ProfileQuestion]:
    """Take an option off a question (by its label or slug); raises BadQuestion. Audited."""

    def change(asked: list[ProfileQuestion]) -> list[ProfileQuestion]:
        return _replaced(asked, without_option(_find(asked, key), label))

    return await _change(
        uow, community, change, "profile.option_remove", key, actor_id, now, option=label
    )


def _find(asked: Sequence[ProfileQuestion], key: str) -> ProfileQuestion:
    found = next((question for question in asked if question.key == key.strip().casefold()), None)
    if found is None:
        raise BadQuestion("unknown")
    return found


def _replaced(asked: Sequence[ProfileQuestion], changed: ProfileQuestion) -> list[ProfileQuestion]:
    return [changed if question.key == changed.key else question for question in asked]


async def _change(
    uow: UnitOfWork,
    community: CommunityProfile,
    change: Callable[[list[ProfileQuestion]], list[ProfileQuestion]],
    action: str,
    key: str,
    actor_id: int,
    now: datetime,
    **details: str,
) -> list[ProfileQuestion]:
    """Store ``change(questions)`` (the defaults are stored with the first change)."""
    changed = change(await questions(uow, community))
    await uow.profile.save(community.id, changed, now)
    await uow.audit.record(
        actor_id=actor_id,
        action=action,
        community_id=community.id,
        details={"question": key.strip().casefold(), **details},
        now=now,
    )
    return changed
