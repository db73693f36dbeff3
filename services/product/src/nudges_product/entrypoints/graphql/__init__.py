"""The GraphQL subgraph: thin types and resolvers over the service layer."""
