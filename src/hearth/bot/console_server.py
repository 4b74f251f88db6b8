"""Serving the operator console: beside the webhook, or on a port of its own when polling."""

from __future__ import annotations

import logging

from aiohttp import web

from hearth.bot.app import Hearth
from hearth.console.app import PREFIX, ConsoleDeps, build_console
from hearth.storage.engine import create_read_engine, unit_of_work_factory

log = logging.getLogger(__name__)


def console_app(hearth: Hearth) -> web.Application | None:
    """The console's sub-application, to mount at ``PREFIX``; None when it is not set up."""
    access = hearth.console_access
    if access is None:
        return None
    reader = create_read_engine(hearth.settings.database_url)
    console = build_console(
        ConsoleDeps(
            uow_factory=hearth.uow_factory,
            operators=hearth.operators,
            bot=hearth.bot,
            i18n=hearth.i18n,
            keys=access.keys,
            clock=hearth.clock,
            secure_cookie=access.url.startswith("https://"),
            redemption_notices=hearth.notifier,
            announcement_timetable=hearth.timetable,
            event_reminder_hours=hearth.settings.event_reminder_hours,
            read_uow_factory=unit_of_work_factory(reader) if reader is not None else None,
        )
    )
    if reader is not None:

        async def close_reader(_app: web.Application) -> None:
            await reader.dispose()

        console.on_cleanup.append(close_reader)
    return console


def mount_console(app: web.Application, hearth: Hearth) -> bool:
    """Mount the console on ``app`` under ``PREFIX``; False when it is not set up."""
    console = console_app(hearth)
    if console is None:
        return False
    app.add_subapp(PREFIX, console)
    return True


async def start_console_server(hearth: Hearth) -> web.AppRunner | None:
    """When polling: serve the console on ``HEARTH_CONSOLE_LISTEN``; the caller cleans up."""
    app = web.Application()
    if not mount_console(app, hearth):
        return None
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    host, _, port = hearth.settings.console_listen.rpartition(":")
    await web.TCPSite(runner, host, int(port)).start()
    log.info("operator console on http://%s%s/", hearth.settings.console_listen, PREFIX)
    return runner
