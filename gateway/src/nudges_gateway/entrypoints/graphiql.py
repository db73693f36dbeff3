"""GraphiQL for developers: opening ``/graphql`` in a browser shows an IDE on the gateway.

The page is built from an npm package by ``make web-deps`` (gateway/graphiql: every script
and style inlined, nothing loaded from a CDN) and served as it is; it posts operations to
``/graphql`` on the same origin. Off in production (``GRAPHIQL``).
"""

from __future__ import annotations

from pathlib import Path

from starlette.types import Send

NOT_BUILT = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GraphiQL is not built</title></head>
<body><p>The GraphiQL page is not built on this machine: run <code>make web-deps</code>
(it needs npm) and reload.</p></body></html>
"""


def wants_html(accept: str) -> bool:
    """Whether a GET's ``Accept`` header is a browser's asking for a page."""
    return "text/html" in accept.lower()


class GraphiQLPage:
    """The built page, read once from ``path``."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._page: bytes | None = None

    def body(self) -> tuple[int, bytes]:
        """The status and HTML to answer (503 with a hint when the page is not built)."""
        if self._page is None:
            try:
                self._page = self.path.read_bytes()
            except OSError:
                return 503, NOT_BUILT
        return 200, self._page

    async def send(self, send: Send) -> None:
        status, body = self.body()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", b"%d" % len(body)),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
