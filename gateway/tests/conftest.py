"""Three real Strawberry subgraphs (products, inventory, reviews) on free ports, their
supergraph composed by GraphMonitor's composition, and the gateway serving it over HTTP."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The test modules import the helpers and the subgraphs beside them.
sys.path.insert(0, str(Path(__file__).parent))

from gateway_support import (
    SCHEMAS,
    Recorder,
    RunningGateway,
    Subgraph,
    compose_sdl,
    serve_subgraph,
    start_gateway,
)


@pytest.fixture(scope="session")
def subgraphs() -> Iterator[dict[str, Subgraph]]:
    served = {name: serve_subgraph(name) for name in SCHEMAS}
    yield served
    for subgraph in served.values():
        subgraph.served.stop()


@pytest.fixture(scope="session")
def supergraph_sdl(subgraphs: dict[str, Subgraph]) -> str:
    return compose_sdl(subgraphs)


@pytest.fixture(scope="session")
def gateway(
    supergraph_sdl: str, tmp_path_factory: pytest.TempPathFactory, warpcache_server: str
) -> Iterator[RunningGateway]:
    path = tmp_path_factory.mktemp("gateway") / "supergraph.graphql"
    path.write_text(supergraph_sdl)
    running = start_gateway(path, warpcache_url=warpcache_server, max_depth=8, max_cost=500)
    yield running
    running.served.stop()


@pytest.fixture
def reset(subgraphs: dict[str, Subgraph]) -> dict[str, Recorder]:
    """The recorders of every subgraph, emptied."""
    for subgraph in subgraphs.values():
        subgraph.recorder.reset()
    return {name: s.recorder for name, s in subgraphs.items()}
