"""A subgraph whose schema weighs its fields with @cost and sizes its lists with @listSize."""

from __future__ import annotations

from typing import Any

SHOP = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", '
    '"@cost", "@listSize"])\n'
    "type Query {\n"
    '  search(first: Int, last: Int): SearchPage @listSize(slicingArguments: ["first", "last"],'
    ' sizedFields: ["items"], requireOneSlicingArgument: false)\n'
    "  tags: [String] @listSize(assumedSize: 7)\n"
    '  items(first: Int): [Item] @listSize(slicingArguments: ["first"])\n'
    "  heavy: Heavy @cost(weight: 20)\n"
    "  recent(limit: Int): [Item]\n"
    "  all: [Item]\n"
    "  filtered(filter: ItemFilter, tags: [String] @cost(weight: 2),"
    " pricey: Boolean @cost(weight: 5), note: String): [Item] @listSize(assumedSize: 2)\n"
    "}\n"
    "input ItemFilter {\n  kind: Kind\n  minPrice: Int @cost(weight: 3)\n"
    "  and: [ItemFilter]\n}\n"
    "type Mutation { buy(id: ID!): Item }\n"
    "type SearchPage { items: [Item] total: Int }\n"
    'type Item @key(fields: "id") @cost(weight: 3) {\n'
    "  id: ID!\n  kind: Kind\n  price: Int @cost(weight: 4)\n  owner: Owner\n}\n"
    "type Owner { name: String }\n"
    "type Heavy { value: Int }\n"
    "enum Kind @cost(weight: 2) { A B }\n"
)

ITEMS = [{"id": str(i), "kind": "A", "price": i, "owner": {"name": f"o{i}"}} for i in range(3)]

DATA: dict[str, Any] = {
    "Query": {
        "items": ITEMS,
        "search": {"total": 3, "items": ITEMS},
        "tags": ["x", "y"],
        "heavy": {"value": 1},
    },
    "entities": {"Item": ITEMS},
}
