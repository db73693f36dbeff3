"""Two subgraphs where ``new`` takes ``Product.stock`` over from ``old`` progressively:
``@override(from: "old", label: "percent(25)")``. Each answers a stock of its own, so a
response tells which subgraph resolved it."""

from __future__ import annotations

from typing import Any

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", '
    '"@override"])\n'
)

SDLS = {
    "new": LINK + 'type Product @key(fields: "id") { id: ID! stock: Int @override(from: "old", '
    'label: "percent(25)") }\n',
    "old": LINK
    + "type Query { product: Product }\n"
    + 'type Product @key(fields: "id") { id: ID! stock: Int }\n',
}

DATA: dict[str, dict[str, Any]] = {
    "new": {"entities": {"Product": [{"id": "p1", "stock": 2}]}},
    "old": {
        "Query": {"product": {"id": "p1", "stock": 1}},
        "entities": {"Product": [{"id": "p1", "stock": 1}]},
    },
}
