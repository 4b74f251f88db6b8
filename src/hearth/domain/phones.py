"""Phone numbers members share with the bot, and the one rule of taking them: a number is
taken only from Telegram's shared-contact message of that very member.

A business file may name a member by phone; Hearth matches it only against numbers members
shared themselves, never against a number someone else typed, forwarded or relayed.
"""

from __future__ import annotations

import enum
import re

from hearth.domain.errors import HearthError

PHONE_DIGITS = (7, 15)  # E.164 numbers have at most 15 digits, country code included
_SEPARATORS = re.compile(r"[\s\-().]")  # what people write between the digits


def normalise_phone(raw: str) -> str | None:
    """The number as '+' and digits with its country code ("+86 138-1234-5678",
    "008613812345678" and "8613812345678" are all "+8613812345678"); None when it is not a
    phone number with a country code (letters, a local number starting with 0, too short
    or too long)."""
    compact = _SEPARATORS.sub("", raw.strip())
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        digits = compact[2:]
    else:
        digits = compact
    low, high = PHONE_DIGITS
    if not (digits.isascii() and digits.isdigit()) or not low <= len(digits) <= high:
        return None
    if digits.startswith("0"):  # no country code starts with 0: a local number
        return None
    return "+" + digits


class ContactVerdict(enum.StrEnum):
    """What a contact message sent to the bot in private is."""

    OWN = "own"  # the member shared their own number: the one case that is stored
    RELAYED = "relayed"  # forwarded, or sent through an inline bot
    SOMEONE_ELSE = "someone_else"  # another person's contact card
    NO_ACCOUNT = "no_account"  # a card Telegram tied to no account (typed in by hand)
    BAD_NUMBER = "bad_number"  # their own, but not a number we can read


def contact_verdict(
    *, sender_id: int, contact_user_id: int | None, relayed: bool, phone: str
) -> ContactVerdict:
    """Whether a contact message is the sender's own number, shared by Telegram's contact
    button (``contact_user_id`` is the sender); ``relayed`` when it was forwarded or sent
    through an inline bot (its card may be anybody's)."""
    if relayed:
        return ContactVerdict.RELAYED
    if contact_user_id is None:
        return ContactVerdict.NO_ACCOUNT
    if contact_user_id != sender_id:
        return ContactVerdict.SOMEONE_ELSE
    if normalise_phone(phone) is None:
        return ContactVerdict.BAD_NUMBER
    return ContactVerdict.OWN


class ContactRefused(HearthError):
    """A contact message that is not the sender's own number shared by the button: nothing
    is stored; ``verdict`` says what it was."""

    def __init__(self, verdict: ContactVerdict) -> None:
        super().__init__(verdict)
        self.verdict = verdict
