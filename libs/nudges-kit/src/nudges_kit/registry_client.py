"""Registers a subgraph with GraphMonitor (the schema registry) at start-up.

Registration runs in the background and never blocks start-up: while the registry cannot be
reached it is retried with exponential backoff; a refusal (the SDL does not compose, or
breaks the published supergraph) is logged and not retried, since retrying would not help. ::

    task = await register_subgraph(settings.registry_url, "user", my_url, schema.as_str())
    ...
    task.cancel()  # on shutdown, if still running
"""

from __future__ import annotations

import asyncio
import random

import httpx

from nudges_kit.logging import get_logger

log = get_logger(__name__)

#: Statuses that say the registry will never accept this registration as it is.
REFUSED = frozenset({400, 404, 409, 422})


async def _register(
    registry_url: str,
    payload: dict[str, object],
    attempts: int | None,
    first_backoff: float,
    max_backoff: float,
    request_timeout: float,
) -> bool:
    endpoint = registry_url.rstrip("/") + "/subgraphs"
    backoff = first_backoff
    attempt = 0
    async with httpx.AsyncClient(timeout=request_timeout) as client:
        while attempts is None or attempt < attempts:
            attempt += 1
            try:
                response = await client.post(endpoint, json=payload)
            except httpx.HTTPError as exc:
                log.warning("registry unreachable", subgraph=payload["name"], error=repr(exc))
            else:
                if response.status_code < 300:
                    log.info(
                        "subgraph registered",
                        subgraph=payload["name"],
                        status=response.json().get("status"),
                    )
                    return True
                if response.status_code in REFUSED:
                    log.error(
                        "registry refused the subgraph",
                        subgraph=payload["name"],
                        status=response.status_code,
                        answer=response.text[:2000],
                    )
                    return False
                log.warning(
                    "registry failed", subgraph=payload["name"], status=response.status_code
                )
            await asyncio.sleep(backoff * (0.5 + random.random() / 2))
            backoff = min(backoff * 2, max_backoff)
    return False


async def register_subgraph(
    registry_url: str,
    name: str,
    url: str,
    sdl: str,
    *,
    force: bool = False,
    attempts: int | None = None,
    first_backoff: float = 0.5,
    max_backoff: float = 30.0,
    request_timeout: float = 10.0,
) -> asyncio.Task[bool]:
    """Start registering subgraph ``name`` (serving ``sdl`` at ``url``) with the registry at
    ``registry_url`` in the background, and return at once with the task. The task ends True
    once registered, False when refused or after ``attempts`` (None: retry until cancelled).
    """
    payload: dict[str, object] = {"name": name, "url": url, "sdl": sdl, "force": force}
    return asyncio.create_task(
        _register(registry_url, payload, attempts, first_backoff, max_backoff, request_timeout),
        name=f"register-subgraph-{name}",
    )
