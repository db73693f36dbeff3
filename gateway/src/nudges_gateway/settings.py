"""Gateway settings, from environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field, model_validator

from nudges_kit.settings import NudgesSettings

#: Where ``make web-deps`` builds the GraphiQL page (gateway/graphiql), beside this package.
GRAPHIQL_HTML = Path(__file__).resolve().parents[2] / "graphiql" / "dist" / "index.html"


class PolicySetting(BaseModel):
    """A named policy of ``@policy``: holds when the token's ``claim`` (a dotted path) has
    one of ``any_of`` (a value, a list, or a space-separated string), or equals ``equals``."""

    claim: str
    any_of: list[Any] = []
    equals: Any = None


class GatewaySettings(NudgesSettings):
    """Settings of Gateway."""

    service_name: str = "gateway"
    http_port: int = 4000
    #: GraphQL documents, variables and extensions of one request (or batch), at most.
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1)

    #: The gateway has no database, broker or keys of its own: it reads the supergraph from the
    #: registry and sessions (with its token) from WarpCache.
    production_required: ClassVar[tuple[str, ...]] = (
        "registry_url",
        "warpcache_url",
        "warpcache_token",
    )

    #: Serve this supergraph file (composed by GraphMonitor, Apollo's or Hive's tools) instead
    #: of polling the registry; the file is re-read when it changes.
    supergraph_path: str = ""
    #: How often to ask the registry (``registry_url``) for a new supergraph.
    supergraph_poll_seconds: float = 5.0
    #: A bearer token allowing ``POST /supergraph`` to push a supergraph (empty: no pushes).
    supergraph_push_token: str = ""

    #: Deadline of one subgraph request, and of a whole operation.
    subgraph_timeout_seconds: float = 10.0
    operation_timeout_seconds: float = 30.0
    #: Connection pool per subgraph (HTTP/1.1 keep-alive). An idle connection is not reused
    #: after ``subgraph_keepalive_seconds``: below the 5 s after which uvicorn and Node servers
    #: close one, so that a request seldom meets a connection the subgraph is closing.
    subgraph_max_connections: int = 100
    subgraph_max_keepalive_connections: int = 20
    subgraph_keepalive_seconds: float = 4.0

    #: The limits of one operation (``max_depth``, ``max_cost``, ``max_aliases``,
    #: ``default_list_size``, ``max_query_bytes``) are those of every subgraph, declared once in
    #: :class:`NudgesSettings`.
    #: Most operations in one batched (JSON array) request.
    max_batch: int = 10
    #: Answer ``__schema`` and ``__type``. Unset, it follows the environment: on in
    #: development and tests, off in production (where it would map the whole graph for an
    #: attacker); refused queries answer GRAPHQL_VALIDATION_FAILED.
    introspection: bool = True
    #: GraphiQL at ``GET /graphql`` for a browser (``Accept: text/html``), and the query plan in
    #: ``extensions.queryPlan`` of a response whose request says ``Nudges-Query-Plan: true``.
    #: Unset, both follow the environment: on in development and tests, off in production.
    graphiql: bool = True
    expose_query_plans: bool = True
    #: The GraphiQL page, built by ``make web-deps`` from an npm package (no CDN).
    graphiql_html_path: str = str(GRAPHIQL_HTML)
    #: Prepared operations (plans) kept per supergraph, and persisted queries (APQ) kept.
    plan_cache_size: int = 1000
    apq_cache_size: int = 10_000

    #: The cookie AuthApi sets with the opaque session id, and the WarpCache key prefix.
    session_cookie: str = "TokenId"
    session_key_prefix: str = "session:"
    warpcache_timeout_seconds: float = 1.0
    #: Origins whose pages may be authenticated by the cookie over WebSocket (browsers send
    #: cookies with cross-site WebSockets; from other origins the cookie is ignored).
    websocket_origins: list[str] = [
        f"http://{host}:{port}" for host in ("127.0.0.1", "localhost") for port in (5173, 5174)
    ]

    #: Access control (``@authenticated``, ``@requiresScopes``, ``@policy`` of the supergraph):
    #: the caller's JWT is verified with the keys at ``jwks_url`` (issuer ``jwt_issuer``,
    #: audience ``jwt_audience``); its scopes are in this claim (a space-separated string or
    #: a list).
    authorization_scope_claim: str = "scope"
    #: Named policies (JSON: ``{"finance": {"claim": "roles", "any_of": ["admin"]}}``). Besides
    #: these, ``role:<role>`` holds for a token granting that role; any other name, for no one.
    authorization_policies: dict[str, PolicySetting] = {}

    @model_validator(mode="before")
    @classmethod
    def _introspection_follows_environment(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("introspection", "graphiql", "expose_query_plans"):
                if data.get(name) in (None, ""):
                    environment = str(data.get("environment") or "development").lower()
                    data = {**data, name: environment != "production"}
        return data
