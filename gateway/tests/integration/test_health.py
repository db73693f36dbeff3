"""The service starts, reports itself healthy, and ready once it serves a supergraph."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from nudges_gateway.entrypoints.http import build_app
from nudges_gateway.settings import GatewaySettings

SUPERGRAPH = Path(__file__).parent.parent / "unit" / "supergraphs" / "shop.graphql"


def test_not_ready_without_a_supergraph() -> None:
    settings = GatewaySettings(environment="test", registry_url="http://127.0.0.1:9")
    with TestClient(build_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok", "service": "gateway"}
        assert client.get("/readyz").status_code == 503
        answer = client.post("/graphql", json={"query": "{ __typename }"})
        assert answer.status_code == 503
        assert answer.json()["errors"][0]["extensions"]["code"] == "SUPERGRAPH_UNAVAILABLE"


def test_ready_with_a_supergraph_file() -> None:
    settings = GatewaySettings(environment="test", supergraph_path=str(SUPERGRAPH))
    with TestClient(build_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
        assert "gateway_supergraph_loaded" in client.get("/metrics").text
        assert client.post("/graphql", json={"query": "{ __typename }"}).json() == {
            "data": {"__typename": "Query"}
        }
