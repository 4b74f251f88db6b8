"""Hearth: a community-operations Telegram bot."""

__version__ = "0.1.0"
