"""Signing in to the operator console without a password.

``/console`` in private gives an operator a one-time link: a token signed with the
console's secret that names the operator and a nonce stored with a 10-minute expiry. The
first visit uses the nonce and gets a signed session cookie; a forged token fails the
signature, an expired or reused one finds no usable nonce. Every page then asks again
whether the operator still administers the community it shows (``console/app.py``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from hearth.services.ports import UnitOfWork

LINK_LIFETIME = timedelta(minutes=10)
SESSION_SECONDS = 12 * 3600  # a session cookie is good for a working day


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    """Who is signed in, and in which language the pages speak to them."""

    operator_id: int
    locale: str


class ConsoleKeys:
    """Signs and checks the console's links, session cookies and form tokens."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._links = URLSafeTimedSerializer(secret, salt="hearth-console-link")
        self._sessions = URLSafeTimedSerializer(secret, salt="hearth-console-session")

    def link_token(self, operator_id: int, nonce: str) -> str:
        return self._links.dumps({"o": operator_id, "n": nonce})

    def read_link(self, token: str) -> tuple[int, str] | None:
        """The operator and nonce a link names, or None when it is not one of ours."""
        try:
            data = self._links.loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict):
            return None
        operator, nonce = data.get("o"), data.get("n")
        if not isinstance(operator, int) or not isinstance(nonce, str):
            return None
        return operator, nonce

    def session_cookie(self, session: ConsoleSession) -> str:
        return self._sessions.dumps({"o": session.operator_id, "l": session.locale})

    def read_session(self, cookie: str | None) -> ConsoleSession | None:
        if not cookie:
            return None
        try:
            data = self._sessions.loads(cookie, max_age=SESSION_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("o"), int):
            return None
        return ConsoleSession(operator_id=data["o"], locale=str(data.get("l") or "en"))

    def form_token(self, cookie: str) -> str:
        """The token every form of a session carries (a request from another site has none)."""
        return hmac.new(self._secret, cookie.encode(), hashlib.sha256).hexdigest()

    def form_token_matches(self, cookie: str, token: str) -> bool:
        return hmac.compare_digest(self.form_token(cookie), token)


def console_secret(configured: str | None, bot_token: str) -> str:
    """The configured secret, or one derived from the bot's token (the same in every worker)."""
    if configured:
        return configured
    return hmac.new(b"hearth-console", bot_token.encode(), hashlib.sha256).hexdigest()


async def issue_link(uow: UnitOfWork, keys: ConsoleKeys, operator_id: int, now: datetime) -> str:
    """A new one-time sign-in token for ``operator_id``, good for ``LINK_LIFETIME``."""
    nonce = secrets.token_hex(16)
    await uow.console_links.prune(now - timedelta(days=1))
    await uow.console_links.add(nonce, operator_id, now, now + LINK_LIFETIME)
    return keys.link_token(operator_id, nonce)


async def sign_in(uow: UnitOfWork, keys: ConsoleKeys, token: str, now: datetime) -> int | None:
    """The operator a link signs in, using it up; None for a forged, expired or used link."""
    found = keys.read_link(token)
    if found is None:
        return None
    operator_id, nonce = found
    if not await uow.console_links.use(nonce, operator_id, now):
        return None
    return operator_id


@dataclass(frozen=True, slots=True)
class ConsoleAccess:
    """Where the console is served, and its keys: what /console needs to make a link."""

    url: str  # public base URL, e.g. https://club.example.com
    keys: ConsoleKeys

    def link(self, token: str) -> str:
        return f"{self.url.rstrip('/')}/console/login?token={token}"
