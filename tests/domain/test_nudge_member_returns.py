"""The uplift's unit is the member: each member counts once, in the group of their first
contact, once a contact's return window is over; recent contacts wait and count neither way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hearth.domain.nudges import MemberContacts, MemberReturns, ReturnRate, member_returns, uplift

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def nudged(member_id: int, days_ago: int, matured: int = 1, returned: int = 0) -> MemberContacts:
    return MemberContacts(member_id, False, NOW - timedelta(days=days_ago), matured, returned)


def held_out(member_id: int, days_ago: int, matured: int = 1, returned: int = 0) -> MemberContacts:
    return MemberContacts(member_id, True, NOW - timedelta(days=days_ago), matured, returned)


def test_each_member_counts_once_in_the_group_of_their_first_contact() -> None:
    found = member_returns(
        [
            nudged(1, 30, matured=2, returned=1),  # twice, came back once: one return
            nudged(2, 20),  # once, did not come back
            nudged(3, 2, matured=0),  # two days ago: waiting
            held_out(4, 25),  # held out first, nudged later and came back: holdout, returned
            nudged(4, 10, returned=1),
            held_out(5, 15),
            nudged(6, 40),  # nudged first, held out later: nudged, not returned
            held_out(6, 12),
        ]
    )
    assert found == MemberReturns(
        nudged=ReturnRate(matured=3, returned=1, waiting=1),  # members 1, 2, 6; 3 waits
        holdout=ReturnRate(matured=2, returned=1, waiting=0),  # members 4, 5
    )


def test_a_recent_contact_without_a_return_neither_lowers_nor_raises_the_rate() -> None:
    settled = [nudged(1, 20, returned=1), nudged(2, 20), held_out(3, 20), held_out(4, 20)]

    with_recent = member_returns([*settled, nudged(5, 2, matured=0), held_out(6, 2, matured=0)])

    assert with_recent.nudged == ReturnRate(matured=2, returned=1, waiting=1)
    assert with_recent.holdout == ReturnRate(matured=2, returned=0, waiting=1)
    assert with_recent.nudged.rate == member_returns(settled).nudged.rate == 0.5
    assert with_recent.holdout.rate == member_returns(settled).holdout.rate == 0.0


def test_a_member_contacted_only_recently_waits_in_the_group_of_their_first_contact() -> None:
    # the first contact decides the group; all of this member's contacts are recent
    found = member_returns([held_out(1, 5, matured=0), nudged(1, 1, matured=0)])
    assert found == MemberReturns(ReturnRate(0, 0, 0), ReturnRate(0, 0, 1))


def test_no_contacts_give_no_rates() -> None:
    found = member_returns([])
    assert found == MemberReturns(ReturnRate(0, 0), ReturnRate(0, 0))
    assert uplift(found.nudged, found.holdout) is None


def test_members_contacted_three_times_weigh_once_in_the_interval() -> None:
    # 20 nudged members, 10 came back; 20 held out, 5 came back; each contacted three times.
    contacts = [
        *(nudged(member, 30, matured=3, returned=int(member < 10)) for member in range(20)),
        *(held_out(100 + member, 30, matured=3, returned=int(member < 5)) for member in range(20)),
    ]
    rates = member_returns(contacts)
    assert rates == MemberReturns(ReturnRate(20, 10), ReturnRate(20, 5))

    found = uplift(rates.nudged, rates.holdout)

    # 0.50 − 0.25 ± 1.96·√(0.5·0.5/20 + 0.25·0.75/20) = 0.25 ± 0.289888: could be chance.
    # Over the 60 contacts per group it would have been 0.25 ± 0.167371, "significant".
    assert found is not None
    assert found.difference == pytest.approx(0.25)
    assert (found.low, found.high) == (
        pytest.approx(-0.039888, abs=1e-6),
        pytest.approx(0.539888, abs=1e-6),
    )
    assert not found.significant
