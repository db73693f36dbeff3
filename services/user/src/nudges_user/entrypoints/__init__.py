"""Where requests enter: the HTTP app (and, later, the GraphQL schema)."""
