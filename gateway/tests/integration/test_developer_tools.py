"""Developer tools on the gateway: GraphiQL when a browser opens ``/graphql`` (a page built
from an npm package, nothing from a CDN) and the query plan of a request that asks for it;
both off in production."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_support import RunningGateway, start_gateway

from nudges_gateway.settings import GRAPHIQL_HTML, GatewaySettings

GRAPHIQL = GRAPHIQL_HTML.parent.parent
BROWSER = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PLAN = {"nudges-query-plan": "true"}


@pytest.fixture(scope="session")
def graphiql_page() -> Path:
    """The GraphiQL page, built as ``make web-deps`` builds it when it is not yet."""
    if not GRAPHIQL_HTML.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the GraphiQL page cannot be built")
        for command in (["ci", "--no-audit", "--no-fund", "--loglevel=error"], ["run", "build"]):
            subprocess.run([npm, *command], cwd=GRAPHIQL, check=True, timeout=600)
    return GRAPHIQL_HTML


@pytest.fixture(scope="module")
def production_like(
    supergraph_sdl: str, tmp_path_factory: pytest.TempPathFactory, warpcache_server: str
) -> Iterator[RunningGateway]:
    """A gateway with the developer tools as production has them (off)."""
    path = tmp_path_factory.mktemp("production") / "supergraph.graphql"
    path.write_text(supergraph_sdl)
    running = start_gateway(
        path, warpcache_url=warpcache_server, graphiql=False, expose_query_plans=False
    )
    yield running
    running.served.stop()


def test_a_browser_opening_graphql_gets_graphiql(
    gateway: RunningGateway, graphiql_page: Path
) -> None:
    response = httpx.get(gateway.url, headers=BROWSER, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "renderYogaGraphiQL" in page
    assert '"endpoint":"/graphql"' in page
    # Everything is in the page: no script or style from another host.
    assert "<script src=" not in page
    assert 'rel="stylesheet" href="http' not in page
    for cdn in ("unpkg.com", "jsdelivr.net", "cdnjs.cloudflare.com", "esm.sh"):
        assert cdn not in page


def test_a_get_with_a_query_is_still_graphql(gateway: RunningGateway) -> None:
    response = httpx.get(
        gateway.url, params={"query": "{ __typename }"}, headers=BROWSER, timeout=30
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


def test_graphiql_is_off_in_production(production_like: RunningGateway) -> None:
    response = httpx.get(production_like.url, headers=BROWSER, timeout=30)
    assert not response.headers["content-type"].startswith("text/html")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_production_settings_turn_the_developer_tools_off() -> None:
    settings = GatewaySettings(
        environment="production",
        registry_url="http://registry.internal:8000",
        warpcache_url="warpcache.internal:50051",
        warpcache_token="t" * 48,
    )
    assert settings.graphiql is False
    assert settings.expose_query_plans is False
    development = GatewaySettings(environment="development")
    assert development.graphiql is True
    assert development.expose_query_plans is True


def test_the_query_plan_comes_with_the_answer_on_request(gateway: RunningGateway) -> None:
    query = '{ product(upc: "p1") { name stock reviews { body } } }'
    body = gateway.query(query, headers=PLAN)
    assert body["data"]["product"]["name"] == "Table"  # type: ignore[index]
    plan = body["extensions"]["queryPlan"]  # type: ignore[index]
    subgraphs = [step["subgraph"] for step in plan]
    assert subgraphs[0] == "products"
    assert {"inventory", "reviews"} <= set(subgraphs)
    assert all(step["query"].lstrip().startswith("query") for step in plan)
    assert any("_entities" in step["query"] for step in plan if step["level"] > 0)


def test_no_query_plan_unasked_or_in_production(
    gateway: RunningGateway, production_like: RunningGateway
) -> None:
    query = '{ product(upc: "p1") { name } }'
    assert "extensions" not in gateway.query(query)
    assert "extensions" not in production_like.query(query, headers=PLAN)
