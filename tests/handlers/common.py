"""People and places shared by the handler tests."""

from __future__ import annotations

from datetime import UTC, datetime

from hearth.simulate import updates

GROUP_ID = -1001000000001
GROUP = updates.group(GROUP_ID, "Pudong Owners")
OPERATOR = updates.user(7, "Olga", username="olga")  # configured operator id
ADMIN = updates.user(8, "Adam", username="adam")  # a chat administrator
ALICE = updates.user(101, "Alice", username="alice")
BORIS = updates.user(102, "Boris", language_code="zh-hans")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def bot_user() -> dict[str, object]:
    from tests.telegram import BOT_ID, BOT_USERNAME

    return updates.user(BOT_ID, "Hearth", username=BOT_USERNAME, is_bot=True)


def bot_added(status: str = "administrator") -> dict[str, object]:
    return updates.chat_member_update(
        GROUP, bot_user(), "left", status, NOW, actor=ADMIN, kind="my_chat_member"
    )
