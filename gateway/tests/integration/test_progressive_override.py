"""Progressive @override over HTTP: two fixture subgraphs, ``new`` taking Product.stock over
from ``old`` for 25% of requests; which answers is decided by the X-Request-Id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fixture_subgraphs import FixtureSubgraph
from gateway_support import RunningGateway, ServedApp, start_gateway
from override_fixture import DATA, SDLS

from nudges_gateway.service_layer.gateway import roll
from nudges_registry.domain.composition import SubgraphSource, compose

QUERY = {"query": "{ product { id stock } }"}


@pytest.fixture(scope="module")
def override_gateway(
    tmp_path_factory: pytest.TempPathFactory, warpcache_server: str
) -> Iterator[RunningGateway]:
    subgraphs = {name: FixtureSubgraph(name, sdl, DATA[name]) for name, sdl in SDLS.items()}
    served = {name: ServedApp(s.app()).start() for name, s in subgraphs.items()}  # type: ignore[arg-type]
    composition = compose(
        [SubgraphSource(name, f"{served[name].url}/graphql", sdl) for name, sdl in SDLS.items()]
    )
    assert composition.supergraph_sdl is not None, composition.errors
    path: Path = tmp_path_factory.mktemp("override") / "supergraph.graphql"
    path.write_text(composition.supergraph_sdl)
    running = start_gateway(path, warpcache_url=warpcache_server)
    yield running
    running.served.stop()
    for app in served.values():
        app.stop()


def test_a_quarter_of_the_requests_are_answered_by_the_new_owner(
    override_gateway: RunningGateway,
) -> None:
    ids = [f"seed-7-{i}" for i in range(200)]
    with httpx.Client(timeout=30) as client:
        stocks = {
            rid: client.post(override_gateway.url, json=QUERY, headers={"x-request-id": rid}).json()
            for rid in ids
        }
        url = override_gateway.url
        again = client.post(url, json=QUERY, headers={"x-request-id": ids[0]}).json()
    assert again == stocks[ids[0]]
    from_new = {rid for rid, body in stocks.items() if body["data"]["product"]["stock"] == 2}
    assert all(body["data"]["product"]["stock"] in (1, 2) for body in stocks.values())
    assert from_new == {rid for rid in ids if roll(rid, "percent(25)") < 25}
    assert 0.15 < len(from_new) / len(ids) < 0.35
