"""An in-process memory of communities and members already registered.

Most updates come from members Hearth already knows; remembering them keeps the database
out of the hot path. Entries change only after their transaction commits.
"""

from __future__ import annotations

from hearth.domain.members import CommunityProfile, MemberProfile


class Directory:
    """Known communities, members and memberships of this process."""

    def __init__(self) -> None:
        self._communities: dict[int, CommunityProfile] = {}
        self._members: dict[int, MemberProfile] = {}
        self._memberships: set[tuple[int, int]] = set()
        self._seen_members: set[int] = set()  # registered, perhaps not yet written

    def community(self, community_id: int) -> CommunityProfile | None:
        return self._communities.get(community_id)

    def member(self, member_id: int) -> MemberProfile | None:
        return self._members.get(member_id)

    def has_seen(self, member_id: int) -> bool:
        """Whether the member is registered (in the database or waiting to be written)."""
        return member_id in self._seen_members or member_id in self._members

    def remember_seen(self, member_id: int) -> None:
        self._seen_members.add(member_id)

    def knows_membership(self, community_id: int, member_id: int) -> bool:
        return (community_id, member_id) in self._memberships

    def remember_community(self, profile: CommunityProfile) -> None:
        self._communities[profile.id] = profile

    def remember_member(self, profile: MemberProfile) -> None:
        self._members[profile.id] = profile

    def remember_membership(self, community_id: int, member_id: int) -> None:
        self._memberships.add((community_id, member_id))

    def forget_membership(self, community_id: int, member_id: int) -> None:
        self._memberships.discard((community_id, member_id))

    def forget_member(self, member_id: int) -> None:
        self._members.pop(member_id, None)
