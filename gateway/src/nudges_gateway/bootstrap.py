"""Wires the gateway's adapters once per process."""

from __future__ import annotations

from dataclasses import dataclass

from nudges_gateway.adapters.sessions import SessionResolver
from nudges_gateway.adapters.subgraph_http import SubgraphHttp
from nudges_gateway.domain.access import PolicyRule
from nudges_gateway.domain.prepare import Limits
from nudges_gateway.service_layer.gateway import AccessControl, Gateway, PersistedQueries
from nudges_gateway.service_layer.schema_state import SchemaHolder, SchemaState
from nudges_gateway.settings import GatewaySettings
from nudges_kit.auth import JwtVerifier
from nudges_kit.warpcache import WarpCacheClient


@dataclass
class Components:
    holder: SchemaHolder
    http: SubgraphHttp
    cache: WarpCacheClient
    sessions: SessionResolver
    gateway: Gateway


def limits_of(settings: GatewaySettings) -> Limits:
    return Limits(
        max_depth=settings.max_depth,
        max_cost=settings.max_cost,
        max_aliases=settings.max_aliases,
        default_list_size=settings.default_list_size,
        max_query_bytes=settings.max_query_bytes,
        introspection=settings.introspection,
    )


def access_control(settings: GatewaySettings) -> AccessControl:
    verifier = JwtVerifier(
        settings.jwks_url,
        settings.jwt_issuer,
        settings.jwt_audience,
        refetch_seconds=settings.jwks_refetch_seconds,
    )
    policies = {
        name: PolicyRule(rule.claim, tuple(rule.any_of), rule.equals)
        for name, rule in settings.authorization_policies.items()
    }
    return AccessControl(verifier, settings.authorization_scope_claim, policies)


def bootstrap(settings: GatewaySettings) -> Components:
    http = SubgraphHttp(
        timeout=settings.subgraph_timeout_seconds,
        max_connections=settings.subgraph_max_connections,
        max_keepalive=settings.subgraph_max_keepalive_connections,
        keepalive_expiry=settings.subgraph_keepalive_seconds,
    )

    def pools_follow(state: SchemaState) -> None:
        urls = {graph.url for graph in state.supergraph.graphs.values()}
        http.retain(urls, grace=settings.operation_timeout_seconds)

    holder = SchemaHolder(settings.plan_cache_size, on_load=pools_follow)
    cache = WarpCacheClient(
        settings.warpcache_url,
        timeout=settings.warpcache_timeout_seconds,
        retries=1,
        token=settings.warpcache_caller_token(),
    )
    sessions = SessionResolver(cache, settings.session_key_prefix)
    gateway = Gateway(
        holder,
        http.fetch,
        limits_of(settings),
        settings.operation_timeout_seconds,
        PersistedQueries(settings.apq_cache_size),
        access_control(settings),
    )
    return Components(holder, http, cache, sessions, gateway)
