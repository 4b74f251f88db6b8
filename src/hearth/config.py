"""Settings, read from the environment (prefix ``HEARTH_``) and an optional ``.env`` file."""

from __future__ import annotations

import json
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hearth.domain.events import REMINDER_HOURS
from hearth.domain.lifecycle import LifecycleRules, lifecycle_rules_from_settings
from hearth.domain.schedules import InvalidSchedule, schedule_from_spec

SUPPORTED_LOCALES = ("en", "zh_Hans")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///hearth.db"
DEFAULT_TELEGRAM_API_BASE = "https://api.telegram.org"


class Settings(BaseSettings):
    """Everything Hearth reads from its environment; one instance per process."""

    model_config = SettingsConfigDict(
        env_prefix="HEARTH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    bot_token: SecretStr | None = Field(default=None, description="Token from @BotFather.")
    telegram_api_base: str = Field(
        default=DEFAULT_TELEGRAM_API_BASE,
        description="Bot API server base URL; the bot calls {base}/bot{token}/{method}.",
    )
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///file.db or postgresql+asyncpg://…",
    )
    database_pool_size: int = Field(default=5, ge=1, description="PostgreSQL pool size.")
    redis_url: str | None = Field(
        default=None,
        description="Redis shared by workers: update claims, send budget, dialogs, admin cache.",
    )
    operator_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), description="Telegram user ids that operate every community."
    )
    default_timezone: str = Field(default="UTC", description="IANA time zone of new communities.")
    default_locale: str = Field(default="en", description="Locale of new communities.")
    webhook_url: str | None = Field(default=None, description="Public HTTPS URL; enables webhooks.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Secret token Telegram sends with every webhook request."
    )
    webhook_listen: str = Field(default="0.0.0.0:8080", description="host:port of the webhook.")
    console_url: str | None = Field(
        default=None,
        description="Public base URL of the operator console (e.g. https://club.example.com); "
        "enables /console.",
    )
    console_listen: str = Field(
        default="127.0.0.1:8081",
        description="host:port of the console when polling (with a webhook it shares its server).",
    )
    console_secret: SecretStr | None = Field(
        default=None,
        description="Signs console links and cookies; derived from the bot token when unset.",
    )
    admin_cache_seconds: int = Field(
        default=300, ge=0, description="How long chat admins stay cached."
    )
    activity_flush_rows: int = Field(
        default=500, ge=1, description="Activity rows per batch write."
    )
    activity_flush_seconds: float = Field(
        default=0.5, gt=0, description="Longest wait before buffered activity is written."
    )
    messages_per_second: float = Field(
        default=30, gt=0, description="Bot API sends per second overall (Telegram's limit)."
    )
    private_messages_per_second: float = Field(
        default=1, gt=0, description="Messages per second to one private chat."
    )
    group_messages_per_minute: float = Field(
        default=20, gt=0, description="Messages per minute to one group (Telegram's limit)."
    )
    delivery_concurrency: int = Field(
        default=16, ge=1, description="Outbox messages in flight at once (one per chat)."
    )
    max_concurrent_updates: int = Field(
        default=64, ge=1, description="Updates handled at once; more wait their turn."
    )
    welcome_batch_seconds: float = Field(
        default=60, ge=0, description="Newcomers within this window get one group welcome."
    )
    scheduler: bool = Field(
        default=True, description="Run scheduled jobs (expiry, reminders) in this process."
    )
    announcement_grace_minutes: int = Field(
        default=60,
        ge=0,
        description="A scheduled announcement missed while the bot was down still goes out "
        "this late; older missed runs are skipped.",
    )
    event_reminder_hours: Annotated[tuple[int, ...], NoDecode] = Field(
        default=REMINDER_HOURS,
        description="Hours before an event's start at which going members are reminded.",
    )
    digest_schedule: str = Field(
        default="mon 09:00",
        description="When operators get the weekly digest, in each community's local time: "
        "a weekly schedule such as 'mon 09:00' (one digest per week at most).",
    )
    lifecycle_rules: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description="Lifecycle stage thresholds that differ from the defaults, as a JSON "
        'object of whole numbers, e.g. {"dormant_days": 45, "churned_days": 120}; an unknown '
        "name, a bad value or a contradiction stops start-up with the reason.",
    )
    leader_retry_seconds: float = Field(
        default=2,
        gt=0,
        description="How often a worker without the scheduler checks whether the leader is gone "
        "(PostgreSQL advisory lock), and the leader checks that it still holds the lock.",
    )
    update_lease_seconds: float = Field(
        default=30,
        ge=1,
        description="How long a worker's claim on an update (Redis) holds while it handles it: "
        "Telegram's retry of an update whose worker died is handled by another worker once "
        "the claim has run out.",
    )
    outbox_lease_seconds: float = Field(
        default=30,
        ge=1,
        description="How long a worker keeps the batch of outbox messages it took to itself: "
        "what a worker that died had taken but not started goes to the others after this.",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = value.replace(";", ",").replace(" ", ",").split(",")
            return frozenset(int(part) for part in parts if part.strip())
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("event_reminder_hours", mode="before")
    @classmethod
    def _split_hours(cls, value: object) -> object:
        if isinstance(value, str):
            parts = value.replace(";", ",").replace(" ", ",").split(",")
            value = [int(part) for part in parts if part.strip()]
        if isinstance(value, int):
            value = [value]
        if isinstance(value, list | tuple):
            if any(not 1 <= int(hours) <= 24 * 14 for hours in value):
                raise ValueError("event reminder hours must be 1-336")
            return tuple(sorted({int(hours) for hours in value}, reverse=True))
        return value

    @field_validator("digest_schedule")
    @classmethod
    def _repeating(cls, value: str) -> str:
        try:
            schedule = schedule_from_spec(value)
        except InvalidSchedule as error:
            raise ValueError(f"digest_schedule {value!r}: {error.problem.value}") from error
        if not schedule.recurring:
            raise ValueError("digest_schedule must repeat, such as 'mon 09:00'")
        return schedule.spec()

    @field_validator("lifecycle_rules", mode="before")
    @classmethod
    def _valid_rules(cls, value: object) -> object:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as error:
                raise ValueError(f"not a JSON object: {error}") from error
        if isinstance(value, dict):  # before pydantic turns "7" or true into a number
            lifecycle_rules_from_settings(value)
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone: {value!r}") from error
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("webhook_listen", "console_listen")
    @classmethod
    def _host_port(cls, value: str, info: ValidationInfo) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"{info.field_name} must look like host:port")
        return value

    @property
    def lifecycle(self) -> LifecycleRules:
        """The lifecycle stage rules: the defaults with ``lifecycle_rules`` applied."""
        return lifecycle_rules_from_settings(self.lifecycle_rules)

    @property
    def webhook_host(self) -> str:
        return self.webhook_listen.rpartition(":")[0]

    @property
    def webhook_port(self) -> int:
        return int(self.webhook_listen.rpartition(":")[2])
