"""Registers a subgraph with GraphMonitor (the schema registry) at start-up.

GraphMonitor takes writes only from machine tokens with the ``registry:write`` scope, so each
registration carries a client-credentials token of the subgraph's machine account (fetched
from AuthApi by :class:`~nudges_kit.service_auth.ServiceTokenProvider`).

Registration runs in the background and never blocks start-up: while the registry or AuthApi
cannot be reached it is retried with exponential backoff (either may start after the
subgraph); a refusal (the SDL does not compose, breaks the published supergraph, the URL is
not allowed, the account may not write, or AuthApi refuses its secret) is logged and not
retried, since retrying would not help. ::

    tokens = ServiceTokenProvider(settings.auth_token_url, "user", secret)
    task = await register_subgraph(settings.registry_url, "user", my_url, sdl, tokens=tokens)
    ...
    task.cancel()  # on shutdown, if still running
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    wait_exponential,
)

from nudges_kit.logging import get_logger
from nudges_kit.service_auth import ServiceTokenError, ServiceTokenProvider

log = get_logger(__name__)

#: Statuses that say the registry will never accept this registration as it is.
REFUSED = frozenset({400, 403, 404, 409, 422})


class _TryAgain(Exception):
    """The registry or AuthApi could not be reached, or failed: worth another attempt."""


def _half_jitter(first_backoff: float, max_backoff: float) -> Callable[[RetryCallState], float]:
    """Waits of ``first_backoff`` doubled each attempt up to ``max_backoff``, each one drawn
    between half and all of it (registrations started together do not retry together)."""
    exponential = wait_exponential(multiplier=first_backoff, max=max_backoff)

    def wait(state: RetryCallState) -> float:
        return float(exponential(state)) * (0.5 + random.random() / 2)

    return wait


async def _attempt(
    client: httpx.AsyncClient,
    endpoint: str,
    payload: dict[str, object],
    tokens: ServiceTokenProvider | None,
) -> bool:
    """One registration: True when registered, False when refused; :class:`_TryAgain` else."""
    try:
        headers = await tokens.headers() if tokens else {}
        response = await client.post(endpoint, json=payload, headers=headers)
    except ServiceTokenError as exc:
        if exc.status_code in (400, 401):
            log.error("AuthApi refused the machine account", subgraph=payload["name"])
            return False
        log.warning("no token for the registry", subgraph=payload["name"], error=str(exc))
        raise _TryAgain from exc
    except httpx.HTTPError as exc:
        log.warning("registry unreachable", subgraph=payload["name"], error=repr(exc))
        raise _TryAgain from exc
    if response.status_code < 300:
        log.info(
            "subgraph registered", subgraph=payload["name"], status=response.json().get("status")
        )
        return True
    if response.status_code in REFUSED or (response.status_code == 401 and tokens is None):
        log.error(
            "registry refused the subgraph",
            subgraph=payload["name"],
            status=response.status_code,
            answer=response.text[:2000],
        )
        return False
    if response.status_code == 401 and tokens is not None:
        # The token may have been signed with a key the registry has not seen yet, or have
        # expired in flight: the next attempt fetches a new one.
        tokens.invalidate()
    log.warning("registry failed", subgraph=payload["name"], status=response.status_code)
    raise _TryAgain


async def _register(
    registry_url: str,
    payload: dict[str, object],
    tokens: ServiceTokenProvider | None,
    attempts: int | None,
    first_backoff: float,
    max_backoff: float,
    request_timeout: float,
) -> bool:
    endpoint = registry_url.rstrip("/") + "/subgraphs"
    retrying = AsyncRetrying(
        stop=stop_never if attempts is None else stop_after_attempt(attempts),
        wait=_half_jitter(first_backoff, max_backoff),
        retry=retry_if_exception_type(_TryAgain),
        reraise=True,
    )
    async with httpx.AsyncClient(timeout=request_timeout) as client:
        try:
            return bool(await retrying(_attempt, client, endpoint, payload, tokens))
        except _TryAgain:
            return False


async def register_subgraph(
    registry_url: str,
    name: str,
    url: str,
    sdl: str,
    *,
    tokens: ServiceTokenProvider | None = None,
    force: bool = False,
    attempts: int | None = None,
    first_backoff: float = 0.5,
    max_backoff: float = 30.0,
    request_timeout: float = 10.0,
) -> asyncio.Task[bool]:
    """Start registering subgraph ``name`` (serving ``sdl`` at ``url``) with the registry at
    ``registry_url`` in the background, and return at once with the task. Each attempt carries
    a token from ``tokens`` (without one, the registry's 401 is a refusal). The task ends
    True once registered, False when refused or after ``attempts`` (None: retry until
    cancelled).
    """
    payload: dict[str, object] = {"name": name, "url": url, "sdl": sdl, "force": force}
    return asyncio.create_task(
        _register(
            registry_url, payload, tokens, attempts, first_backoff, max_backoff, request_timeout
        ),
        name=f"register-subgraph-{name}",
    )
