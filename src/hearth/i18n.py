"""Gettext catalogues: the shipped ``.po`` files, compiled once into a cache folder.

aiogram's ``I18n`` reads compiled ``.mo`` files only; compiling at start-up keeps the
translations in step with the ``.po`` files without a build step. The folder is named
after a digest of the catalogues, so a change of any ``.po`` file compiles anew.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).with_name("locales")
DOMAIN = "messages"


def catalogues(source: Path = LOCALES_DIR) -> list[Path]:
    """The ``.po`` files Hearth ships, one per locale."""
    return sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def compile_catalogues(source: Path = LOCALES_DIR, cache_root: Path | None = None) -> Path:
    """Compile every ``.po`` under ``source`` into ``.mo`` files; returns the folder of them."""
    files = catalogues(source)
    digest = hashlib.sha256()
    for po_path in files:
        digest.update(po_path.parent.parent.name.encode())
        digest.update(po_path.read_bytes())
    root = cache_root or Path(tempfile.gettempdir())
    target = root / f"hearth-locales-{digest.hexdigest()[:16]}"
    for po_path in files:
        locale = po_path.parent.parent.name
        mo_path = target / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if mo_path.exists():
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=locale)
        # Write aside, then rename: a second process never reads half a file.
        handle, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, catalogue)
        os.replace(temporary, mo_path)
    return target


def build_i18n(default_locale: str = "en") -> I18n:
    """The translations Hearth ships (English and Simplified Chinese)."""
    return I18n(path=compile_catalogues(), default_locale=default_locale, domain=DOMAIN)
