"""Clients' drafts in WarpCache: one per client, taken at most once."""

from __future__ import annotations

import contextlib

from nudges_kit.warpcache import WarpCacheClient
from nudges_webhooks.domain.dialogue import Confirmed, Draft

# "v2": drafts carry each locale's segments and confirmations their first words; a value of
# the earlier shape is not read back.


def _draft_key(client_id: str) -> str:
    return f"dialogue:draft:v2:{client_id}"


def _confirmed_key(client_id: str) -> str:
    return f"dialogue:confirmed:v2:{client_id}"


class DraftStore:
    """The waiting draft of each client (a new text replaces it) and the last one confirmed,
    remembered for ``confirmed_window_seconds`` or until the client texts something else."""

    def __init__(
        self, cache: WarpCacheClient, ttl_seconds: float, confirmed_window_seconds: float
    ) -> None:
        self._cache = cache
        self._ttl = ttl_seconds
        self._confirmed_window = confirmed_window_seconds

    async def save(self, client_id: str, draft: Draft) -> None:
        """Keep ``draft`` as the client's waiting draft, replacing any other."""
        await self._cache.set(_draft_key(client_id), draft.to_bytes(), self._ttl)

    async def take(self, client_id: str) -> Draft | None:
        """Remove and return the waiting draft: of two concurrent CONFIRMs one gets it."""
        raw = await self._cache.get_and_delete(_draft_key(client_id))
        return Draft.from_bytes(raw) if raw is not None else None

    async def put_back(self, client_id: str, draft: Draft) -> None:
        """Return a taken draft after a failure, so that the client's next CONFIRM retries it
        (best effort: the cache may be what failed)."""
        with contextlib.suppress(Exception):
            await self._cache.set(_draft_key(client_id), draft.to_bytes(), self._ttl)

    async def discard(self, client_id: str) -> bool:
        """Drop the waiting draft; True when there was one."""
        return await self._cache.delete(_draft_key(client_id))

    async def remember_confirmed(self, client_id: str, confirmed: Confirmed) -> None:
        await self._cache.set(
            _confirmed_key(client_id), confirmed.to_bytes(), self._confirmed_window
        )

    async def last_confirmed(self, client_id: str) -> Confirmed | None:
        """The draft this client confirmed within the window, while they texted nothing else."""
        raw = await self._cache.get(_confirmed_key(client_id))
        return Confirmed.from_bytes(raw) if raw is not None else None

    async def forget_confirmed(self, client_id: str) -> None:
        """The client texted something else: a later CONFIRM is not a repeat of that one."""
        await self._cache.delete(_confirmed_key(client_id))
