"""Contextual arguments (Federation 2.8 ``@context`` / ``@fromContext``) answered by the gateway.

The scenarios are corpus sets of the registry's conformance suite (their subgraph SDLs), served
from fixture data (``contexts/<set>/data.json``). Each is composed twice, by the reference
composition (@theguild/federation-composition, npm) and by the registry, and served by the
gateway on each supergraph; every operation must answer ``expected.json`` without errors.

Apollo Gateway does not serve contexts (its supergraph check refuses the context spec: only
Apollo Router executes them), so the expected answers follow the Router's semantics: the
argument is the context's selection read from the nearest object on the way that carries the
context, passed to the subgraph as a variable of the ``_entities`` call, one ``_entities`` per
distinct set of values.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fixture_subgraphs import FixtureSubgraph
from gateway_support import RunningGateway, ServedApp, start_gateway
from graphql import OperationDefinitionNode, parse

from nudges_registry.domain.composition import SubgraphSource, compose

HERE = Path(__file__).parent / "contexts"
ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "services" / "registry" / "tests" / "conformance" / "corpus"
REFERENCE = ROOT / "services" / "registry" / "tests" / "conformance" / "js"
SETS = sorted(p.name for p in HERE.iterdir() if p.is_dir())


def _operations(name: str) -> list[str]:
    document = parse((HERE / name / "operations.graphql").read_text(), no_location=True)
    return [
        d.name.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]


CASES = [(name, op, how) for name in SETS for op in _operations(name) for how in ("ref", "own")]


@dataclass
class Served:
    subgraphs: dict[str, FixtureSubgraph]
    gateways: dict[str, RunningGateway]  # "ref": reference composition, "own": the registry's


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, warpcache_server: str
) -> Iterator[dict[str, Served]]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed: the reference composition runs on them")
    installed = REFERENCE / "node_modules" / ".package-lock.json"
    if not installed.exists():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=REFERENCE,
            check=True,
            timeout=600,
        )
    apps: list[ServedApp] = []
    gateways: list[RunningGateway] = []
    sets: dict[str, list[dict[str, str]]] = {}
    subgraphs: dict[str, dict[str, FixtureSubgraph]] = {}
    for name in SETS:
        data = json.loads((HERE / name / "data.json").read_text())
        sets[name], subgraphs[name] = [], {}
        for path in sorted((CORPUS / name).glob("*.graphql")):
            subgraph = FixtureSubgraph(path.stem, path.read_text(), data.get(path.stem, {}))
            app = ServedApp(subgraph.app()).start()  # type: ignore[arg-type]
            apps.append(app)
            subgraphs[name][path.stem] = subgraph
            sets[name].append({"name": path.stem, "url": f"{app.url}/graphql", "sdl": subgraph.sdl})
    done = subprocess.run(
        [node, "compose.mjs"],
        cwd=REFERENCE,
        input=json.dumps(sets),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    reference = json.loads(done.stdout)
    directory = tmp_path_factory.mktemp("context-supergraphs")
    result: dict[str, Served] = {}
    try:
        for name in SETS:
            theirs = reference[name]["supergraph"]
            assert theirs, reference[name]["errors"]
            ours = compose([SubgraphSource(**s) for s in sets[name]])
            assert ours.supergraph_sdl is not None, ours.errors
            running: dict[str, RunningGateway] = {}
            for how, sdl in (("ref", theirs), ("own", ours.supergraph_sdl)):
                path = directory / f"{name}.{how}.graphql"
                path.write_text(sdl)
                running[how] = start_gateway(path, warpcache_url=warpcache_server, max_depth=20)
                gateways.append(running[how])
            result[name] = Served(subgraphs[name], running)
        yield result
    finally:
        for gateway in gateways:
            gateway.served.stop()
        for app in apps:
            app.stop()


def _ask(gateway: RunningGateway, name: str, operation: str) -> dict[str, Any]:
    document = (HERE / name / "operations.graphql").read_text()
    response = httpx.post(
        gateway.url, json={"query": document, "operationName": operation}, timeout=30
    )
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(("name", "operation", "how"), CASES)
def test_a_contextual_argument_is_read_from_the_nearest_ancestor(
    name: str, operation: str, how: str, served: dict[str, Served]
) -> None:
    expected = json.loads((HERE / name / "expected.json").read_text())[operation]
    body = _ask(served[name].gateways[how], name, operation)
    assert body.get("errors") is None, body
    assert body["data"] == expected


def test_one_request_carries_one_entities_call_per_set_of_context_values(
    served: dict[str, Served],
) -> None:
    """Review r1 under a French and a German reader: two ``_entities`` calls, each with its
    representations and its value, in one request to the subgraph."""
    scenario = served["context-across-subgraphs"]
    reviews = scenario.subgraphs["reviews"]
    reviews.requests.clear()
    body = _ask(scenario.gateways["ref"], "context-across-subgraphs", "ReviewTextsOnly")
    assert body.get("errors") is None, body
    contextual = [r for r in reviews.requests if "text(locale:" in r["query"]]
    assert len(contextual) == 1
    request = contextual[0]
    assert len(re.findall(r"_entities\(", request["query"])) == 2
    locales = sorted(
        value for key, value in request["variables"].items() if key.startswith("__ctx_")
    )
    assert locales == ["de", "fr"]
    representations = sorted(
        len(value) for key, value in request["variables"].items() if key.startswith("r")
    )
    assert representations == [1, 2]  # r1 for the French reader; r1 and r2 for the German
