"""Gateway: the GraphQL federation gateway, one graph over the subgraphs."""
