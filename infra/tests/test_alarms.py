"""Metrics and alarms on ECS: every service's task carries the ADOT collector, which scrapes
that service's own /metrics (the port compose's Prometheus scrapes) into CloudWatch; every
alarm of modules/alarms reads a metric the collector exports, with the dimensions it
exports, at its documented threshold, and notifies the SNS topic; the runbook names each."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from conftest import Infra, TerraformDir

COLLECTOR_CONFIG = (
    Path(__file__).resolve().parents[1] / "terraform/modules/ecs-service/otel-collector.yaml"
)
PLACEHOLDER = re.compile(r"\$\{(\w+)\}")

#: Each alarm: its resource, the metric it reads, the statistic, the comparison and the key
#: of var.thresholds with its default.
ABOVE, AT_LEAST = "GreaterThanThreshold", "GreaterThanOrEqualToThreshold"
ALARMS = {
    "consumer-lag": ("consumer_lag", "nudges_consumer_lag", "Maximum", ABOVE, 1000),
    "dead-letters": ("dead_letters", "nudges_dead_letters_total", "Sum", ABOVE, 0),
    "server-errors": ("server_errors", "nudges_http_requests_total", "Sum", ABOVE, 5),
    "task-restarts": ("task_restarts", "TaskStops", "Sum", AT_LEAST, 3),
}
THRESHOLD_KEYS = {
    "consumer-lag": "consumer_lag",
    "dead-letters": "dead_letters",
    "server-errors": "server_error_percent",
    "task-restarts": "task_restarts",
}


def render_collector_config(service: str, port: int, namespace: str = "Nudges/test") -> Any:
    """otel-collector.yaml as templatefile() renders it for one service, parsed."""
    values = {
        "service": service,
        "port": str(port),
        "namespace": namespace,
        "log_group": f"/nudges/nudges-test/{service}/metrics",
    }
    text = COLLECTOR_CONFIG.read_text()
    assert "%{" not in text, "template directives are not expected in the collector config"
    unknown = set(PLACEHOLDER.findall(text)) - set(values)
    assert not unknown, f"the module does not pass {unknown}"
    return yaml.safe_load(PLACEHOLDER.sub(lambda m: values[m.group(1)], text))


def _alarms(infra: Infra) -> TerraformDir:
    return infra.load(infra.terraform / "modules" / "alarms")


def _declarations(config: Any) -> dict[str, list[set[str]]]:
    """Metric name -> the dimension sets the awsemf exporter gives it."""
    found: dict[str, list[set[str]]] = {}
    for declaration in config["exporters"]["awsemf"]["metric_declarations"]:
        for selector in declaration["metric_name_selectors"]:
            name = selector.strip("^$")
            found.setdefault(name, []).extend(set(d) for d in declaration["dimensions"])
    return found


def test_every_service_task_runs_the_collector_with_the_repository_config(
    environments: dict[str, TerraformDir], env: str, infra: Infra
) -> None:
    service = environments[env].named("module")["service"]
    assert service["otel_collector_image"] == "${var.otel_collector_image}"
    assert service["metrics_namespace"] == "${local.metrics_namespace}"
    image = environments[env].named("variable")["otel_collector_image"]["default"]
    assert "aws-otel-collector" in image

    module = infra.load(infra.terraform / "modules" / "ecs-service")
    config = module.locals["collector_config"]
    assert 'templatefile("${path.module}/otel-collector.yaml"' in config
    assert "port = coalesce(var.container_port, 0)" in config
    assert "service = var.name" in config
    env_vars = module.locals["collector_container"]["environment"]
    assert env_vars == [{"name": "AOT_CONFIG_CONTENT", "value": "${local.collector_config}"}]
    policies = module.typed("data")["aws_iam_policy_document.metrics"]["statement"][0]
    assert "logs:PutLogEvents" in policies["actions"]


def test_the_collector_scrapes_every_service_at_its_metrics_port(
    environments: dict[str, TerraformDir], env: str, infra: Infra
) -> None:
    prometheus = yaml.safe_load(
        (infra.repo / "infra/compose/prometheus/prometheus.yaml").read_text()
    )
    compose_targets = {
        job["job_name"]: job["static_configs"][0]["targets"][0]
        for job in prometheus["scrape_configs"]
    }
    services = environments[env].locals["services"]
    assert services
    for name, service in services.items():
        config = render_collector_config(name, service["port"])
        jobs = config["receivers"]["prometheus"]["config"]["scrape_configs"]
        assert len(jobs) == 1, name
        job = jobs[0]
        assert job["job_name"] == name
        assert job["metrics_path"] == "/metrics"
        assert job["static_configs"][0]["targets"] == [f"127.0.0.1:{service['port']}"]
        assert job["static_configs"][0]["labels"] == {"service": name}
        # The same port compose's Prometheus scrapes, so the same /metrics.
        assert compose_targets[name] == f"{name}:{service['port']}"
        pipeline = config["service"]["pipelines"]["metrics"]
        assert pipeline["receivers"] == ["prometheus"]
        assert pipeline["exporters"] == ["awsemf"]
        assert config["exporters"]["awsemf"]["namespace"] == "Nudges/test"
        assert config["service"]["pipelines"]["traces"]["exporters"] == ["awsxray"]


def test_every_alarm_exists_with_its_metric_threshold_and_topic(infra: Infra) -> None:
    alarms = _alarms(infra)
    resources = alarms.typed("resource")
    defaults = alarms.named("variable")["thresholds"]["default"]
    assert alarms.locals["actions"] == ["${aws_sns_topic.alarms.arn}"]
    for kind, (resource, metric, statistic, comparison, threshold) in ALARMS.items():
        alarm = resources[f"aws_cloudwatch_metric_alarm.{resource}"]
        assert alarm["for_each"] == "${var.services}", kind
        assert alarm["alarm_name"] == f"${{var.name_prefix}}-${{each.key}}-{kind}"
        key = THRESHOLD_KEYS[kind]
        assert alarm["threshold"] == f"${{var.thresholds.{key}}}", kind
        assert defaults[key] == threshold, kind
        assert alarm["comparison_operator"] == comparison, kind
        assert alarm["alarm_actions"] == alarm["ok_actions"] == "${local.actions}", kind
        assert alarm["treat_missing_data"] == "notBreaching", kind
        queries = [q["metric"][0] for q in alarm.get("metric_query", []) if "metric" in q]
        if queries:
            assert {q["metric_name"] for q in queries} == {metric}, kind
            assert {q["stat"] for q in queries} == {statistic}, kind
        else:
            reads = alarm["metric_name"]
            if metric == "TaskStops":
                filter_ = resources["aws_cloudwatch_log_metric_filter.task_stops"]
                assert filter_["metric_transformation"][0]["name"] == metric
                assert reads == (
                    "${aws_cloudwatch_log_metric_filter.task_stops.metric_transformation[0].name}"
                )
            else:
                assert reads == metric, kind
            assert alarm["statistic"] == statistic, kind


def test_alarms_read_metrics_the_collector_exports_with_their_dimensions(infra: Infra) -> None:
    resources = _alarms(infra).typed("resource")
    config = render_collector_config("consumers", 4006)
    exported = _declarations(config)
    reads: list[tuple[str, set[str]]] = []
    for resource, metric, *_ in ALARMS.values():
        if metric == "TaskStops":
            continue
        alarm = resources[f"aws_cloudwatch_metric_alarm.{resource}"]
        if "metric_query" in alarm:
            for query in alarm["metric_query"]:
                for m in query.get("metric", []):
                    assert m["namespace"] == "${var.metrics_namespace}"
                    reads.append((m["metric_name"], set(m["dimensions"])))
        else:
            assert alarm["namespace"] == "${var.metrics_namespace}"
            reads.append((alarm["metric_name"], set(alarm["dimensions"])))
    assert len(reads) == 4
    for metric, dimensions in reads:
        assert dimensions in exported.get(metric, []), f"{metric} is not exported by {dimensions}"
    # The 5xx share reads status_class, which only the collector's relabelling sets.
    relabel = config["receivers"]["prometheus"]["config"]["scrape_configs"][0]
    rule = relabel["metric_relabel_configs"][0]
    assert (rule["source_labels"], rule["regex"], rule["target_label"], rule["replacement"]) == (
        ["status"], "5..", "status_class", "5xx"
    )  # fmt: skip
    expression = resources["aws_cloudwatch_metric_alarm.server_errors"]["metric_query"][0]
    assert "100 * FILL(errors, 0) / requests" in expression["expression"]


def test_every_exported_series_is_declared_by_the_code(infra: Infra) -> None:
    code = "\n".join(
        p.read_text()
        for root in ("libs", "services", "gateway")
        for p in (infra.repo / root).rglob("*.py")
        if "/src/" in str(p)
    )
    exported = _declarations(render_collector_config("user", 4002))
    assert len(exported) >= 8
    for name in exported:
        assert f'"{name}"' in code, f"the collector exports {name}, which no code declares"


def test_task_restarts_count_the_cluster_s_crashed_tasks(infra: Infra) -> None:
    resources = _alarms(infra).typed("resource")
    pattern = resources["aws_cloudwatch_event_rule.task_stops"]["event_pattern"]
    for part in (
        '"ECS Task State Change"',
        '"STOPPED"',
        "var.cluster_arn",
        "EssentialContainerExited",
    ):
        assert part in pattern
    target = resources["aws_cloudwatch_event_target.task_stops"]
    assert target["arn"] == "${aws_cloudwatch_log_group.task_stops.arn}"
    filter_ = resources["aws_cloudwatch_log_metric_filter.task_stops"]
    transformation = filter_["metric_transformation"][0]
    assert transformation["dimensions"] == {"group": "$.detail.group"}
    alarm = resources["aws_cloudwatch_metric_alarm.task_restarts"]
    # ECS names a service's tasks' group "service:<service name>" (modules/ecs-service).
    assert alarm["dimensions"] == {"group": "service:${each.key}"}


def test_each_environment_alarms_on_every_service_and_mails_the_alarm_address(
    environments: dict[str, TerraformDir], env: str, infra: Infra
) -> None:
    alarms = environments[env].named("module")["alarms"]
    assert alarms["source"] == "../../modules/alarms"
    assert alarms["services"] == "${toset(keys(local.services))}"
    assert alarms["alarm_email"] == "${var.alarm_email}"
    assert alarms["metrics_namespace"] == "${local.metrics_namespace}"
    assert "alarm_email" in environments[env].named("variable")
    subscription = _alarms(infra).typed("resource")["aws_sns_topic_subscription.email"]
    assert subscription["protocol"] == "email"
    assert subscription["endpoint"] == "${var.alarm_email}"
    assert subscription["topic_arn"] == "${aws_sns_topic.alarms.arn}"


def _anchors(markdown: str) -> set[str]:
    headings = re.findall(r"(?m)^#+ (.+)$", markdown)
    return {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("kind", sorted(ALARMS))
def test_the_runbook_names_each_alarm_and_its_entry_exists(infra: Infra, kind: str) -> None:
    runbook = (infra.repo / "docs" / "operations.md").read_text()
    assert f"<prefix>-<service>-{kind}" in runbook
    resource = ALARMS[kind][0]
    description = _alarms(infra).typed("resource")[f"aws_cloudwatch_metric_alarm.{resource}"][
        "alarm_description"
    ]
    anchor = description.rsplit("docs/operations.md#", 1)[1]
    assert anchor in _anchors(runbook)


def test_collector_config_is_valid_json_compatible_yaml() -> None:
    # ECS passes the rendered file as one environment value: it must stay plain YAML.
    config = render_collector_config("gateway", 4000)
    assert json.loads(json.dumps(config)) == config
