"""What a client is told of their subscribers joining and leaving (SPEC §4, ``user.memberships``):
at most one notice per interval (an hour by default, ``CLIENT_DIGEST_INTERVAL_SECONDS``).

The first change after a quiet interval is told at once; the changes after it accumulate and
are told together, in one digest, once the interval since that notice is up. A notice of a
single change is the single message (a new subscriber, a subscriber left); of more, the
digest of how many joined and left. Each notice closes its window: its key is the client and
the time of the notice before it, so a notice written again is sent once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta


class Change(enum.Enum):
    """A membership change as the client hears of it (a restart is a join)."""

    JOINED = "joined"
    LEFT = "left"


class NoticeKind(enum.Enum):
    NEW_SUBSCRIBER = "new_subscriber"
    SUBSCRIBER_LEFT = "subscriber_left"
    DIGEST = "digest"


@dataclass(frozen=True)
class SubscribersNotice:
    """One SMS to the client: what it says, and its key (one per client and window)."""

    kind: NoticeKind
    joined: int
    left: int
    subscribers: int
    idempotency_key: str


@dataclass(frozen=True)
class ClientDigest:
    """The changes of a client's subscribers not told yet, since their last notice
    (``last_notice_at``, None before the first); ``subscribers`` is the count of active
    subscribers as of the latest change."""

    last_notice_at: datetime | None = None
    joined: int = 0
    left: int = 0
    subscribers: int = 0

    @property
    def pending(self) -> bool:
        """Some change is not told yet."""
        return self.joined + self.left > 0

    def with_change(self, change: Change, subscribers: int) -> ClientDigest:
        """This digest with one more change, after which the client has ``subscribers``."""
        return replace(
            self,
            joined=self.joined + (change is Change.JOINED),
            left=self.left + (change is Change.LEFT),
            subscribers=subscribers,
        )

    def due(self, now: datetime, interval: timedelta) -> bool:
        """The pending changes are to be told now: the interval since the last notice is up."""
        return self.pending and (
            self.last_notice_at is None or now >= self.last_notice_at + interval
        )

    def notice(self, client_id: str) -> SubscribersNotice:
        """The notice telling the pending changes (:attr:`pending` must hold)."""
        if not self.pending:
            raise ValueError("nothing to tell")
        if (self.joined, self.left) == (1, 0):
            kind = NoticeKind.NEW_SUBSCRIBER
        elif (self.joined, self.left) == (0, 1):
            kind = NoticeKind.SUBSCRIBER_LEFT
        else:
            kind = NoticeKind.DIGEST
        window = self.last_notice_at.isoformat() if self.last_notice_at else "first"
        return SubscribersNotice(
            kind, self.joined, self.left, self.subscribers, f"members:{client_id}:{window}"
        )

    def told(self, at: datetime) -> ClientDigest:
        """The digest after its changes were told at ``at``: a new window, nothing pending."""
        return ClientDigest(last_notice_at=at, subscribers=self.subscribers)
