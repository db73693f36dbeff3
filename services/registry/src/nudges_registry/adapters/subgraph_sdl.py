"""Asks a running subgraph for its SDL (``{ _service { sdl } }``)."""

from __future__ import annotations

import httpx


class SdlUnavailable(Exception):
    """The subgraph did not answer with its SDL."""


async def fetch_sdl(url: str, request_timeout: float = 5.0) -> str:
    """The SDL the subgraph at ``url`` (its ``/graphql``) serves."""
    try:
        async with httpx.AsyncClient(timeout=request_timeout) as client:
            response = await client.post(url, json={"query": "{ _service { sdl } }"})
    except httpx.HTTPError as exc:
        raise SdlUnavailable(f"{url} did not answer: {exc!r}") from exc
    try:
        body = response.json()
        sdl = body["data"]["_service"]["sdl"]
    except (ValueError, KeyError, TypeError):
        raise SdlUnavailable(
            f"{url} answered HTTP {response.status_code} without an SDL: {response.text[:200]}"
        ) from None
    if not isinstance(sdl, str):
        raise SdlUnavailable(f"{url} answered an SDL that is not a string")
    return sdl
