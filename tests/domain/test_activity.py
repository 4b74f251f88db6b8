from __future__ import annotations

from hearth.domain.activity import ActivityKind, MessageFacts, message_activity, reaction_counts

MEMBER = 10


def facts(**overrides: object) -> MessageFacts:
    values: dict[str, object] = {
        "sender_is_bot": False,
        "sent_on_behalf_of_chat": False,
        "is_service": False,
        "replied_to_member_id": None,
        "replied_to_is_bot": False,
    }
    values.update(overrides)
    return MessageFacts(**values)  # type: ignore[arg-type]


def test_a_members_message_is_message_activity():
    assert message_activity(facts(), MEMBER) is ActivityKind.MESSAGE


def test_a_reply_to_another_member_is_a_reply():
    assert message_activity(facts(replied_to_member_id=11), MEMBER) is ActivityKind.REPLY


def test_replying_to_oneself_or_to_a_bot_is_an_ordinary_message():
    assert message_activity(facts(replied_to_member_id=MEMBER), MEMBER) is ActivityKind.MESSAGE
    bot_reply = facts(replied_to_member_id=99, replied_to_is_bot=True)
    assert message_activity(bot_reply, MEMBER) is ActivityKind.MESSAGE


def test_bots_channels_anonymous_admins_and_service_messages_are_not_activity():
    assert message_activity(facts(sender_is_bot=True), MEMBER) is None
    assert message_activity(facts(sent_on_behalf_of_chat=True), MEMBER) is None
    assert message_activity(facts(is_service=True), MEMBER) is None


def test_only_adding_a_reaction_counts():
    assert reaction_counts(0, 1)
    assert not reaction_counts(1, 0)
    assert not reaction_counts(1, 1)
