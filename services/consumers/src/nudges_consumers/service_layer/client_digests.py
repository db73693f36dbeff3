"""The digests of joins and leaves that came due: every ``CLIENT_DIGEST_POLL_SECONDS``, each
client whose changes waited out the interval since their last notice gets one
``membership.digest`` (or the single message, for a single change).

Each client's digest is told in a transaction of its own that holds its ``client_digests``
row, writes the notice to the outbox and starts the next window: a digest is written once,
whatever crashes, and its key (client and window) sends it once. Rows held by a handler of a
membership event are skipped: that handler tells them. The pending changes live in the
database, so a restart loses none; the first poll after it sends what came due meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

from nudges_consumers.adapters import repository
from nudges_consumers.bootstrap import Deps
from nudges_consumers.service_layer.notifications import (
    client_profile,
    digest_interval,
    tell_membership_notice,
)
from nudges_kit.consumer import PermanentError
from nudges_kit.logging import get_logger

log = get_logger(__name__)

#: Clients looked at per poll; the rest wait for the next.
BATCH = 200


class DigestSender:
    """Sends the digests that came due, until stopped."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; a failed poll is logged and the next one tries again."""
        log.info("digest sender started")
        while not stop.is_set():
            try:
                await self.send_due()
            except Exception:
                log.exception("digests not sent, trying again at the next poll")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._deps.settings.client_digest_poll_seconds)

    async def send_due(self) -> int:
        """Tell every digest due now; returns how many were told."""
        now = datetime.now(UTC)
        interval = digest_interval(self._deps)
        async with self._deps.pool.acquire() as conn:
            due = await repository.due_digest_clients(conn, now, interval, BATCH)
        told = 0
        for client_id in due:
            try:
                told += await self._tell(client_id, interval)
            except PermanentError as exc:
                # Retrying cannot fix it (the text cannot be rendered): not every poll again.
                log.error("digest cannot be told", client_id=str(client_id), error=str(exc))
                await self._tell(client_id, interval, drop=True)
            except Exception as exc:  # one client's failure holds back no other
                log.warning("digest not told yet", client_id=str(client_id), error=repr(exc))
        return told

    async def _tell(self, client_id: UUID, interval: timedelta, *, drop: bool = False) -> bool:
        """Tell the client's digest if it is still due (``drop``: start the next window
        without telling it)."""
        now = datetime.now(UTC)
        async with self._deps.pool.acquire() as conn, conn.transaction():
            digest = await repository.digest_locked_if_due(conn, client_id, now, interval)
            if digest is None:
                return False
            client = None if drop else await client_profile(self._deps, client_id)
            if client is None:
                log.warning("digest dropped", client_id=str(client_id), joined=digest.joined)
            else:
                notice = digest.notice(str(client_id))
                await tell_membership_notice(self._deps, conn, client_id, notice, client.locale)
            await repository.save_digest(conn, client_id, digest.told(now))
            return True
