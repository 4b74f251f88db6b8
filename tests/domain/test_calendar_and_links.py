from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hearth.domain.calendar import day_range, local_day, start_of_local_day
from hearth.domain.deep_links import community_payload, parse_community_payload, start_link


def test_a_late_evening_in_utc_is_the_next_day_in_shanghai():
    instant = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    assert local_day(instant, "UTC") == date(2026, 3, 1)
    assert local_day(instant, "Asia/Shanghai") == date(2026, 3, 2)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        local_day(datetime(2026, 3, 1), "UTC")


def test_a_local_day_starts_at_local_midnight():
    assert start_of_local_day(date(2026, 3, 2), "Asia/Shanghai") == datetime(
        2026, 3, 1, 16, 0, tzinfo=UTC
    )


def test_day_range_includes_both_ends_and_is_empty_backwards():
    assert day_range(date(2026, 3, 1), date(2026, 3, 3)) == [
        date(2026, 3, 1),
        date(2026, 3, 2),
        date(2026, 3, 3),
    ]
    assert day_range(date(2026, 3, 3), date(2026, 3, 1)) == []


@given(st.integers(min_value=-(10**15), max_value=10**15).filter(bool))
def test_every_community_id_survives_a_deep_link(community_id: int):
    payload = community_payload(community_id)
    assert len(payload) <= 64  # Telegram's limit for start parameters
    assert parse_community_payload(payload) == community_id


@given(st.text(max_size=80) | st.from_regex(r"c-?[0-9]{1,20}", fullmatch=True))
def test_only_canonical_payloads_name_a_community(payload: str):
    parsed = parse_community_payload(payload)
    assert parsed is None or payload.strip() == community_payload(parsed)


def test_start_links_point_at_the_bot():
    assert start_link("hearth_bot", "c-100") == "https://t.me/hearth_bot?start=c-100"
