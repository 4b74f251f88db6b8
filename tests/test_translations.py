"""Every text a member or operator can read exists in English and Simplified Chinese."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import hearth
from hearth.i18n import LOCALES_DIR

SOURCE = Path(hearth.__file__).parent
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def source_messages() -> set[str]:
    found = extract_from_dir(
        SOURCE,
        method_map=[("**.py", "python")],
        keywords={"_": None, "__": None, "gettext": None, "lazy_gettext": None},
    )
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def catalogue(locale: str) -> dict[str, str]:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return {str(m.id): str(m.string) for m in read_po(file) if m.id}


def test_the_source_has_translatable_texts() -> None:
    assert len(source_messages()) > 30


@pytest.mark.parametrize("locale", ["en", "zh_Hans"])
def test_every_text_in_the_source_is_in_the_catalogue(locale: str) -> None:
    missing = source_messages() - set(catalogue(locale))
    assert not missing, f"run pybabel extract/update (see README): {sorted(missing)}"


def test_every_text_has_a_chinese_translation_with_the_same_placeholders() -> None:
    chinese = catalogue("zh_Hans")
    for message in source_messages():
        translated = chinese.get(message, "")
        assert translated, f"no Chinese for {message!r}"
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(message))
