"""The caller's address, read from the hops the deployment puts in front of a service.

Each proxy appends the address of its own peer to ``X-Forwarded-For``; anything to the left
of the entries the trusted proxies appended was written by the caller and proves nothing.
The header chains a service sees, per topology (``viewer`` is the caller's real address,
``spoofed`` whatever the caller put in the header itself):

=================  ==============================================  ====================
topology           X-Forwarded-For as the service receives it      TCP peer
=================  ==============================================  ====================
``direct``         (ignored)                                       viewer
``alb``            ``spoofed..., viewer``                          ALB node
``cloudfront_alb`` through CloudFront: ``spoofed..., viewer, edge`` ALB node
                   straight to the ALB: ``spoofed..., viewer``     ALB node
=================  ==============================================  ====================

So the client address is the peer with no proxy, the rightmost entry behind the ALB, and the
second entry from the right behind CloudFront and the ALB. A public ALB fronted by CloudFront
is reachable both ways, so ``cloudfront_alb`` reads two hops only for requests that carry
CloudFront's origin header (``X-Origin-Verify``, a shared secret only CloudFront sends) and one
hop for the rest. A chain shorter than the hops it should have falls back to the peer.

The server must not rewrite the peer itself: :func:`nudges_kit.http.serve` runs uvicorn with
its proxy headers off, so ``scope["client"]`` is the TCP peer.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: The origin header CloudFront adds to every request it forwards to the ALB.
EDGE_HEADER = "x-origin-verify"
_EDGE_HEADER_BYTES = EDGE_HEADER.encode()
_FORWARDED_FOR = b"x-forwarded-for"


class Topology(StrEnum):
    """What stands between the caller and the service."""

    #: Nothing: the TCP peer is the caller, ``X-Forwarded-For`` is ignored.
    DIRECT = "direct"
    #: An AWS Application Load Balancer, which appends its peer to ``X-Forwarded-For``.
    ALB = "alb"
    #: CloudFront in front of a public ALB: CloudFront appends the viewer, then the ALB the
    #: edge address.
    CLOUDFRONT_ALB = "cloudfront_alb"


@dataclass(frozen=True)
class ClientAddressPolicy:
    """Where a deployment's client address comes from. ``edge_secret`` is the value of
    CloudFront's ``X-Origin-Verify`` header (required with ``cloudfront_alb``)."""

    topology: Topology = Topology.DIRECT
    edge_secret: str = ""

    def __post_init__(self) -> None:
        if self.topology is Topology.CLOUDFRONT_ALB and not self.edge_secret:
            raise ValueError("the cloudfront_alb topology needs the edge origin secret")

    def hops(self, edge_header: str | None) -> int:
        """How many ``X-Forwarded-For`` entries, from the right, trusted proxies appended to a
        request carrying ``edge_header`` (0: the peer is the caller)."""
        if self.topology is Topology.DIRECT:
            return 0
        if self.topology is Topology.ALB:
            return 1
        via_edge = edge_header is not None and hmac.compare_digest(
            edge_header.encode(), self.edge_secret.encode()
        )
        return 2 if via_edge else 1

    @property
    def behind_proxy(self) -> bool:
        """True when a trusted proxy terminates the caller's connection (its
        ``X-Forwarded-Proto`` may then be believed)."""
        return self.topology is not Topology.DIRECT

    def client_address(
        self, peer: str | None, forwarded_for: Iterable[str], edge_header: str | None = None
    ) -> str:
        """The caller's address: the peer under ``direct``, else the entry the outermost
        trusted proxy appended (the peer when the chain is shorter than that). Entries the
        caller wrote itself, on the left, are never chosen."""
        fallback = peer or "unknown"
        hops = self.hops(edge_header)
        if hops == 0:
            return fallback
        entries = [e.strip() for value in forwarded_for for e in value.split(",") if e.strip()]
        return entries[-hops] if len(entries) >= hops else fallback

    def of_scope(self, scope: Any) -> str:
        """The caller's address of an ASGI HTTP ``scope`` (every ``X-Forwarded-For`` field,
        in order, as one chain)."""
        client = scope.get("client")
        forwarded: list[str] = []
        edge: str | None = None
        for name, value in scope.get("headers", ()):
            if name == _FORWARDED_FOR:
                forwarded.append(value.decode("latin-1"))
            elif name == _EDGE_HEADER_BYTES and edge is None:
                edge = value.decode("latin-1")
        return self.client_address(client[0] if client else None, forwarded, edge)


__all__ = ["EDGE_HEADER", "ClientAddressPolicy", "Topology"]
