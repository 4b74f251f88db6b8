"""What Telegram's HTML parse mode would refuse, and Telegram's length limits, for tests.

Telegram rejects a whole message ("can't parse entities") when a ``<`` does not open or
close a supported tag, or when tags do not nest; a stray ``&`` or ``>`` is taken as it is.
The rules follow ``parse_html`` in tdlib's ``MessageEntity.cpp``.
"""

from __future__ import annotations

import html
import re

MESSAGE_LIMIT = 4096  # characters of a message's text, after entities are parsed
CAPTION_LIMIT = 1024  # characters of a photo's or document's caption

SUPPORTED_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "tg-emoji",
        "code",
        "pre",
        "blockquote",
    }
)
_TAG = re.compile(r"<(/?)([^\s>]*)[^>]*>")


def html_problem(text: str) -> str | None:
    """Why Telegram would refuse ``text`` in HTML parse mode; None when it would take it."""
    open_tags: list[str] = []
    position = 0
    while (start := text.find("<", position)) != -1:
        tag = _TAG.match(text, start)
        if tag is None:
            return f"unclosed start tag at {start}: {text[start : start + 20]!r}"
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if closing:
            if not open_tags or (name and open_tags[-1] != name):
                return f"unmatched end tag {name!r} at {start}"
            open_tags.pop()
        elif name not in SUPPORTED_TAGS:
            return f"unsupported start tag {name!r} at {start}"
        else:
            open_tags.append(name)
        position = tag.end()
    return f"unclosed tags {open_tags}" if open_tags else None


def shown_length(text: str) -> int:
    """How long Telegram counts ``text`` once the HTML is parsed (UTF-16 code units)."""
    plain = html.unescape(_TAG.sub("", text))
    return len(plain.encode("utf-16-le")) // 2
