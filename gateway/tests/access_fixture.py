"""Two subgraphs whose schema uses @authenticated, @requiresScopes and @policy on fields,
object types, scalars and enums, with the data the fixture subgraphs answer from."""

from __future__ import annotations

from typing import Any

LINK = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key", '
    '"@shareable", "@authenticated", "@requiresScopes", "@policy"])\n'
)

ACCOUNTS = LINK + (
    "type Query {\n"
    "  me: Account @authenticated\n"
    "  account(id: ID!): Account\n"
    "  accounts: [Account]\n"
    "  motd: String\n"
    "  secret: Secret\n"
    "  level: Level\n"
    "  node: Node\n"
    "}\n"
    'type Account implements Node @key(fields: "id") {\n'
    "  id: ID!\n"
    "  name: String\n"
    '  email: String @requiresScopes(scopes: [["read:email"], ["admin"]])\n'
    "  audit: Audit\n"
    "}\n"
    'type Audit @policy(policies: [["auditor"], ["role:admin"]]) { note: String }\n'
    'scalar Secret @requiresScopes(scopes: [["secrets"]])\n'
    "enum Level @authenticated { LOW HIGH }\n"
    "interface Node { id: ID! }\n"
    'type Vault implements Node @key(fields: "id") @authenticated { id: ID! combination: String }\n'
)

BILLING = LINK + (
    'type Account @key(fields: "id") {\n'
    "  id: ID!\n"
    '  balance: Int @requiresScopes(scopes: [["billing:read"]])\n'
    "  plan: String\n"
    "}\n"
)

SDLS = {"accounts": ACCOUNTS, "billing": BILLING}

ACCOUNT: dict[str, Any] = {
    "__typename": "Account",
    "id": "a1",
    "name": "Ada",
    "email": "ada@example.org",
    "audit": {"note": "checked"},
}

DATA: dict[str, dict[str, Any]] = {
    "accounts": {
        "Query": {
            "me": ACCOUNT,
            "account": ACCOUNT,
            "accounts": [ACCOUNT, {**ACCOUNT, "id": "a2", "name": "Bob"}],
            "motd": "hello",
            "secret": "s3cr3t",
            "level": "HIGH",
            "node": {"__typename": "Vault", "id": "v1", "combination": "1234"},
        },
        "entities": {"Account": [ACCOUNT]},
    },
    "billing": {
        "entities": {"Account": [{"id": "a1", "balance": 42, "plan": "pro"}]},
    },
}
