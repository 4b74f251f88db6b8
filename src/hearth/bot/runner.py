"""Running the bot: long polling by default, a webhook server when a webhook URL is set."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import suppress
from urllib.parse import urlsplit

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from hearth.bot.app import Hearth

log = logging.getLogger(__name__)


async def run_polling(hearth: Hearth, *, polling_timeout: int = 10) -> None:
    """Long polling until SIGINT/SIGTERM; shutdown waits for running handlers."""
    await hearth.bot.delete_webhook(drop_pending_updates=False)
    await hearth.dispatcher.start_polling(
        hearth.bot,
        allowed_updates=hearth.allowed_updates,
        polling_timeout=polling_timeout,
        handle_signals=True,
        tasks_concurrency_limit=hearth.settings.max_concurrent_updates,
    )


def build_webhook_app(hearth: Hearth) -> web.Application:
    """The aiohttp application that receives updates; requests without the secret get 401."""
    settings = hearth.settings
    assert settings.webhook_url is not None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    path = urlsplit(settings.webhook_url).path or "/"
    app = web.Application()
    SimpleRequestHandler(
        dispatcher=hearth.dispatcher, bot=hearth.bot, secret_token=secret
    ).register(app, path=path)
    setup_application(app, hearth.dispatcher, bot=hearth.bot)

    async def register_webhook(_app: web.Application) -> None:
        await hearth.bot.set_webhook(
            settings.webhook_url or "",
            secret_token=secret,
            allowed_updates=hearth.allowed_updates,
        )
        log.info("webhook registered at %s", settings.webhook_url)

    app.on_startup.append(register_webhook)
    return app


async def run_webhook(hearth: Hearth) -> None:
    """Serve the webhook on ``HEARTH_WEBHOOK_LISTEN`` until SIGINT/SIGTERM."""
    app = build_webhook_app(hearth)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, hearth.settings.webhook_host, hearth.settings.webhook_port)
    await site.start()
    log.info("listening for webhooks on %s", hearth.settings.webhook_listen)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await hearth.bot.session.close()
