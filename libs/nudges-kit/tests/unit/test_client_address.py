"""The client address of each deployment topology, from the header chain it really sees."""

from __future__ import annotations

import pytest

from nudges_kit.client_address import EDGE_HEADER, ClientAddressPolicy, Topology

VIEWER = "203.0.113.7"
EDGE = "198.51.100.20"  # a CloudFront edge
ALB_NODE = "10.0.1.15"  # the ALB's address in the VPC: the service's TCP peer
SECRET = "edge-origin-secret"


def scope(peer: str, *forwarded_for: str, edge: str | None = None) -> dict[str, object]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded_for]
    if edge is not None:
        headers.append((EDGE_HEADER.encode(), edge.encode()))
    return {"type": "http", "client": (peer, 50000), "headers": headers}


direct = ClientAddressPolicy()
alb = ClientAddressPolicy(Topology.ALB)
cloudfront_alb = ClientAddressPolicy(Topology.CLOUDFRONT_ALB, SECRET)


def test_direct_is_the_default_and_ignores_forwarded_for() -> None:
    assert direct.topology is Topology.DIRECT
    assert direct.of_scope(scope(VIEWER)) == VIEWER
    # Whatever the caller writes in X-Forwarded-For, the peer is the caller.
    assert direct.of_scope(scope(VIEWER, "1.2.3.4")) == VIEWER
    assert direct.of_scope(scope("127.0.0.1", "1.2.3.4, 5.6.7.8")) == "127.0.0.1"
    assert not direct.behind_proxy


def test_alb_reads_the_entry_the_load_balancer_appended() -> None:
    # ALB appends its peer, the viewer.
    assert alb.of_scope(scope(ALB_NODE, VIEWER)) == VIEWER
    assert alb.behind_proxy


def test_alb_never_picks_spoofed_leftmost_entries() -> None:
    # The caller sent "X-Forwarded-For: 1.2.3.4, 5.6.7.8"; ALB appended the viewer.
    assert alb.of_scope(scope(ALB_NODE, f"1.2.3.4, 5.6.7.8, {VIEWER}")) == VIEWER
    # The same chain split over several header fields reads as one chain.
    assert alb.of_scope(scope(ALB_NODE, "1.2.3.4", f"5.6.7.8, {VIEWER}")) == VIEWER


def test_cloudfront_alb_reads_the_viewer_cloudfront_appended() -> None:
    # CloudFront appends the viewer, then ALB appends the edge.
    chain = f"{VIEWER}, {EDGE}"
    assert cloudfront_alb.of_scope(scope(ALB_NODE, chain, edge=SECRET)) == VIEWER
    # Not the edge: one attacker must not lock out everyone behind an edge.
    assert alb.of_scope(scope(ALB_NODE, chain)) == EDGE


def test_cloudfront_alb_never_picks_spoofed_leftmost_entries() -> None:
    chain = f"9.9.9.9, 8.8.8.8, {VIEWER}, {EDGE}"
    assert cloudfront_alb.of_scope(scope(ALB_NODE, chain, edge=SECRET)) == VIEWER


def test_cloudfront_alb_reads_one_hop_without_cloudfronts_origin_header() -> None:
    # Straight to the public ALB, the caller claims to have come through CloudFront: without
    # the origin secret the claim is not believed and the ALB's entry (the caller) counts.
    claimed = f"9.9.9.9, {VIEWER}"
    assert cloudfront_alb.of_scope(scope(ALB_NODE, claimed)) == VIEWER
    assert cloudfront_alb.of_scope(scope(ALB_NODE, claimed, edge="guessed")) == VIEWER


def test_a_short_chain_falls_back_to_the_peer() -> None:
    assert alb.of_scope(scope(ALB_NODE)) == ALB_NODE
    assert cloudfront_alb.of_scope(scope(ALB_NODE, VIEWER, edge=SECRET)) == ALB_NODE
    assert alb.client_address(None, []) == "unknown"


def test_cloudfront_alb_needs_the_origin_secret() -> None:
    with pytest.raises(ValueError, match="edge origin secret"):
        ClientAddressPolicy(Topology.CLOUDFRONT_ALB)


@pytest.mark.parametrize(
    ("topology", "hops"),
    [(Topology.DIRECT, 0), (Topology.ALB, 1), (Topology.CLOUDFRONT_ALB, 2)],
)
def test_hops_per_topology(topology: Topology, hops: int) -> None:
    assert ClientAddressPolicy(topology, SECRET).hops(SECRET) == hops
