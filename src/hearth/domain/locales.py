"""Which language to speak to a member in."""

from __future__ import annotations

from collections.abc import Collection

# Telegram sends IETF tags such as "zh-hans", "zh-CN", "zh-TW", "en-GB".
_CHINESE_PREFIXES = ("zh",)


def locale_from_language_code(code: str | None, available: Collection[str]) -> str | None:
    """Map Telegram's ``language_code`` to a shipped locale, or None when none fits."""
    if not code:
        return None
    lowered = code.strip().lower().replace("_", "-")
    if lowered.startswith(_CHINESE_PREFIXES) and "zh_Hans" in available:
        return "zh_Hans"
    primary = lowered.split("-", 1)[0]
    return primary if primary in available else None


def choose_locale(
    *,
    member_choice: str | None,
    language_code: str | None,
    community_locale: str | None,
    default: str,
    available: Collection[str],
) -> str:
    """The member's own choice wins, then Telegram's language, then the community's."""
    if member_choice is not None and member_choice in available:
        return member_choice
    from_telegram = locale_from_language_code(language_code, available)
    if from_telegram is not None:
        return from_telegram
    if community_locale is not None and community_locale in available:
        return community_locale
    return default
