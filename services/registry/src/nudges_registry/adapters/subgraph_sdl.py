"""Asks a running subgraph for its SDL (``{ _service { sdl } }``)."""

from __future__ import annotations

import httpx

from nudges_kit.errors import UpstreamUnavailable
from nudges_kit.logging import get_logger

log = get_logger(__name__)


class SdlUnavailable(UpstreamUnavailable):
    """The subgraph did not answer with its SDL. The message is always the same: what the
    target answered is never passed on, so a refresh cannot be used to read another server."""

    def __init__(self) -> None:
        super().__init__("the subgraph did not answer with its SDL")


async def fetch_sdl(url: str, request_timeout: float = 5.0) -> str:
    """The SDL the subgraph at ``url`` (its ``/graphql``) serves; redirects are not followed
    (the URL was checked against the allow-list, its redirect target was not)."""
    try:
        async with httpx.AsyncClient(timeout=request_timeout, follow_redirects=False) as client:
            response = await client.post(url, json={"query": "{ _service { sdl } }"})
    except httpx.HTTPError as exc:
        log.warning("subgraph unreachable", url=url, error=type(exc).__name__)
        raise SdlUnavailable() from exc
    try:
        sdl = response.json()["data"]["_service"]["sdl"]
    except (ValueError, KeyError, TypeError):
        sdl = None
    if not isinstance(sdl, str):
        log.warning("subgraph answered without an SDL", url=url, status=response.status_code)
        raise SdlUnavailable()
    return sdl
