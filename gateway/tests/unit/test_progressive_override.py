"""Progressive @override(label: "percent(N)"): each request sees the field taken over with a
chance of N%, decided by its request id (the same id always decides the same), and is planned
on the subgraph that then resolves it."""

from __future__ import annotations

from typing import Any

from override_fixture import SDLS

from nudges_gateway.domain.prepare import Limits
from nudges_gateway.service_layer.gateway import Gateway, GraphQLRequest, roll, taken_over
from nudges_gateway.service_layer.schema_state import SchemaHolder
from nudges_registry.domain.composition import SubgraphSource, compose

composition = compose(
    [SubgraphSource(name, f"http://{name}.invalid/graphql", sdl) for name, sdl in SDLS.items()]
)
assert composition.supergraph_sdl is not None, composition.errors
SDL = composition.supergraph_sdl
QUERY = "{ product { id stock } }"


async def unused(*_: object) -> dict[str, Any]:
    raise AssertionError("planning fetches nothing")


def gateway() -> Gateway:
    holder = SchemaHolder(100)
    holder.load(SDL)
    return Gateway(holder, unused, Limits())


def stock_from(gw: Gateway, request_id: str | None) -> set[str]:
    """The subgraphs asked for stock when the request has this id."""
    ready = gw.ready(GraphQLRequest(QUERY), ("query",), request_id)
    return {str(s["subgraph"]) for s in ready.plan.describe() if "stock" in str(s["query"])}


def test_composition_keeps_the_label_and_the_gateway_reads_it() -> None:
    assert 'overrideLabel: "percent(25)"' in SDL
    state = gateway().holder.current
    assert state is not None
    assert state.supergraph.override_labels == {"percent(25)": 25.0}


def test_a_seeded_split_sends_about_the_percentage_to_the_new_owner() -> None:
    gw = gateway()
    ids = [f"request-{i}" for i in range(2000)]
    owners = [stock_from(gw, rid) for rid in ids]
    assert all(o in ({"new"}, {"old"}) for o in owners)
    taken = sum(o == {"new"} for o in owners)
    # Exactly the requests whose draw is under 25, and about a quarter of them.
    assert taken == sum(roll(rid, "percent(25)") < 25 for rid in ids)
    assert 0.22 < taken / len(ids) < 0.28


def test_one_request_id_always_decides_the_same() -> None:
    gw = gateway()
    for rid in ("a", "b", "c", "d", "e", "f"):
        first = stock_from(gw, rid)
        assert all(stock_from(gw, rid) == first for _ in range(5))


def test_labels_decide_at_their_percentages() -> None:
    ids = [f"r{i}" for i in range(500)]
    assert all(taken_over({"percent(100)": 100.0}, rid) for rid in ids)
    assert not any(taken_over({"percent(0)": 0.0}, rid) for rid in ids)
    # A label other than percent(N) is left to the old owner.
    assert not any(taken_over({"beta-users": None}, rid) for rid in ids)
    # Without a request id the draw is random, but still one of the two owners.
    assert stock_from(gateway(), None) in ({"new"}, {"old"})
