"""What the public graph shows: the supergraph of the real UserApi, ProductApi and PaymentApi
schemas (composed by the registry's composition) leaves out every field meant for services,
the gateway refuses to plan one, and introspection is off in production."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from gateway_support import RunningGateway, start_gateway
from graphql import GraphQLSchema, build_schema
from strawberry.federation import Schema

from nudges_kit.federation_api import api_schema
from nudges_kit.settings import development_warpcache_token
from nudges_payment.entrypoints.graphql.schema import schema as payment_schema
from nudges_product.entrypoints.graphql.schema import build_schema as product_schema
from nudges_registry.domain.composition import SubgraphSource, compose
from nudges_user.entrypoints.graphql import schema as user_schema

#: Fields whose resolvers admit only the ``service`` role, per subgraph and parent type.
SERVICE_ONLY_FIELDS = {
    "user": {
        "Query": ["phoneIdentity", "contact", "announcementRecipients"],
        # The SMS dialogue's quote: the audience per locale, each locale's copy counted.
        "Client": ["audienceLocales"],
        "Mutation": [
            "setMembershipsByPhone",
            "confirmAnnouncement",
        ],
    },
    # Stripe's news and completed announcements reach ProductApi and PaymentApi as events, not
    # through service mutations.
    "product": {},
    "payment": {},
}
#: Types only those fields lead to: no more public than the fields.
SERVICE_ONLY_TYPES = [
    "PhoneIdentity",
    "Contact",
    "Recipient",
    "RecipientPage",
    "LocaleAudience",
]

#: What the gateway requires in production (the test WarpCache accepts its development token).
PRODUCTION = {
    "environment": "production",
    "registry_url": "http://127.0.0.1:4010",
    "warpcache_token": development_warpcache_token("gateway"),
}
INTROSPECTION = "{ __schema { queryType { fields { name } } } }"
ROOT = Path(__file__).parents[3]
#: Where each subgraph's resolvers live.
RESOLVERS = {
    "user": ["services/user/src/nudges_user/entrypoints/graphql"],
    "product": ["services/product/src/nudges_product/entrypoints/graphql"],
    "payment": ["services/payment/src/nudges_payment/entrypoints/graphql"],
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def service_only_resolvers(subgraph: str) -> set[str]:
    """Fields (camelCase) whose resolver requires the ``service`` role and no other: a call
    ``<context>.require("service")`` in its body, read from the source."""
    found: set[str] = set()
    for entry in RESOLVERS[subgraph]:
        path = ROOT / entry
        for source in sorted(path.glob("*.py")) if path.is_dir() else [path]:
            for node in ast.walk(ast.parse(source.read_text())):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for call in ast.walk(node):
                    if (
                        isinstance(call, ast.Call)
                        and isinstance(call.func, ast.Attribute)
                        and call.func.attr == "require"
                        and [getattr(a, "value", None) for a in call.args] == ["service"]
                    ):
                        found.add(_camel(node.name))
    return found


def subgraph_sdl(schema: Schema) -> str:
    """The SDL a subgraph gives the registry (``{ _service { sdl } }``)."""
    result = schema.execute_sync("{ _service { sdl } }")
    assert result.errors is None, result.errors
    assert result.data is not None
    return str(result.data["_service"]["sdl"])


@pytest.fixture(scope="module")
def sdls() -> dict[str, str]:
    return {
        "user": subgraph_sdl(user_schema),
        "product": subgraph_sdl(product_schema()),
        "payment": subgraph_sdl(payment_schema),
    }


@pytest.fixture(scope="module")
def supergraph_file(sdls: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Nothing listens on these URLs: every request below is refused before any subgraph call.
    composition = compose(
        [SubgraphSource(name, f"http://127.0.0.1:9/{name}", sdl) for name, sdl in sdls.items()]
    )
    assert composition.ok, composition.errors
    assert composition.supergraph_sdl is not None
    path = tmp_path_factory.mktemp("public-schema") / "supergraph.graphql"
    path.write_text(composition.supergraph_sdl)
    return path


@pytest.fixture(scope="module")
def public(supergraph_file: Path) -> GraphQLSchema:
    return api_schema(supergraph_file.read_text())


@pytest.fixture(scope="module")
def gateway(supergraph_file: Path, warpcache_server: str) -> Iterator[RunningGateway]:
    running = start_gateway(supergraph_file, warpcache_url=warpcache_server)
    yield running
    running.served.stop()


@pytest.mark.parametrize("subgraph", list(RESOLVERS))
def test_every_service_only_resolver_is_listed(subgraph: str) -> None:
    """A new resolver for services only cannot slip into the public graph unlisted."""
    listed = {f for fields in SERVICE_ONLY_FIELDS[subgraph].values() for f in fields}
    assert service_only_resolvers(subgraph) == listed


def test_the_subgraphs_still_define_the_service_fields(sdls: dict[str, str]) -> None:
    """Services call the subgraphs directly: there the fields stay, marked @inaccessible."""
    for name, types in SERVICE_ONLY_FIELDS.items():
        schema = build_schema(sdls[name], assume_valid_sdl=True)
        for type_name, fields in types.items():
            graphql_type = schema.get_type(type_name)
            assert graphql_type is not None
            for field in fields:
                assert field in graphql_type.fields, f"{name}: {type_name}.{field}"  # type: ignore[attr-defined]
                node = graphql_type.fields[field].ast_node  # type: ignore[attr-defined]
                directives = {d.name.value for d in node.directives}
                assert "inaccessible" in directives, f"{name}: {type_name}.{field}"


def test_the_graph_has_at_most_five_service_only_root_fields(sdls: dict[str, str]) -> None:
    """SPEC §4: owners react to their own events; a root field for services only is the
    exception (at most five in the whole graph), each with its reason in its docstring."""
    roots = []
    for name, sdl in sdls.items():
        schema = build_schema(sdl, assume_valid_sdl=True)
        for root in (schema.query_type, schema.mutation_type):
            for field_name, field in (root.fields if root else {}).items():
                directives = (field.ast_node.directives or ()) if field.ast_node else ()
                if any(d.name.value == "inaccessible" for d in directives):
                    roots.append(f"{name}: {root.name}.{field_name}")  # type: ignore[union-attr]
    assert len(roots) <= 5, sorted(roots)


def test_the_api_schema_has_no_service_only_field(public: GraphQLSchema) -> None:
    for types in SERVICE_ONLY_FIELDS.values():
        for type_name, fields in types.items():
            graphql_type = public.get_type(type_name)
            assert graphql_type is not None
            shown = set(graphql_type.fields)  # type: ignore[attr-defined]
            assert shown.isdisjoint(fields), f"{type_name}: {sorted(shown & set(fields))}"
    assert [t for t in SERVICE_ONLY_TYPES if public.get_type(t) is not None] == []
    # What clients use is still there.
    query = public.query_type
    assert query is not None
    assert {"viewer", "plans", "client", "checkoutSession"} <= set(query.fields)


def test_a_service_field_through_the_gateway_fails_validation(gateway: RunningGateway) -> None:
    body = gateway.post('{ phoneIdentity(phoneHash: "h") { userId isAdmin } }').json()
    assert "data" not in body or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "phoneIdentity" in body["errors"][0]["message"]
    mutation = gateway.post(
        'mutation { confirmAnnouncement(clientId: "c", body: "b", draftKey: "k") { id } }'
    ).json()
    assert mutation["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


@pytest.mark.parametrize("environment", ["development", "test"])
def test_introspection_in_development_shows_no_service_field(
    supergraph_file: Path, warpcache_server: str, environment: str
) -> None:
    running = start_gateway(
        supergraph_file, warpcache_url=warpcache_server, environment=environment
    )
    try:
        body = running.query(INTROSPECTION)
        type_body = running.query('{ __type(name: "PhoneIdentity") { name } }')
    finally:
        running.served.stop()
    fields = {f["name"] for f in body["data"]["__schema"]["queryType"]["fields"]}  # type: ignore[index]
    assert "plans" in fields
    assert fields.isdisjoint({"phoneIdentity", "contact", "announcementRecipients"})
    assert type_body == {"data": {"__type": None}}


@pytest.mark.parametrize(
    "settings",
    [PRODUCTION, {"introspection": False}],
    ids=["production", "setting off"],
)
def test_introspection_is_refused(
    supergraph_file: Path, warpcache_server: str, settings: dict[str, object]
) -> None:
    running = start_gateway(supergraph_file, warpcache_url=warpcache_server, **settings)
    try:
        for query in (INTROSPECTION, '{ __type(name: "Plan") { name } }'):
            body = running.post(query).json()
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", body
            assert "introspection" in body["errors"][0]["message"].lower()
        # Plain operations are still served (a __typename is no introspection).
        assert running.query("{ __typename }")["data"] == {"__typename": "Query"}
    finally:
        running.served.stop()
