"""How a membership changes: plain rules, no I/O."""

from __future__ import annotations

from enum import StrEnum

from nudges_user.domain.model import MembershipStatus


class MembershipChange(StrEnum):
    """A change of a membership, each published as its ``user.membership.*`` event."""

    JOINED = "joined"
    STOPPED = "stopped"
    RESTARTED = "restarted"


def membership_change(
    current: MembershipStatus | None, wanted: MembershipStatus
) -> MembershipChange | None:
    """The change that takes a membership from ``current`` (None: there is none) to
    ``wanted``; None when nothing changes (joining twice, leaving twice, stopping a
    membership that does not exist). Both directions are always allowed: a STOP is obeyed
    at once, and a subscriber may come back."""
    if current is wanted:
        return None
    if wanted is MembershipStatus.ACTIVE:
        return MembershipChange.JOINED if current is None else MembershipChange.RESTARTED
    return MembershipChange.STOPPED if current is not None else None
