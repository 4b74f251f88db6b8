"""The operator console: server-rendered pages on aiohttp, mounted under ``/console``.

Sign-in is by the one-time link ``/console`` gives in private (``services/console``). The
session cookie is signed, HttpOnly and SameSite=Lax; every page of a community asks again
whether the signed-in operator administers it (the bot's own operator directory, so a
demoted admin loses the page at once), and answers "not found" otherwise — the same as for
a community that does not exist, so an id changed by hand learns nothing. Forms carry a
token derived from the session cookie. Actions go through the same services as the bot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aiogram import Bot
from aiogram.utils.i18n import I18n
from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from hearth.domain.events import REMINDER_HOURS
from hearth.domain.members import CommunityProfile
from hearth.services import console
from hearth.services.console import SESSION_SECONDS, ConsoleKeys, ConsoleSession
from hearth.services.ports import (
    AnnouncementTimetable,
    Clock,
    RedemptionNotices,
    UnitOfWork,
    UnitOfWorkFactory,
)

PREFIX = "/console"
COOKIE = "hearth_console"
STATIC = Path(__file__).parent / "static"
LOCALES = {"en": "English", "zh_Hans": "简体中文"}

Page = Callable[[web.Request], Awaitable[web.StreamResponse]]

DEPS: web.AppKey[ConsoleDeps] = web.AppKey("console_deps", object)  # type: ignore[arg-type]


class OperatorDirectory(Protocol):
    """Who operates which community: the bot's own directory (chat admins, cached)."""

    async def operated(self, bot: Bot, uow: UnitOfWork, user_id: int) -> list[CommunityProfile]:
        """Active communities this user may operate."""
        ...


@dataclass(frozen=True, slots=True)
class ConsoleDeps:
    """What the console needs from the running bot."""

    uow_factory: UnitOfWorkFactory
    operators: OperatorDirectory
    bot: Bot
    i18n: I18n
    keys: ConsoleKeys
    clock: Clock
    secure_cookie: bool  # the console is served over HTTPS
    redemption_notices: RedemptionNotices  # tells a member their redemption was settled
    # Re-arms an announcement's job at once after a pause or resume (else the next sweep does).
    announcement_timetable: AnnouncementTimetable | None = None
    event_reminder_hours: tuple[int, ...] = REMINDER_HOURS  # settings.event_reminder_hours
    # Units of work that only read, several at once (a SQLite file's read-only connections);
    # None: reads share ``uow_factory`` one after another.
    read_uow_factory: UnitOfWorkFactory | None = None


def templates(i18n: I18n) -> Environment:
    """Jinja2 templates that speak the request's language through the bot's catalogues."""
    environment = Environment(
        loader=PackageLoader("hearth.console", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text: i18n.gettext(text),
        ngettext=lambda singular, plural, n: i18n.gettext(singular, plural, n),
        newstyle=True,
    )
    return environment


def build_console(deps: ConsoleDeps) -> web.Application:
    """The console as an aiohttp sub-application, to mount at ``PREFIX``."""
    from hearth.console import pages  # the pages import this module's helpers

    app = web.Application(middlewares=[_signed_in])
    app[DEPS] = deps
    app[ENVIRONMENT] = templates(deps.i18n)
    app[PAGE_NAMES] = []  # the community pages besides the overview, as they are added
    app.router.add_get("/login", sign_in)
    app.router.add_get("/lang/{locale}", switch_language)
    app.router.add_post("/logout", sign_out)
    app.router.add_static("/static", STATIC)
    pages.add_routes(app)
    return app


ENVIRONMENT: web.AppKey[Environment] = web.AppKey("console_templates", Environment)
PAGE_NAMES: web.AppKey[list[str]] = web.AppKey("console_pages", list)
PUBLIC = ("/login", "/static/")
SESSION: web.RequestKey[ConsoleSession] = web.RequestKey("console_session", ConsoleSession)
COMMUNITY: web.RequestKey[CommunityProfile] = web.RequestKey("console_community", CommunityProfile)


@web.middleware
async def _signed_in(request: web.Request, handler: Page) -> web.StreamResponse:
    """Pages need a session; pages of a community need its operator."""
    if any(request.path.startswith(PREFIX + public) for public in PUBLIC):
        return await handler(request)
    deps = request.app[DEPS]
    session = deps.keys.read_session(request.cookies.get(COOKIE))
    if session is None:
        return render(request, "signed_out.html", status=401, session=None)
    request[SESSION] = session
    raw = request.match_info.get("community")
    if raw is not None:
        community = await _operated(request, session, raw)
        if community is None:
            return render(request, "not_found.html", status=404)
        request[COMMUNITY] = community
    return await handler(request)


async def _operated(
    request: web.Request, session: ConsoleSession, raw: str
) -> CommunityProfile | None:
    try:
        community_id = int(raw)
    except ValueError:
        return None
    for community in await operated_communities(request, session):
        if community.id == community_id:
            return community
    return None


async def operated_communities(
    request: web.Request, session: ConsoleSession
) -> list[CommunityProfile]:
    """The communities the signed-in operator administers now."""
    deps = request.app[DEPS]
    async with deps.uow_factory() as uow:
        return await deps.operators.operated(deps.bot, uow, session.operator_id)


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """A page in the session's language (English before anyone signed in)."""
    deps = request.app[DEPS]
    session = request.get(SESSION)
    locale = session.locale if session is not None else "en"
    cookie = request.cookies.get(COOKIE, "")
    values = {
        "prefix": PREFIX,
        "session": session,
        "community": request.get(COMMUNITY),
        "locales": LOCALES,
        "locale": locale,
        "form_token": deps.keys.form_token(cookie) if cookie else "",
        "path": request.path_qs,
        "available_pages": request.app[PAGE_NAMES],
        **context,
    }
    with deps.i18n.use_locale(locale):
        body = request.app[ENVIRONMENT].get_template(template).render(values)
    return web.Response(text=body, status=status, content_type="text/html")


async def checked_form(request: web.Request) -> dict[str, str]:
    """A posted form of this session; raises 403 for one without the session's token."""
    form = await request.post()
    cookie = request.cookies.get(COOKIE, "")
    token = str(form.get("form_token", ""))
    if not cookie or not request.app[DEPS].keys.form_token_matches(cookie, token):
        raise web.HTTPForbidden(text="This form is not from your console session.")
    return {key: str(value) for key, value in form.items()}


def unit_of_work(request: web.Request) -> Any:
    return request.app[DEPS].uow_factory()


def signed_in_community(request: web.Request) -> CommunityProfile:
    return request[COMMUNITY]


def session_of(request: web.Request) -> ConsoleSession:
    return request[SESSION]


# -- signing in and out


async def sign_in(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    token = request.query.get("token", "")
    async with deps.uow_factory() as uow:
        operator_id = await console.sign_in(uow, deps.keys, token, deps.clock.now())
        await uow.commit()
        locale = await _locale_of(uow, deps, operator_id) if operator_id is not None else "en"
    if operator_id is None:
        return render(request, "link_refused.html", status=403)
    response = see_other(f"{PREFIX}/")
    _set_session(response, deps, ConsoleSession(operator_id, locale))
    return response


async def _locale_of(uow: UnitOfWork, deps: ConsoleDeps, operator_id: int) -> str:
    member = await uow.members.get(operator_id)
    chosen = (member.locale or member.language_code or "") if member is not None else ""
    return "zh_Hans" if chosen.lower().startswith("zh") else "en"


async def switch_language(request: web.Request) -> web.StreamResponse:
    deps = request.app[DEPS]
    session = session_of(request)
    locale = request.match_info["locale"]
    if locale not in LOCALES:
        raise web.HTTPNotFound()
    back = request.query.get("back", f"{PREFIX}/")
    response = see_other(back if back.startswith(PREFIX + "/") else f"{PREFIX}/")
    _set_session(response, deps, ConsoleSession(session.operator_id, locale))
    return response


async def sign_out(request: web.Request) -> web.StreamResponse:
    await checked_form(request)
    response = see_other(f"{PREFIX}/")
    response.del_cookie(COOKIE, path=PREFIX)
    return response


def see_other(location: str) -> web.Response:
    """Go on to ``location`` (after a form or a link), as a response that can set cookies."""
    return web.Response(status=303, headers={"Location": location})


def _set_session(response: web.StreamResponse, deps: ConsoleDeps, session: ConsoleSession) -> None:
    response.set_cookie(
        COOKIE,
        deps.keys.session_cookie(session),
        max_age=SESSION_SECONDS,
        path=PREFIX,
        httponly=True,
        samesite="Lax",
        secure=deps.secure_cookie,
    )
