"""Running the bot: long polling by default, a webhook server when a webhook URL is set.

``hearth run --workers N`` starts N webhook worker processes that share one port
(``SO_REUSEPORT``: the kernel spreads connections over them), the database and Redis; the
supervisor restarts a worker that dies and stops them all on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import suppress
from urllib.parse import urlsplit

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

from hearth.bot.app import Hearth
from hearth.bot.console_server import mount_console, start_console_server
from hearth.bot.metrics import MULTIPROCESS_ENV, mark_worker_dead
from hearth.bot.operations import add_operations_routes

WORKER_ENV = "HEARTH_WORKER_INDEX"
RESTART_BACKOFF_SECONDS = (1, 2, 5, 10, 30)
STABLE_SECONDS = 60  # a worker that ran this long before dying starts the back-off anew

log = logging.getLogger(__name__)


async def run_polling(hearth: Hearth, *, polling_timeout: int = 10) -> None:
    """Long polling until SIGINT/SIGTERM; shutdown waits for running handlers. The operator
    console, when set up, is served on a port of its own meanwhile."""
    await hearth.bot.delete_webhook(drop_pending_updates=False)
    console = await start_console_server(hearth)
    try:
        await hearth.dispatcher.start_polling(
            hearth.bot,
            allowed_updates=hearth.allowed_updates,
            polling_timeout=polling_timeout,
            handle_signals=True,
            tasks_concurrency_limit=hearth.settings.max_concurrent_updates,
        )
    finally:
        if console is not None:
            await console.cleanup()


def build_webhook_app(hearth: Hearth, *, register: bool = True) -> web.Application:
    """The aiohttp application that receives updates; requests without the secret get 401.

    It also serves ``/healthz`` and ``/metrics``. With several workers only the first one
    registers the webhook with Telegram (``register``).
    """
    settings = hearth.settings
    assert settings.webhook_url is not None
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    path = urlsplit(settings.webhook_url).path or "/"
    app = web.Application()
    # Answered only once the update was handled: Telegram sends an update again when its
    # worker died before answering (aiogram's default answers first, and loses it).
    SimpleRequestHandler(
        dispatcher=hearth.dispatcher,
        bot=hearth.bot,
        secret_token=secret,
        handle_in_background=False,
    ).register(app, path=path)
    setup_application(app, hearth.dispatcher, bot=hearth.bot)
    add_operations_routes(app, hearth)
    mount_console(app, hearth)

    async def register_webhook(_app: web.Application) -> None:
        await hearth.bot.set_webhook(
            settings.webhook_url or "",
            secret_token=secret,
            allowed_updates=hearth.allowed_updates,
        )
        log.info("webhook registered at %s", settings.webhook_url)

    if register:
        app.on_startup.append(register_webhook)
    return app


async def run_webhook(hearth: Hearth) -> None:
    """Serve the webhook on ``HEARTH_WEBHOOK_LISTEN`` until SIGINT/SIGTERM."""
    worker = os.environ.get(WORKER_ENV)
    app = build_webhook_app(hearth, register=worker in {None, "0"})
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(
        runner,
        hearth.settings.webhook_host,
        hearth.settings.webhook_port,
        reuse_port=worker is not None,  # the workers of one supervisor share the port
    )
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


def supervise(workers: int, command: Sequence[str]) -> int:
    """Run ``workers`` copies of ``command`` until SIGINT/SIGTERM; restart any that dies.

    Returns the exit code: 0 after a requested stop. The workers get ``HEARTH_WORKER_INDEX``
    and a shared Prometheus multiprocess folder, so that ``/metrics`` adds them all up.
    """
    import subprocess

    metrics_dir = tempfile.mkdtemp(prefix="hearth-metrics-")
    environment = {**os.environ, MULTIPROCESS_ENV: metrics_dir}
    stopping = False

    def start(index: int) -> subprocess.Popen[bytes]:
        log.info("starting worker %d", index)
        return subprocess.Popen([*command], env={**environment, WORKER_ENV: str(index)})

    def stop(_signal: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    processes = {index: start(index) for index in range(workers)}
    started_at = dict.fromkeys(processes, time.monotonic())
    crashes = dict.fromkeys(processes, 0)  # in a row: reset once a worker ran a while
    restart_at: dict[int, float] = {}
    try:
        while not stopping:
            time.sleep(0.2)
            now = time.monotonic()
            for index, process in list(processes.items()):
                if index in restart_at:
                    if now >= restart_at[index]:
                        del restart_at[index]
                        processes[index] = start(index)
                        started_at[index] = now
                    continue
                code = process.poll()
                if code is None or stopping:
                    continue
                mark_worker_dead(process.pid)
                if now - started_at[index] > STABLE_SECONDS:
                    crashes[index] = 0
                pause = RESTART_BACKOFF_SECONDS[
                    min(crashes[index], len(RESTART_BACKOFF_SECONDS) - 1)
                ]
                crashes[index] += 1
                log.warning("worker %d exited with %s; restarting in %ss", index, code, pause)
                restart_at[index] = now + pause
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 40
        for process in processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            if process.poll() is None:
                process.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for name in os.listdir(metrics_dir):
            with suppress(OSError):
                os.remove(os.path.join(metrics_dir, name))
        with suppress(OSError):
            os.rmdir(metrics_dir)
    return 0


def worker_command() -> list[str]:
    """How the supervisor starts one worker: this Python, ``hearth run`` in worker mode."""
    return [sys.executable, "-m", "hearth", "run", "--workers", "1", "--worker"]
