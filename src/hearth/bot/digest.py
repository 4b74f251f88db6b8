"""The weekly digest on its way: who operates a community, and each operator's copy queued
in the outbox in their language — a text, then the three charts as photos.

The charts are rendered once per language and stored in ``attachment``; the photo messages
refer to them by id (``{"attachment": id, "caption": ...}``) and the delivery worker
uploads the bytes when it sends them, so a restart in between loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.utils.i18n import I18n, get_i18n

from hearth.bot.notifier import OutboxWriter
from hearth.bot.operators import ChatAdminOperators
from hearth.domain.delivery import Method, OutgoingMessage, Priority
from hearth.domain.members import CommunityProfile, MemberProfile
from hearth.handlers import digest_texts
from hearth.handlers.cohorts import Chart
from hearth.handlers.digest import chart_images
from hearth.i18n import build_i18n
from hearth.services import digest
from hearth.services.digest import Digest, digest_key
from hearth.services.ports import Clock, UnitOfWork

log = logging.getLogger(__name__)

KIND = "digest"
CHART_KIND = "digest_chart"


class OutboxDigests:
    """Queues the weekly digest for operators, within the caller's transaction."""

    def __init__(
        self, bot: Bot, operators: ChatAdminOperators, outbox: OutboxWriter, clock: Clock
    ) -> None:
        self.bot = bot
        self.directory = operators
        self.outbox = outbox
        self.clock = clock

    async def operators(self, community: CommunityProfile) -> list[int]:
        """The configured operators and the chat's administrators (not bots); only the
        configured ones when Telegram cannot say who administers the chat."""
        found = set(self.directory.operator_ids)
        try:
            admins = await self.directory.administrators(self.bot, community.id)
        except TelegramAPIError as error:
            log.warning("administrators of %s unavailable for the digest: %s", community.id, error)
        else:
            found |= {admin.user.id for admin in admins if not admin.user.is_bot}
        return sorted(found)

    async def post(
        self, uow: UnitOfWork, composed: Digest, recipients: Sequence[MemberProfile]
    ) -> int:
        """Queue each recipient's digest: the text, then one photo per chart; how many
        recipients' digests were new. The charts are drawn once per language, before
        anything is written."""
        community = composed.community
        texts: list[tuple[MemberProfile, str, str]] = []  # (operator, locale, text)
        drawn: dict[str, list[Chart]] = {}
        for operator in recipients:
            with self.outbox.speaking_to(operator, community):
                locale = get_i18n().current_locale
                texts.append((operator, locale, digest_texts.digest_text(composed)))
                if locale not in drawn:
                    drawn[locale] = chart_images(composed.charts, community)
        stored: dict[str, list[tuple[Chart, int]]] = {}
        queued = 0
        for operator, locale, text in texts:
            key = digest_key(community.id, operator.id, composed.week)
            if not await self.outbox.to_member(uow, key, operator, community, text, kind=KIND):
                continue
            if locale not in stored:
                stored[locale] = [
                    (chart, await self._store(uow, composed, chart, locale))
                    for chart in drawn[locale]
                ]
            for chart, attachment_id in stored[locale]:
                await self.outbox.queue(
                    uow,
                    OutgoingMessage(
                        dedupe_key=f"{key}:{chart.name}",
                        chat_id=operator.id,
                        payload={"attachment": attachment_id, "caption": chart.caption},
                        kind=CHART_KIND,
                        priority=Priority.REMINDER,  # as the text: they follow it in order
                        method=Method.SEND_PHOTO,
                        community_id=community.id,
                        member_id=operator.id,
                    ),
                )
            queued += 1
        return queued

    async def _store(self, uow: UnitOfWork, composed: Digest, chart: Chart, locale: str) -> int:
        """Keep a chart until the delivery worker sends it; its attachment id."""
        filename = f"digest-{composed.community.id}-{composed.week}-{locale}-{chart.filename}"
        return await uow.attachments.add(filename, chart.png, self.clock.now())


async def digest_charts(
    uow: UnitOfWork, community: CommunityProfile, today: date, *, i18n: I18n | None = None
) -> list[Chart]:
    """The digest's three charts of ``community`` as of its local day ``today``, in the
    community's language: members active per day, members by stage, retention."""
    series = await digest.chart_series(uow, community, today)
    i18n = i18n or build_i18n()
    locale = community.locale if community.locale in i18n.available_locales else None
    with i18n.context(), i18n.use_locale(locale or i18n.default_locale):
        return chart_images(series, community)


async def write_digest_charts(
    uow: UnitOfWork,
    community: CommunityProfile,
    today: date,
    folder: Path,
    *,
    i18n: I18n | None = None,
) -> list[Path]:
    """Write ``digest_charts`` as ``digest-<name>.png`` files in ``folder`` (the simulation
    shows them); their paths."""
    charts = await digest_charts(uow, community, today, i18n=i18n)
    return await asyncio.to_thread(_save, charts, folder)


def _save(charts: Sequence[Chart], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for chart in charts:
        path = folder / f"digest-{chart.filename}"
        path.write_bytes(chart.png)
        paths.append(path)
    return paths
