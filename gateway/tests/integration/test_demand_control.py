"""Demand control over HTTP: a fixture subgraph weighing its fields with @cost and sizing
its lists with @listSize, composed by GraphMonitor's composition; the gateway refuses an
operation whose estimated cost is over MAX_COST before asking the subgraph anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from demand_fixture import DATA, SHOP
from fixture_subgraphs import FixtureSubgraph
from gateway_support import RunningGateway, ServedApp, start_gateway

from nudges_registry.domain.composition import SubgraphSource, compose


@pytest.fixture(scope="module")
def shop(
    tmp_path_factory: pytest.TempPathFactory, warpcache_server: str
) -> Iterator[tuple[RunningGateway, FixtureSubgraph]]:
    subgraph = FixtureSubgraph("shop", SHOP, DATA)
    served = ServedApp(subgraph.app()).start()  # type: ignore[arg-type]
    composition = compose([SubgraphSource("shop", f"{served.url}/graphql", SHOP)])
    assert composition.supergraph_sdl is not None, composition.errors
    file: Path = tmp_path_factory.mktemp("demand") / "supergraph.graphql"
    file.write_text(composition.supergraph_sdl)
    gateway = start_gateway(file, warpcache_url=warpcache_server, max_cost=100)
    yield gateway, subgraph
    gateway.served.stop()
    served.stop()


def test_an_operation_over_the_cost_limit_is_refused_before_any_fetch(
    shop: tuple[RunningGateway, FixtureSubgraph],
) -> None:
    gateway, subgraph = shop
    subgraph.requests.clear()
    query = "query($n: Int) { items(first: $n) { id price } }"
    body = gateway.query(query, {"n": 20})
    assert "data" not in body
    # 20 items * (Item's @cost 3 + price's @cost 4)
    assert body["errors"][0]["extensions"] == {  # type: ignore[index]
        "code": "QUERY_TOO_COMPLEX",
        "cost": 140,
        "limit": 100,
    }
    assert subgraph.requests == []
    body = gateway.query(query, {"n": 3})
    assert body == {"data": {"items": [{"id": str(i), "price": i} for i in range(3)]}}
    # @cost on a field counts even where lists are short: heavy alone is 20.
    assert gateway.query("{ heavy { value } }") == {"data": {"heavy": {"value": 1}}}
