"""Channels' pure rules: their links, their names, who a member is attributed to, and
when a newcomer counts as activated or retained."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hearth.domain.channels import (
    ChannelTouch,
    InvalidChannelName,
    attribute,
    first_week_activation,
    in_retention_cohort,
    parse_channel_name,
    period_days,
    same_name,
)
from hearth.domain.deep_links import (
    channel_payload,
    parse_channel_payload,
    parse_community_payload,
    parse_referral_payload,
)
from hearth.domain.lifecycle import Activation

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUP = -1001000000001
PUDONG, JINQIAO = 1, 2


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 2, day, hour, tzinfo=UTC)


def touch(member: int, channel: int, when: datetime) -> ChannelTouch:
    return ChannelTouch(GROUP, member, channel, when)


# -- the link


def test_a_channel_link_names_the_community_and_the_channel_and_reads_back() -> None:
    payload = channel_payload(GROUP, 12)

    assert payload == "k-1001000000001_12"
    assert parse_channel_payload(payload) == (GROUP, 12)
    assert parse_community_payload(payload) is None
    assert parse_referral_payload(payload) is None


@pytest.mark.parametrize(
    "payload",
    [
        "k-1001000000001_012",
        "k01_1",
        "k1_0",
        "k1",
        "k1_1_1",
        "r1_1",
        "c1",
        "",
        None,
        "k1_" + "9" * 17,
    ],
)
def test_only_canonical_channel_payloads_are_read(payload: str | None) -> None:
    assert parse_channel_payload(payload) is None


# -- names


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ('"Dealer Shanghai Pudong"', "Dealer Shanghai Pudong"),
        ("“Dealer  Shanghai\nPudong”", "Dealer Shanghai Pudong"),
        ("  Store Jinqiao ", "Store Jinqiao"),
        ("「浦东经销商」", "浦东经销商"),
        ("x" * 64, "x" * 64),
    ],
)
def test_a_channels_name_may_come_in_quotes_and_loses_extra_spaces(given: str, name: str) -> None:
    assert parse_channel_name(given) == name


@pytest.mark.parametrize("given", [None, "", "   ", '""', "x" * 65])
def test_an_empty_or_too_long_name_is_refused(given: str | None) -> None:
    with pytest.raises(InvalidChannelName):
        parse_channel_name(given)


def test_names_differing_in_case_only_are_the_same_name() -> None:
    assert same_name("Dealer Pudong", "dealer PUDONG")
    assert not same_name("Dealer Pudong", "Dealer Pudong 2")


@pytest.mark.parametrize(
    ("argument", "days"),
    [(None, 30), ("", 30), ("7", 7), ("90d", 90), (" 365 ", 365), ("0", None), ("366", None)],
)
def test_a_figures_period_is_1_to_365_days_30_by_default(
    argument: str | None, days: int | None
) -> None:
    assert period_days(argument) == days


def test_a_period_in_other_digits_or_words_is_refused() -> None:
    assert period_days("٣٠") is None
    assert period_days("month") is None


# -- attribution


def test_a_member_is_attributed_to_the_channel_of_their_first_touch_before_joining() -> None:
    touches = [touch(201, JINQIAO, at(5)), touch(201, PUDONG, at(3)), touch(201, JINQIAO, at(9))]

    assert attribute(touches, {201: at(6)}) == {201: PUDONG}


def test_touches_after_the_first_join_never_change_the_attribution() -> None:
    touches = [touch(201, PUDONG, at(3)), touch(201, JINQIAO, at(7))]

    assert attribute(touches, {201: at(4)}) == {201: PUDONG}


def test_a_member_who_joined_before_any_touch_came_direct() -> None:
    assert attribute([touch(202, PUDONG, at(8))], {202: at(1)}) == {}


def test_a_touch_at_the_very_moment_of_joining_counts_and_ties_go_to_the_lower_number() -> None:
    touches = [touch(203, JINQIAO, at(4)), touch(203, PUDONG, at(4))]

    assert attribute(touches, {203: at(4)}) == {203: PUDONG}


def test_someone_who_only_opened_a_link_is_nobodys_yet() -> None:
    assert attribute([touch(204, PUDONG, at(4))], {}) == {}


# -- activation and retention


def test_three_active_days_in_the_first_week_activate_a_newcomer() -> None:
    joined = at(10, 10)
    days = [(at(10, 11), at(10, 20)), (at(11, 8), at(11, 8)), (at(16, 9), at(16, 9))]

    assert first_week_activation(joined, days, NOW) is Activation.ACTIVATED


def test_days_before_joining_or_after_the_first_week_do_not_count() -> None:
    joined = at(10, 10)
    days = [(at(9, 8), at(9, 20)), (at(10, 11), at(10, 11)), (at(17, 10), at(17, 12))]

    assert first_week_activation(joined, days, NOW) is Activation.MISSED


def test_a_newcomer_whose_first_week_is_still_running_is_pending() -> None:
    joined = NOW - timedelta(days=2)

    assert first_week_activation(joined, [(joined, joined)], NOW) is Activation.PENDING


def test_the_retention_cohort_joined_between_90_and_30_days_ago() -> None:
    assert in_retention_cohort(NOW - timedelta(days=90), NOW)
    assert in_retention_cohort(NOW - timedelta(days=31), NOW)
    assert not in_retention_cohort(NOW - timedelta(days=30), NOW)
    assert not in_retention_cohort(NOW - timedelta(days=91), NOW)
