"""PaymentApi: checkout sessions and payment confirmations (GraphQL subgraph)."""
