"""The gateway next to Apollo Gateway on the composition corpus's scenarios.

Every corpus set with an ``operations.graphql`` (services/registry/tests/conformance/corpus)
is a scenario: its subgraphs are served from their SDL and ``data.json``
(``fixture_subgraphs.py``), the reference composition composes them with the URLs they are
served at, and the same supergraph is served by the Nudges gateway and by Apollo Gateway
(bench/apollo, npm). Each operation must give both the same ``data`` and the same error
paths (messages differ between implementations and are not compared). An operation named in
the scenario's ``gateway-differs.json`` differs by design, for the reason given there.
"""

from __future__ import annotations

import json
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

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "services" / "registry" / "tests" / "conformance" / "corpus"
REFERENCE = ROOT / "services" / "registry" / "tests" / "conformance" / "js"
APOLLO = ROOT / "bench" / "apollo"
OPERATIONS = "operations.graphql"
#: {"<operation>": "why the Nudges gateway answers differently"} of a scenario;
#: "registry:<operation>" when it differs only on the registry's composition.
DIFFERS = "gateway-differs.json"


def _operations(scenario: Path) -> dict[str, str]:
    text = (scenario / OPERATIONS).read_text()
    names = [
        d.name.value
        for d in parse(text, no_location=True).definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]
    return dict.fromkeys(names, text)


SCENARIOS = sorted(p.parent for p in CORPUS.glob(f"*/{OPERATIONS}"))
CASES = [(s.name, op) for s in SCENARIOS for op in _operations(s)]


@dataclass
class Scenario:
    subgraphs: dict[str, FixtureSubgraph]
    ours: RunningGateway
    apollo_url: str
    #: The Nudges gateway on the registry's own composition of the same subgraphs.
    registry_composed: RunningGateway


def _npm_ci(directory: Path, npm: str) -> None:
    installed = directory / "node_modules" / ".package-lock.json"
    lock = directory / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=directory,
            check=True,
            timeout=600,
        )


def _compose(node: str, sets: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    done = subprocess.run(
        [node, "compose.mjs"],
        cwd=REFERENCE,
        input=json.dumps(sets),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def scenarios(
    tmp_path_factory: pytest.TempPathFactory, warpcache_server: str
) -> Iterator[dict[str, Scenario]]:
    """Every scenario served: its subgraphs, our gateway and Apollo Gateway."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: Apollo Gateway cannot run")
    _npm_ci(REFERENCE, npm)
    _npm_ci(APOLLO, npm)
    served: list[ServedApp] = []
    subgraphs: dict[str, dict[str, FixtureSubgraph]] = {}
    sets: dict[str, list[dict[str, str]]] = {}
    for scenario in SCENARIOS:
        data = json.loads((scenario / "data.json").read_text())
        subgraphs[scenario.name] = {}
        sets[scenario.name] = []
        for path in sorted(scenario.glob("*.graphql")):
            if path.name == OPERATIONS:
                continue
            subgraph = FixtureSubgraph(path.stem, path.read_text(), data.get(path.stem, {}))
            app = ServedApp(subgraph.app()).start()  # type: ignore[arg-type]
            served.append(app)
            subgraphs[scenario.name][path.stem] = subgraph
            sets[scenario.name].append(
                {"name": path.stem, "url": f"{app.url}/graphql", "sdl": subgraph.sdl}
            )
    composed = _compose(node, sets)
    directory = tmp_path_factory.mktemp("supergraphs")
    files: dict[str, Path] = {}
    for name, result in composed.items():
        assert result["supergraph"], f"{name} does not compose: {result['errors']}"
        files[name] = directory / f"{name}.graphql"
        files[name].write_text(result["supergraph"])
    apollo = subprocess.Popen(
        [node, "gateways.mjs", *map(str, files.values())],
        cwd=APOLLO,
        stdout=subprocess.PIPE,
        text=True,
    )
    ours: dict[str, RunningGateway] = {}
    registry: dict[str, RunningGateway] = {}
    try:
        assert apollo.stdout is not None
        urls = json.loads(apollo.stdout.readline())
        for name, path in files.items():
            ours[name] = start_gateway(path, warpcache_url=warpcache_server, max_depth=20)
            composition = compose([SubgraphSource(**s) for s in sets[name]])
            assert composition.supergraph_sdl is not None, composition.errors
            own = directory / f"{name}.registry.graphql"
            own.write_text(composition.supergraph_sdl)
            registry[name] = start_gateway(own, warpcache_url=warpcache_server, max_depth=20)
        yield {
            name: Scenario(subgraphs[name], ours[name], urls[str(files[name])], registry[name])
            for name in files
        }
    finally:
        apollo.terminate()
        apollo.wait(10)
        for gateway in [*ours.values(), *registry.values()]:
            gateway.served.stop()
        for app in served:
            app.stop()


def _differences(scenario: Path) -> dict[str, str]:
    """Operations whose answers differ from Apollo Gateway's by design, with the reason."""
    path = scenario / DIFFERS
    return json.loads(path.read_text()) if path.exists() else {}


def _outcome(response: httpx.Response) -> dict[str, Any]:
    """What a client relies on: the data, and where errors are (not their wording)."""
    body = response.json()
    errors = body.get("errors") or []
    return {
        "data": body.get("data"),
        "errors": len(errors) > 0,
        "error_paths": sorted(json.dumps(e.get("path")) for e in errors if e.get("path")),
    }


@pytest.mark.parametrize(("scenario", "operation"), CASES)
def test_the_gateway_answers_like_apollo_gateway(
    scenario: str, operation: str, scenarios: dict[str, Scenario]
) -> None:
    served = scenarios[scenario]
    document = (CORPUS / scenario / OPERATIONS).read_text()
    body = {"query": document, "operationName": operation}
    theirs = httpx.post(
        served.apollo_url, json=body, timeout=30, headers={"apollo-require-preflight": "1"}
    )
    ours = httpx.post(served.ours.url, json=body, timeout=30)
    expected, actual = _outcome(theirs), _outcome(ours)
    differs = _differences(CORPUS / scenario).get(operation)
    if differs is not None:
        assert actual != expected, f"{scenario} {operation} now answers like Apollo: {differs}"
        return
    assert actual == expected, (
        f"{scenario} {operation}\nApollo Gateway: {theirs.text}\nNudges gateway: {ours.text}"
    )


@pytest.mark.parametrize(("scenario", "operation"), CASES)
def test_the_registry_composed_supergraph_answers_like_apollo_gateway(
    scenario: str, operation: str, scenarios: dict[str, Scenario]
) -> None:
    """The same, with the Nudges gateway on the registry's composition: the two halves of the
    product together against Apollo Gateway on the reference composition."""
    served = scenarios[scenario]
    document = (CORPUS / scenario / OPERATIONS).read_text()
    body = {"query": document, "operationName": operation}
    theirs = httpx.post(
        served.apollo_url, json=body, timeout=30, headers={"apollo-require-preflight": "1"}
    )
    ours = httpx.post(served.registry_composed.url, json=body, timeout=30)
    expected, actual = _outcome(theirs), _outcome(ours)
    differences = _differences(CORPUS / scenario)
    if f"registry:{operation}" in differences:
        assert actual != expected, f"{scenario} {operation} now answers like Apollo"
        return
    if operation in differences:
        return  # differs on the reference supergraph already, for the reason given there
    assert actual == expected, (
        f"{scenario} {operation}\nApollo Gateway: {theirs.text}\nNudges gateway: {ours.text}"
    )


def test_there_are_gateway_scenarios() -> None:
    assert len(SCENARIOS) >= 3
