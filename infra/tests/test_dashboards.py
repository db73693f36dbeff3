"""Prometheus and Grafana of compose.yaml: every service scraped, and every series the
dashboard and the alert rules read is one the code declares."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from nudges_devstack.services import SERVICES

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "infra" / "compose"
DASHBOARD = COMPOSE_DIR / "grafana" / "dashboards" / "nudges.json"
#: Series names the platform's own code declares (prometheus_client's suffixes aside).
SERIES = re.compile(r"\b((?:nudges|gateway|registry)_[a-z_]+)")
SUFFIXES = ("_bucket", "_count", "_sum")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    rules = _load(COMPOSE_DIR / "prometheus" / "alerts.yaml")
    return exprs + [r["expr"] for g in rules["groups"] for r in g["rules"]]


def _declared_in_code() -> str:
    roots = [REPO / "libs", REPO / "services", REPO / "gateway"]
    return "\n".join(
        p.read_text() for root in roots for p in root.rglob("*.py") if "/src/" in str(p)
    )


def test_compose_runs_prometheus_and_grafana_with_the_provisioned_files() -> None:
    services = _load(REPO / "compose.yaml")["services"]
    assert "./infra/compose/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    grafana = services["grafana"]["volumes"]
    assert "./infra/compose/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    assert "./infra/compose/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana


def test_every_service_is_scraped_at_its_port() -> None:
    config = _load(COMPOSE_DIR / "prometheus" / "prometheus.yaml")
    jobs = {
        job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]
    }
    assert jobs == {s.name: [f"{s.name}:{s.port}"] for s in SERVICES}
    assert config["rule_files"] == ["/etc/prometheus/alerts.yaml"]


def test_every_series_read_is_declared_by_the_code() -> None:
    code = _declared_in_code()
    read = {m for expr in _expressions() for m in SERIES.findall(expr)}
    assert len(read) >= 10
    for name in read:
        for suffix in SUFFIXES:
            name = name.removesuffix(suffix)
        assert f'"{name}"' in code, f"{name} is read by a dashboard or alert, declared nowhere"


def test_the_dashboard_reads_the_provisioned_datasource() -> None:
    datasource = _load(COMPOSE_DIR / "grafana" / "provisioning" / "datasources" / "prometheus.yaml")
    uid = datasource["datasources"][0]["uid"]
    dashboard = json.loads(DASHBOARD.read_text())
    used = {p["datasource"]["uid"] for p in dashboard["panels"] if "datasource" in p}
    assert used == {uid}
    titles = " ".join(p["title"] for p in dashboard["panels"]).lower()
    for topic in ("latency", "consumer lag", "dead letters", "fan-out", "stripe and twilio"):
        assert topic in titles


def test_a_row_shows_graphql_operations_by_service_and_operation_name() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for family in (
        "nudges_graphql_operations_total",
        "nudges_graphql_operation_errors_total",
        "nudges_graphql_operation_seconds_bucket",
    ):
        reading = [e for e in exprs if family in e]
        assert reading, f"no panel reads {family}"
        assert all("by (service, operation" in e for e in reading), reading
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert "nudges_graphql_operations_total" in variables["service"]["query"]["query"]
