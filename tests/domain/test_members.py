from __future__ import annotations

from datetime import UTC, datetime

from hearth.domain.members import (
    ChatRole,
    JoinOutcome,
    LeaveOutcome,
    MembershipView,
    Person,
    join_outcome,
    leave_outcome,
)

AT = datetime(2026, 3, 1, tzinfo=UTC)


def membership(*, left: bool) -> MembershipView:
    return MembershipView(
        community_id=-1,
        member_id=1,
        joined_at=AT,
        left_at=AT if left else None,
        join_count=1,
        role=ChatRole.MEMBER,
    )


def test_a_first_join_is_a_join():
    assert join_outcome(None) is JoinOutcome.JOINED


def test_joining_again_after_leaving_is_a_rejoin():
    assert join_outcome(membership(left=True)) is JoinOutcome.REJOINED


def test_a_second_signal_for_a_current_member_changes_nothing():
    assert join_outcome(membership(left=False)) is JoinOutcome.ALREADY_MEMBER


def test_only_a_current_member_can_leave():
    assert leave_outcome(membership(left=False)) is LeaveOutcome.LEFT
    assert leave_outcome(membership(left=True)) is LeaveOutcome.NOT_A_MEMBER
    assert leave_outcome(None) is LeaveOutcome.NOT_A_MEMBER


def test_display_name_prefers_names_then_username_then_id():
    assert Person(1, "Li", "Wei").display_name == "Li Wei"
    assert Person(1, "", username="liwei").display_name == "@liwei"
    assert Person(1, " ").display_name == "1"
