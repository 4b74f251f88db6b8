"""Errors a member or an operator can cause; each maps to one translated reply."""

from __future__ import annotations


class HearthError(Exception):
    """Base of every expected, explainable failure."""


class UnknownCommunity(HearthError):
    """A deep link or a command names a community Hearth does not know."""


class NotAnOperator(HearthError):
    """An operator command or button was used by someone who is not an operator."""


class UnsupportedLocale(HearthError):
    """A language was asked for that Hearth does not ship."""


class InvalidArgument(HearthError):
    """A command argument could not be understood."""

    def __init__(self, usage: str) -> None:
        super().__init__(usage)
        self.usage = usage
