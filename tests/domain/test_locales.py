from __future__ import annotations

import pytest

from hearth.domain.locales import choose_locale, locale_from_language_code

AVAILABLE = ("en", "zh_Hans")


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("zh-hans", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("en-GB", "en"),
        ("EN", "en"),
        ("de", None),
        ("", None),
        (None, None),
    ],
)
def test_telegram_language_codes_map_to_shipped_locales(code: str | None, expected: str | None):
    assert locale_from_language_code(code, AVAILABLE) == expected


def test_the_members_own_choice_wins_over_telegrams_language():
    chosen = choose_locale(
        member_choice="en",
        language_code="zh-hans",
        community_locale="zh_Hans",
        default="en",
        available=AVAILABLE,
    )
    assert chosen == "en"


def test_an_unsupported_telegram_language_falls_back_to_the_communitys_locale():
    chosen = choose_locale(
        member_choice=None,
        language_code="de",
        community_locale="zh_Hans",
        default="en",
        available=AVAILABLE,
    )
    assert chosen == "zh_Hans"


def test_without_any_hint_the_default_locale_is_used():
    chosen = choose_locale(
        member_choice="fr",
        language_code=None,
        community_locale=None,
        default="en",
        available=AVAILABLE,
    )
    assert chosen == "en"
