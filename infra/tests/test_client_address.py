"""Rate limits count clients, not CloudFront edges: the UIs' distributions forward the API
paths to the load balancer with an origin header, the load balancer's WAF counts those
requests per forwarded viewer address, and AuthApi is told the topology it is deployed in."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nudges_kit.client_address import EDGE_HEADER, Topology

if TYPE_CHECKING:
    from conftest import Infra, TerraformDir

SECRET = "${random_password.edge_origin.result}"


def _blocks(value: Any, key: str) -> list[dict[str, Any]]:
    """Every block named ``key`` anywhere under ``value`` (dynamic blocks' content included)."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == key:
                items = inner if isinstance(inner, list) else [inner]
                found.extend(i for i in items if isinstance(i, dict))
            found.extend(_blocks(inner, key))
    elif isinstance(value, list):
        for item in value:
            found.extend(_blocks(item, key))
    return found


def _web_acl(infra: Infra) -> dict[str, Any]:
    waf = infra.load(infra.terraform / "modules" / "waf")
    return waf.typed("resource")["aws_wafv2_web_acl.this"]


def _rate_rules(acl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rate-based statements of the ACL's rules, by rule name."""
    rules = _blocks(acl, "rule")
    rules += [
        c for d in _blocks(acl, "dynamic") for r in [d.get("rule")] if r for c in r["content"]
    ]
    return {
        rule["name"]: _blocks(rule, "rate_based_statement")[0]
        for rule in rules
        if "name" in rule and _blocks(rule, "rate_based_statement")
    }


def _header_match(statement: dict[str, Any]) -> dict[str, Any]:
    match = _blocks(statement, "byte_match_statement")[0]
    header = _blocks(match, "single_header")[0]["name"]
    assert header in (EDGE_HEADER, "${local.edge_header}")
    assert match["positional_constraint"] == "EXACTLY"
    return match


def test_cloudfront_requests_are_rate_limited_per_forwarded_address(infra: Infra) -> None:
    acl = _web_acl(infra)
    rules = _rate_rules(acl)
    forwarded = rules["rate-per-forwarded-ip"]
    assert forwarded["aggregate_key_type"] == "FORWARDED_IP"
    config = forwarded["forwarded_ip_config"][0]
    assert config["header_name"] == "X-Forwarded-For"
    assert config["fallback_behavior"] == "MATCH"
    # Only requests that came through CloudFront (its origin header) are counted so.
    scope_down = forwarded["scope_down_statement"][0]
    assert _header_match(scope_down)["search_string"] == "${var.edge_origin_secret}"
    assert "not_statement" not in scope_down


def test_other_requests_are_rate_limited_per_source_address(infra: Infra) -> None:
    rules = _rate_rules(_web_acl(infra))
    per_ip = rules["rate-per-ip"]
    assert per_ip["aggregate_key_type"] == "IP"
    # Behind CloudFront, its requests leave this rule (their source is an edge).
    negated = _blocks(per_ip, "not_statement")
    assert negated, "rate-per-ip must leave CloudFront's requests to rate-per-forwarded-ip"
    assert _header_match(negated[0])["search_string"] == "${var.edge_origin_secret}"


def test_the_waf_module_declares_its_edge_header(infra: Infra) -> None:
    waf = infra.load(infra.terraform / "modules" / "waf")
    assert waf.locals["edge_header"] == EDGE_HEADER


def test_cloudfront_sends_its_origin_header_to_the_api(infra: Infra) -> None:
    site = infra.load(infra.terraform / "modules" / "static-site")
    distribution = site.typed("resource")["aws_cloudfront_distribution.this"]
    api_origin = next(o for o in distribution["origin"] if o["origin_id"] == "${local.api_origin}")
    headers = {h["name"].lower(): h["value"] for h in api_origin["custom_header"]}
    assert headers == {EDGE_HEADER: "${var.edge_origin_secret}"}


def _module(tf: TerraformDir, name: str) -> dict[str, Any]:
    return tf.named("module")[name]


def test_the_environment_deploys_the_topology_it_declares(
    environments: dict[str, TerraformDir], env: str
) -> None:
    tf = environments[env]
    # CloudFront fronts the load balancer: the UIs' distributions forward to the API host.
    site = _module(tf, "static_site")
    assert site["api_origin_domain"] == "${local.api_host}"
    assert site["edge_origin_secret"] == SECRET
    alb = _module(tf, "alb")
    assert alb["behind_cloudfront"] is True
    assert alb["edge_origin_secret"] == SECRET
    # AuthApi reads the client address of that topology, with the same secret.
    auth = tf.locals["services"]["auth"]
    assert auth["environment"]["CLIENT_ADDRESS_TOPOLOGY"] == Topology.CLOUDFRONT_ALB.value
    assert "TRUSTED_PROXY_HOPS" not in auth["environment"]
    assert auth["secrets"]["EDGE_ORIGIN_SECRET"] == "edge-origin-secret"
    version = tf.typed("resource")["aws_secretsmanager_secret_version.edge_origin"]
    assert version["secret_id"] == '${module.secrets.secret_arns["edge-origin-secret"]}'
    assert version["secret_string"] == SECRET
