"""The questionnaire's answers as tags, and when an invite counts: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hearth.domain.deep_links import (
    parse_community_payload,
    parse_referral_payload,
    referral_payload,
)
from hearth.domain.profile import (
    DEFAULT_QUESTIONS,
    BadQuestion,
    ProfileQuestion,
    answered_values,
    new_question,
    parse_answer_tag,
    tag_named,
    tap,
    with_option,
    without_option,
)
from hearth.domain.referrals import Referral, ReferralOutcome, creditable, referral_outcome
from hearth.domain.segments import ListKind, Selection

MODEL, _CITY, _YEARS, INTERESTS = DEFAULT_QUESTIONS
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_one_answer_replaces_the_earlier_one_and_several_toggle() -> None:
    suv, coupe = MODEL.options[1], MODEL.options[2]
    change = tap(MODEL, coupe, ["vip", "model:suv", "interest:track-day"])
    assert (change.add, change.remove) == (("model:coupe",), ("model:suv",))
    assert tap(MODEL, suv, ["model:suv"]).add == ()

    track = INTERESTS.options[1]
    assert tap(INTERESTS, track, ["interest:road-trip"]).add == ("interest:track-day",)
    assert tap(INTERESTS, track, ["interest:track-day"]).remove == ("interest:track-day",)


def test_answer_tags_are_told_apart_from_other_tags() -> None:
    assert parse_answer_tag("city:shanghai") == ("city", "shanghai")
    assert parse_answer_tag("track-day") is None
    assert parse_answer_tag("City:Shanghai") is None  # not as stored
    assert tag_named(" City:Shanghai ") == "city:shanghai"
    assert tag_named("VIP Owner") == "vip-owner"
    assert answered_values(["vip", "interest:track-day", "city:上海"]) == ["track-day", "上海"]


def test_segments_accept_an_answer_tag_and_refuse_a_forged_one() -> None:
    assert Selection.of(ListKind.TAG, "owner-years:1-3-years").value == "owner-years:1-3-years"
    with pytest.raises(ValueError, match="not a tag"):
        Selection.of(ListKind.TAG, "city:Shanghai")
    with pytest.raises(ValueError, match="not a tag"):
        Selection.of(ListKind.TAG, "Car_Model:x")


def test_operators_questions_are_checked() -> None:
    club = new_question(DEFAULT_QUESTIONS, "club", "  Which   events? ", multiple=True)
    assert (club.prompt, club.options) == ("Which events?", ())
    for key, prompt, reason in (
        ("Car_Model", "Which?", "key"),
        ("averyveryverylongkey", "Which?", "key"),
        ("city", "Again?", "duplicate"),
        ("colour", "", "prompt"),
    ):
        with pytest.raises(BadQuestion) as refused:
            new_question(DEFAULT_QUESTIONS, key, prompt, multiple=False)
        assert refused.value.reason == reason
    with pytest.raises(BadQuestion):
        with_option(MODEL, "SUV")  # there already
    longest = with_option(ProfileQuestion("owner-years", "?", ()), "x" * 40)
    assert len(longest.tag(longest.options[0])) == 32  # cut to fit a tag
    assert without_option(MODEL, "not yet").options == MODEL.options[:-1]


def test_an_invite_payload_names_the_community_and_the_inviter() -> None:
    payload = referral_payload(-1001000000001, 101)
    assert payload == "r-1001000000001_101"
    assert parse_referral_payload(payload) == (-1001000000001, 101)
    assert parse_community_payload(payload) is None
    assert parse_referral_payload("c-1001000000001") is None
    assert parse_referral_payload("r-1001000000001_0") is None


def test_an_invite_counts_only_for_someone_new_and_never_for_oneself() -> None:
    def outcome(**overrides: object) -> ReferralOutcome:
        facts: dict[str, object] = {
            "referrer_id": 1,
            "referred_id": 2,
            "referrer_is_member": True,
            "known": False,
            "referred_before": False,
        }
        return referral_outcome(**(facts | overrides))  # type: ignore[arg-type]

    assert outcome() is ReferralOutcome.RECORDED
    assert outcome(referred_id=1) is ReferralOutcome.SELF
    assert outcome(known=True) is ReferralOutcome.KNOWN
    assert outcome(referred_before=True, known=True) is ReferralOutcome.ALREADY_REFERRED
    assert outcome(referrer_is_member=False) is ReferralOutcome.UNKNOWN_INVITER


def test_only_a_friend_who_joined_after_the_invite_credits_the_inviter_once() -> None:
    invited = Referral(-100, 1, 2, referred_at=NOW)
    assert not creditable(invited)
    assert creditable(Referral(-100, 1, 2, NOW, joined_at=NOW + timedelta(hours=1)))
    assert not creditable(Referral(-100, 1, 2, NOW, joined_at=NOW - timedelta(days=1)))
    credited = Referral(-100, 1, 2, NOW, joined_at=NOW, credited_at=NOW, points=100)
    assert not creditable(credited)
