"""Composition of hand-written subgraph SDLs: the supergraph in the join format, and the
errors that refuse a composition, each naming the subgraphs and the field."""

from __future__ import annotations

from pathlib import Path

from graphql import build_ast_schema, parse, print_ast

from nudges_kit.federation_api import api_sdl
from nudges_registry.domain.compatibility import breaking_changes
from nudges_registry.domain.composition import SubgraphSource, compose

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: '
    '["@key", "@shareable", "@external", "@requires", "@provides", "@override", '
    '"@inaccessible", "@interfaceObject"])\n'
)

PRODUCTS = (
    LINK
    + """
type Query { topProducts: [Product!]! media: [Media!]! }
type Product @key(fields: "upc") @key(fields: "sku brand") {
  upc: String! sku: String! brand: String! name: String! @shareable weight: Int
  stock: Int cost: Int @inaccessible
}
interface Media @key(fields: "id") { id: ID! title: String! }
type Book implements Media @key(fields: "id") { id: ID! title: String! }
type PageInfo @shareable { hasNextPage: Boolean! }
"""
)

INVENTORY = (
    LINK
    + """
type Product @key(fields: "sku brand") {
  sku: String! brand: String!
  weight: Int @external
  shippingEstimate(zone: String = "domestic"): Int @requires(fields: "weight")
  stock: Int @override(from: "products")
}
type PageInfo @shareable { hasNextPage: Boolean! }
"""
)

REVIEWS = (
    LINK
    + """
type Query { reviews: [Review!]! }
type Review { id: ID! product: Product! @provides(fields: "name") }
type Product @key(fields: "upc") { upc: String! name: String! @external }
type Media @key(fields: "id") @interfaceObject { id: ID! rating: Int }
"""
)


def sources(**sdls: str) -> list[SubgraphSource]:
    return [SubgraphSource(name, f"http://{name}.test/graphql", sdl) for name, sdl in sdls.items()]


def composed(**sdls: str) -> str:
    result = compose(sources(**sdls))
    assert result.ok, [e.message for e in result.errors]
    assert result.supergraph_sdl is not None
    return result.supergraph_sdl


def errors_of(**sdls: str) -> list[tuple[str, str]]:
    result = compose(sources(**sdls))
    assert not result.ok
    return [(e.code, e.message) for e in result.errors]


def test_the_supergraph_carries_the_join_spec() -> None:
    sdl = composed(products=PRODUCTS, inventory=INVENTORY, reviews=REVIEWS)
    build_ast_schema(parse(sdl))  # a valid schema, directives declared
    assert '@link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)' in sdl
    assert '@link(url: "https://specs.apollo.dev/inaccessible/v0.2", for: SECURITY)' in sdl
    assert 'PRODUCTS @join__graph(name: "products", url: "http://products.test/graphql")' in sdl
    assert '@join__type(graph: PRODUCTS, key: "upc")' in sdl
    assert '@join__type(graph: PRODUCTS, key: "sku brand")' in sdl
    assert '@join__type(graph: INVENTORY, key: "sku brand")' in sdl
    assert (
        'shippingEstimate(zone: String = "domestic"): Int '
        '@join__field(graph: INVENTORY, requires: "weight")'
    ) in sdl
    assert (
        "weight: Int @join__field(graph: INVENTORY, external: true) @join__field(graph: PRODUCTS)"
        in sdl
    )
    assert 'product: Product! @join__field(graph: REVIEWS, provides: "name")' in sdl
    # @override: products no longer resolves stock (and it uses it in no key)
    assert 'stock: Int @join__field(graph: INVENTORY, override: "products")' in sdl
    assert "cost: Int @join__field(graph: PRODUCTS) @inaccessible" in sdl
    assert '@join__type(graph: REVIEWS, key: "id", isInterfaceObject: true)' in sdl
    assert "rating: Int @join__field(graph: REVIEWS)" in sdl
    assert "rating: Int @join__field\n" in sdl  # on Book, reached through the interface object
    assert '@join__implements(graph: PRODUCTS, interface: "Media")' in sdl
    assert "_entities" not in sdl
    assert "_Service" not in sdl


def test_the_api_schema_hides_inaccessible_and_machinery() -> None:
    api = api_sdl(composed(products=PRODUCTS, inventory=INVENTORY, reviews=REVIEWS))
    assert "cost" not in api
    assert "join__" not in api
    assert "link__" not in api
    assert "shippingEstimate" in api


def test_a_field_type_conflict_names_both_subgraphs() -> None:
    other = LINK + 'type Query { a: Int }\ntype Product @key(fields: "upc") { upc: Int! }'
    errors = errors_of(products=PRODUCTS, other=other)
    assert (
        "FIELD_TYPE_MISMATCH",
        'Type of field "Product.upc" is incompatible across subgraphs: it has type "Int!" in '
        'subgraph "other" and "String!" in subgraph "products"',
    ) in errors


def test_a_non_shareable_field_in_two_subgraphs_is_refused() -> None:
    other = (
        LINK
        + 'type Query { b: Int }\ntype Product @key(fields: "upc") { upc: String! name: String! }'
    )
    errors = errors_of(products=PRODUCTS, other=other)
    assert any(
        code == "INVALID_FIELD_SHARING" and '"Product.name"' in message and '"other"' in message
        for code, message in errors
    ), errors


def test_shareable_and_key_fields_may_be_resolved_twice() -> None:
    other = (
        LINK
        + """
    type Query { b: PageInfo }
    type Product @key(fields: "upc") { upc: String! name: String! @shareable }
    type PageInfo @shareable { hasNextPage: Boolean! }
    """
    )
    assert "Product" in composed(products=PRODUCTS, other=other)


def test_a_missing_key_field_is_refused() -> None:
    broken = LINK + 'type Query { x: Thing }\ntype Thing @key(fields: "id") { name: String }'
    errors = errors_of(things=broken)
    assert errors[0][0] == "KEY_INVALID_FIELDS"
    assert errors[0][1].startswith(
        '[things] On type "Thing", for @key(fields: "id"): Cannot query field "id" on type "Thing"'
    )


def test_requires_of_a_non_external_field_is_refused() -> None:
    broken = INVENTORY.replace("weight: Int @external", "weight: Int")
    codes = [code for code, _ in errors_of(products=PRODUCTS, inventory=broken)]
    assert "REQUIRES_FIELDS_MISSING_EXTERNAL" in codes


def test_a_field_unreachable_without_a_key_is_refused() -> None:
    keyless = LINK + "type Query { r: Review }\ntype Review { id: ID! body: String }"
    other = LINK + "type Query { s: Review }\ntype Review { id: ID! @shareable stars: Int }"
    errors = errors_of(a=keyless.replace("id: ID!", "id: ID! @shareable"), b=other)
    assert errors[0][0] == "SATISFIABILITY_ERROR"
    assert '"Review.body"' in errors[0][1]


def test_interface_object_needs_an_entity_interface() -> None:
    lonely = (
        LINK + 'type Query { a: Int }\ntype Thing @key(fields: "id") @interfaceObject { id: ID! }'
    )
    assert errors_of(lonely=lonely)[0][0] == "INTERFACE_OBJECT_USAGE_ERROR"


def test_an_accessible_field_cannot_return_an_inaccessible_type() -> None:
    sdl = LINK + "type Query { secret: Secret }\ntype Secret @inaccessible { id: ID }"
    assert errors_of(s=sdl)[0][0] == "REFERENCED_INACCESSIBLE"


def test_a_subgraph_that_does_not_parse_is_named() -> None:
    assert errors_of(bad="type Query {")[0][0] == "INVALID_GRAPHQL"
    assert "[bad]" in errors_of(bad="type Query {")[0][1]


def test_breaking_changes_are_found() -> None:
    before = composed(products=PRODUCTS, inventory=INVENTORY, reviews=REVIEWS)
    without = composed(products=PRODUCTS, inventory=INVENTORY)
    changes = breaking_changes(before, without)
    assert "FIELD_REMOVED: Field Query.reviews was removed." in changes
    retyped = composed(
        products=PRODUCTS.replace("name: String!", "name: Int!"), inventory=INVENTORY
    )
    assert any("Product.name changed type" in c for c in breaking_changes(without, retyped))
    assert breaking_changes(without, before) == []


def test_a_provided_external_field_must_be_shareable_where_resolved() -> None:
    unshared = PRODUCTS.replace("name: String! @shareable", "name: String!")
    errors = errors_of(products=unshared, inventory=INVENTORY, reviews=REVIEWS)
    assert (
        "INVALID_FIELD_SHARING",
        'Non-shareable field "Product.name" is resolved from multiple subgraphs: it is resolved '
        'from subgraphs "products" and "reviews" and defined as non-shareable in subgraph '
        '"products"',
    ) in errors


def test_an_external_field_may_not_be_more_nullable_than_resolved() -> None:
    strict = PRODUCTS.replace("weight: Int", "weight: Int!")
    errors = errors_of(products=strict, inventory=INVENTORY, reviews=REVIEWS)
    assert errors[0][0] == "EXTERNAL_TYPE_MISMATCH"
    assert '"Product.weight"' in errors[0][1]
    assert '"inventory"' in errors[0][1]


FIXTURES = Path(__file__).parent.parent / "fixtures"


def _joins(sdl: str) -> dict[str, set[str]]:
    """Per type and per field, the join directives applied (order and layout aside)."""
    document = parse(sdl)
    found: dict[str, set[str]] = {}
    for definition in document.definitions:
        name = getattr(definition, "name", None)
        if name is None or name.value.startswith(("join__", "link__")):
            continue
        found[name.value] = {
            print_ast(d) for d in definition.directives or () if d.name.value.startswith("join__")
        }
        for fld in getattr(definition, "fields", None) or ():
            found[f"{name.value}.{fld.name.value}"] = {
                print_ast(d) for d in fld.directives or () if d.name.value != "deprecated"
            }
    return found


def test_the_supergraph_matches_apollos_composition() -> None:
    """The gateway tests' three subgraphs, composed here and by @apollo/composition 2.14.4
    (its output is the fixture): the same types, fields and join directives."""
    names = ("products", "inventory", "reviews")
    ours = composed(**{n: (FIXTURES / f"{n}.graphql").read_text() for n in names})
    ours = ours.replace(".test/graphql", ".invalid/graphql")
    apollo = (FIXTURES / "apollo_supergraph.graphql").read_text()
    assert _joins(ours) == _joins(apollo)


def test_an_overridden_field_used_in_a_key_stays_as_used_overridden() -> None:
    a = LINK + (
        'type Query { p: Product }\ntype Product @key(fields: "id code") { id: ID! code: String! }'
    )
    b = LINK + 'type Product @key(fields: "id") { id: ID! code: String! @override(from: "a") }'
    sdl = composed(a=a, b=b)
    assert (
        "code: String! @join__field(graph: A, usedOverridden: true) "
        '@join__field(graph: B, override: "a")'
    ) in sdl


CONTEXT_LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", '
    'import: ["@key", "@context", "@fromContext"])\n'
)


def test_a_contextual_argument_becomes_join_context_arguments() -> None:
    sdl = CONTEXT_LINK + (
        "type Query { user: User }\n"
        'type User @key(fields: "id") @context(name: "userContext") '
        "{ id: ID! locale: String account: Account }\n"
        'type Account @key(fields: "id") {\n'
        "  id: ID!\n"
        '  greeting(locale: String @fromContext(field: "$userContext { locale }")): String\n'
        "}\n"
    )
    supergraph = composed(users=sdl)
    assert "https://specs.apollo.dev/join/v0.5" in supergraph
    assert '@context(name: "users__userContext")' in supergraph
    assert (
        "greeting: String @join__field(graph: USERS, contextArguments: "
        '[{context: "users__userContext", name: "locale", type: "String", '
        'selection: " { locale }"}])'
    ) in supergraph
    assert "greeting(" not in supergraph  # the argument is the gateway's, not the clients'


def test_a_context_selection_must_hold_on_every_type_carrying_the_context() -> None:
    sdl = CONTEXT_LINK + (
        "type Query { a: A b: B }\n"
        'type A @key(fields: "id") @context(name: "ctx") { id: ID! name: String c: C }\n'
        'type B @key(fields: "id") @context(name: "ctx") { id: ID! title: String c: C }\n'
        'type C @key(fields: "id") {\n'
        '  id: ID! label(name: String @fromContext(field: "$ctx { name }")): String\n'
        "}\n"
    )
    errors = errors_of(users=sdl)
    assert errors[0][0] == "CONTEXT_INVALID_SELECTION"
    assert 'Cannot query field "name" on type "B"' in errors[0][1]


def test_a_context_name_with_an_underscore_is_refused() -> None:
    sdl = CONTEXT_LINK + (
        "type Query { user: User }\n"
        'type User @key(fields: "id") @context(name: "user_ctx") { id: ID! locale: String }\n'
    )
    assert errors_of(users=sdl)[0][0] == "CONTEXT_NAME_INVALID"


DEMANDS_LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: '
    '["@key", "@shareable", "@authenticated", "@requiresScopes", "@policy", "@cost", '
    '"@listSize"])\n'
)


def test_access_and_demand_directives_are_kept_for_the_gateway() -> None:
    shop = DEMANDS_LINK + (
        "type Query { orders(first: Int): [Order] @listSize(slicingArguments: "
        '["first"]) @authenticated @shareable }\n'
        'type Order @key(fields: "id") @policy(policies: [["staff"]]) '
        '{ id: ID! total: Int @requiresScopes(scopes: [["a"], ["b"]]) @shareable @cost(weight: 3) }'
    )
    audit = DEMANDS_LINK + (
        "type Query { orders(first: Int): [Order] @shareable "
        "@listSize(assumedSize: 50) }\n"
        'type Order @key(fields: "id") { id: ID! total: Int @shareable '
        '@requiresScopes(scopes: [["c"]]) @cost(weight: 5) }'
    )
    composition = compose(sources(shop=shop, audit=audit))
    assert composition.ok, composition.errors
    sdl = composition.supergraph_sdl
    assert sdl is not None
    assert '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)' in sdl
    assert '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])' in sdl
    document = parse(sdl)
    fields = {
        f"{d.name.value}.{f.name.value}": " ".join(print_ast(x) for x in f.directives or ())
        for d in document.definitions
        if d.kind == "object_type_definition" and d.name.value in ("Query", "Order")  # type: ignore[attr-defined]
        for f in d.fields  # type: ignore[attr-defined]
    }
    # Both subgraphs' scopes must hold: each group of one (audit, first by name) with each
    # group of the other.
    assert '@requiresScopes(scopes: [["c", "a"], ["c", "b"]])' in fields["Order.total"]
    assert "@cost(weight: 5)" in fields["Order.total"]
    assert "@authenticated" in fields["Query.orders"]
    assert '@listSize(assumedSize: 50, slicingArguments: ["first"])' in fields["Query.orders"]
    assert '@policy(policies: [["staff"]])' in sdl


def test_cost_on_arguments_and_input_fields_is_kept_the_highest_across_subgraphs() -> None:
    shop = DEMANDS_LINK + (
        "type Query { search(term: String @cost(weight: 2), filter: Filter): [String] "
        "@shareable }\ninput Filter { min: Int @cost(weight: 4) max: Int }"
    )
    audit = DEMANDS_LINK + (
        "type Query { search(term: String @cost(weight: 7), filter: Filter): [String] "
        "@shareable }\ninput Filter { min: Int max: Int }"
    )
    composition = compose(sources(shop=shop, audit=audit))
    assert composition.ok, composition.errors
    sdl = composition.supergraph_sdl
    assert sdl is not None
    assert "search(term: String @cost(weight: 7), filter: Filter)" in sdl
    assert "min: Int @cost(weight: 4)" in sdl
    assert '@link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@listSize"])' in sdl
    schema = build_ast_schema(parse(sdl))
    assert schema.query_type is not None
    assert schema.query_type.fields["search"].args["term"].ast_node is not None


def test_access_requirements_on_an_interface_are_refused_and_implementations_lend_theirs() -> None:
    refused = DEMANDS_LINK + (
        "type Query { node: Node }\ninterface Node @authenticated { id: ID! }\n"
        'type Doc implements Node @key(fields: "id") { id: ID! }'
    )
    composition = compose(sources(a=refused))
    assert [e.code for e in composition.errors] == ["AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE"]
    lent = DEMANDS_LINK + (
        "type Query { node: Node }\ninterface Node { id: ID! body: String }\n"
        'type Doc implements Node @key(fields: "id") @authenticated '
        '{ id: ID! body: String @requiresScopes(scopes: [["docs"]]) }'
    )
    composition = compose(sources(a=lent))
    assert composition.ok, composition.errors
    assert composition.supergraph_sdl is not None
    node = next(
        d
        for d in parse(composition.supergraph_sdl).definitions
        if getattr(d, "name", None) is not None and d.name.value == "Node"  # type: ignore[attr-defined]
    )
    assert "@authenticated" in print_ast(node).split("{")[0]
    assert '@requiresScopes(scopes: [["docs"]])' in print_ast(node)
