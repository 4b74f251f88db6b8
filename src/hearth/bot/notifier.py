"""Private messages the bot writes on its own initiative, in each member's language.

They are rendered when decided and queued in the outbox, in the transaction of the
decision; the delivery worker (``hearth.bot.delivery``) sends them within Telegram's limits.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from hearth.domain.delivery import Method, OutgoingMessage, Priority
from hearth.domain.locales import choose_locale
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.domain.points import Tier
from hearth.domain.rewards import Redemption
from hearth.handlers import keyboards, rewards_texts, texts
from hearth.handlers.texts import quote
from hearth.services.ports import Clock, UnitOfWork


class OutboxWriter:
    """Renders messages in the reader's language and queues them in the caller's transaction.

    ``wake`` is called after a commit that queued something, so that the delivery worker
    need not wait for its next look at the queue.
    """

    def __init__(self, i18n: I18n, clock: Clock) -> None:
        self.i18n = i18n
        self.clock = clock
        self.wake: Callable[[], None] = lambda: None

    def speaking_to(
        self, member: MemberProfile | None, community: CommunityProfile
    ) -> contextlib.AbstractContextManager[None]:
        """Texts rendered inside speak the member's language (or the community's)."""
        locale = choose_locale(
            member_choice=member.locale if member else None,
            language_code=member.language_code if member else None,
            community_locale=community.locale,
            default=self.i18n.default_locale,
            available=self.i18n.available_locales,
        )
        return _Locale(self.i18n, locale)

    async def queue(self, uow: UnitOfWork, message: OutgoingMessage) -> bool:
        """Queue a message unless its key is known; True when it was new."""
        if not await uow.outbox.add(message, self.clock.now()):
            return False
        uow.on_commit(self.wake)
        return True

    async def replace(self, uow: UnitOfWork, message: OutgoingMessage) -> None:
        """Queue a message, or refresh the unsent one with its key (latest version wins)."""
        await uow.outbox.replace_queued(message, self.clock.now())
        uow.on_commit(self.wake)

    async def operator_note(
        self,
        uow: UnitOfWork,
        community: CommunityProfile,
        operator: MemberProfile,
        render: Callable[[], str],
        *,
        kind: str,
        window: int,
    ) -> None:
        """Queue a note to an operator that stands for a whole window of ``window`` seconds:
        every call within it refreshes the one queued note (the latest ``render()``, in the
        operator's language, wins), which goes out when the window closes. Its key is
        ``kind`` (dashed), the community, the operator and the window's number."""
        bucket = int(self.clock.now().timestamp()) // window
        with self.speaking_to(operator, community):
            text = render()
        await self.replace(
            uow,
            message(
                f"{kind.replace('_', '-')}:{community.id}:{operator.id}:{bucket}",
                operator.id,
                text,
                kind=kind,
                priority=Priority.REMINDER,
                community_id=community.id,
                member_id=operator.id,
                not_before=datetime.fromtimestamp((bucket + 1) * window, UTC),
            ),
        )

    async def to_member(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile | None,
        text: str,
        *,
        kind: str,
        markup: InlineKeyboardMarkup | None = None,
        photo: str | None = None,
        priority: Priority = Priority.REMINDER,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> bool:
        """Queue a private message to a member (``text`` already rendered), sent no later
        than ``not_after`` when given."""
        return await self.queue(
            uow,
            message(
                key,
                member.id,
                text,
                kind=kind,
                markup=markup,
                photo=photo,
                priority=priority,
                community_id=community.id if community else None,
                member_id=member.id,
                not_before=not_before,
                not_after=not_after,
            ),
        )


def message(
    key: str,
    chat_id: int,
    text: str,
    *,
    kind: str,
    markup: InlineKeyboardMarkup | None = None,
    photo: str | None = None,
    priority: Priority = Priority.BROADCAST,
    community_id: int | None = None,
    member_id: int | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
) -> OutgoingMessage:
    """An outbox message: a text, or a photo with the text as its caption."""
    content: dict[str, Any] = {"photo": photo, "caption": text} if photo else {"text": text}
    return OutgoingMessage(
        dedupe_key=key,
        chat_id=chat_id,
        payload=_with_markup(content, markup),
        kind=kind,
        priority=priority,
        method=Method.SEND_PHOTO if photo else Method.SEND_MESSAGE,
        community_id=community_id,
        member_id=member_id,
        not_before=not_before,
        not_after=not_after,
    )


def _with_markup(payload: dict[str, Any], markup: InlineKeyboardMarkup | None) -> dict[str, Any]:
    """The Bot API parameters with the buttons, stored as JSON."""
    if markup is not None:
        payload["reply_markup"] = markup.model_dump(mode="json", exclude_none=True)
    return payload


def edit(
    key: str,
    chat_id: int,
    message_id: int,
    text: str,
    *,
    kind: str,
    markup: InlineKeyboardMarkup | None = None,
    community_id: int | None = None,
    not_before: datetime | None = None,
) -> OutgoingMessage:
    """An outbox edit of a message the bot sent earlier (e.g. a card's live counts)."""
    return OutgoingMessage(
        dedupe_key=key,
        chat_id=chat_id,
        payload=_with_markup({"message_id": message_id, "text": text}, markup),
        kind=kind,
        priority=Priority.BROADCAST,
        method=Method.EDIT_MESSAGE_TEXT,
        community_id=community_id,
        not_before=not_before,
    )


class PrivateNotifier:
    """The reminders of check-ins and points and the notes of settled redemptions, queued in
    the member's language."""

    def __init__(self, outbox: OutboxWriter) -> None:
        self.outbox = outbox

    async def checkin_reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        streak: int,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = texts.checkin_reminder(community.title, streak)
            markup = keyboards.checkin_now(community)
        return await self.outbox.to_member(
            uow, key, member, community, text, kind="checkin_reminder", markup=markup
        )

    async def expiry_reminder(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        points: int,
        day: date,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = texts.expiry_reminder(points, day, community.title)
        return await self.outbox.to_member(
            uow, key, member, community, text, kind="expiry_reminder"
        )

    async def tier_reached(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        tier: Tier,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = f"{quote(community.title)}: {texts.tier_reached(tier)}"
        return await self.outbox.to_member(uow, key, member, community, text, kind="tier")

    async def redemption_settled(
        self,
        uow: UnitOfWork,
        key: str,
        member: MemberProfile,
        community: CommunityProfile,
        redemption: Redemption,
        reward_title: str,
    ) -> bool:
        with self.outbox.speaking_to(member, community):
            text = rewards_texts.settled_for_member(redemption, reward_title, community.title)
        return await self.outbox.to_member(
            uow, key, member, community, text, kind="redemption_settled"
        )


class _Locale:
    """``with`` both the i18n context and a locale."""

    def __init__(self, i18n: I18n, locale: str) -> None:
        self._i18n = i18n
        self._locale = locale
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> None:
        self._stack.enter_context(self._i18n.context())
        self._stack.enter_context(self._i18n.use_locale(self._locale))

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
