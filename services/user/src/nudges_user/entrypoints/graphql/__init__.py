"""The UserApi subgraph: thin types whose resolvers call the service layer and repository
reads, with authorization per field. ``schema`` is what the app serves."""

from nudges_user.entrypoints.graphql.schema import schema

__all__ = ["schema"]
