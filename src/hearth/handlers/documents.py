"""Files operators send the bot in private (quiz banks, voucher codes, conversion files):
downloaded within a size limit, so that a large file never fills memory."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import Document


async def document_bytes(bot: Bot, document: Document | str, limit: int) -> bytes | None:
    """The content of a document (or of the file with this id), or None when it is larger
    than ``limit`` bytes: Telegram's stated size is checked before downloading, and no more
    than ``limit`` + 1 bytes are read."""
    if isinstance(document, Document) and (document.file_size or 0) > limit:
        return None
    downloaded = await bot.download(document)
    content = downloaded.read(limit + 1) if downloaded is not None else b""
    return None if len(content) > limit else content
