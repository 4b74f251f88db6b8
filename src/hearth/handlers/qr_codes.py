"""QR codes of deep links, as PNG images for operators to print (an event's attendance
link, a dealer's channel link)."""

from __future__ import annotations

import io

import segno


def link_qr(link: str) -> bytes:
    """A PNG QR code of ``link``, large enough to print and scan from a poster."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()
