"""Subgraphs made from an SDL and fixture data, for the gateway conformance scenarios.

The SDL is a subgraph's as written (Federation 1 or 2); the data says what each root field
returns and which entity records ``_entities`` finds:

    {"Query": {"field": <value>, "other": {"cases": [{"args": {...}, "value": <value>}]}},
     "Mutation": {...},
     "entities": {"Type": [<record>, ...]}}

A value is JSON (a field of an entity record may answer by ``"cases"`` too); an object of an
abstract type names its ``__typename``. ``_entities``
answers each representation with the first record of its type whose fields equal the
representation's (fields the record lacks are not compared) and whose ``"__requires"``
object (what its @requires fields must have brought) the representation holds, merged over
the representation. A record with ``"__error": "<message>"`` answers an error for that item,
and so does a type the subgraph does not know as an entity, as Apollo's subgraph libraries
do.
"""

from __future__ import annotations

from typing import Any

import orjson
from graphql import (
    DirectiveNode,
    DocumentNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    SchemaDefinitionNode,
    SchemaExtensionNode,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_ast_schema,
    graphql,
    parse,
    print_ast,
)
from graphql.language import Visitor, visit
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FEDERATION_ADDITIONS = """
scalar _Any
type _Service { sdl: String }
"""

EXTENSION_TO_DEFINITION = {
    "ObjectTypeExtensionNode": "ObjectTypeDefinitionNode",
    "InterfaceTypeExtensionNode": "InterfaceTypeDefinitionNode",
    "UnionTypeExtensionNode": "UnionTypeDefinitionNode",
    "EnumTypeExtensionNode": "EnumTypeDefinitionNode",
    "InputObjectTypeExtensionNode": "InputObjectTypeDefinitionNode",
    "ScalarTypeExtensionNode": "ScalarTypeDefinitionNode",
}


class _StripDirectives(Visitor):
    """Federation directives mean nothing to the executable schema: leave them out."""

    def enter_directive(self, node: DirectiveNode, *_: object) -> object:
        if node.name.value == "deprecated":
            return None
        return self.REMOVE


def _entity_types(document: DocumentNode) -> set[str]:
    found: set[str] = set()
    for definition in document.definitions:
        directives = getattr(definition, "directives", None) or ()
        names = {d.name.value.split("__")[-1] for d in directives}
        if names & {"key", "identity", "interfaceObject"} and hasattr(definition, "name"):
            found.add(definition.name.value)
    return found


def _executable_document(sdl: str) -> tuple[DocumentNode, set[str], dict[str, str]]:
    """The SDL without federation directives, with entity names and renamed root types."""
    document = parse(sdl, no_location=True)
    entities = _entity_types(document)
    roots = {"query": "Query", "mutation": "Mutation", "subscription": "Subscription"}
    for definition in document.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            for op in definition.operation_types or ():
                roots[op.operation.value] = op.type.name.value
    stripped: DocumentNode = visit(document, _StripDirectives())
    defined = {d.name.value for d in stripped.definitions if isinstance(d, TypeDefinitionNode)}
    definitions: list[Any] = []
    for definition in stripped.definitions:
        if isinstance(definition, SchemaDefinitionNode | SchemaExtensionNode):
            continue
        if isinstance(definition, TypeExtensionNode) and definition.name.value not in defined:
            # An extension of a type defined elsewhere (Federation 1): here it is the definition.
            kind = EXTENSION_TO_DEFINITION[type(definition).__name__]
            definition = parse(
                print_ast(definition).removeprefix("extend "), no_location=True
            ).definitions[0]
            assert type(definition).__name__ == kind
            defined.add(definition.name.value)  # type: ignore[attr-defined]
        definitions.append(definition)
    query = roots["query"]
    # Interfaces with a key are looked up too, but answer one of their object types.
    objects = {
        d.name.value
        for d in stripped.definitions
        if isinstance(d, ObjectTypeDefinitionNode | ObjectTypeExtensionNode)
    }
    members = sorted(entities & objects)
    entity_union = f"union _Entity = {' | '.join(members)}\n" if members else ""
    entities_field = "_entities(representations: [_Any!]!): [_Entity]!" if members else ""
    query_fields = f"extend type {query} {{ _service: _Service! {entities_field} }}\n"
    if query not in defined:
        query_fields = f"type {query} {{ _service: _Service! {entities_field} }}\n"
    schema_def = (
        "schema { "
        + " ".join(
            f"{op}: {name}" for op, name in roots.items() if name in defined or op == "query"
        )
        + " }\n"
    )
    extra = parse(FEDERATION_ADDITIONS + entity_union + query_fields + schema_def)
    return DocumentNode(definitions=(*definitions, *extra.definitions)), entities, roots


def _holds(recorded: Any, given: Any) -> bool:
    """Whether a representation's value names the recorded one (objects: by the fields it
    gives, so a nested key ``{venue: {id}}`` finds a record with more of the venue)."""
    if isinstance(recorded, dict) and isinstance(given, dict):
        return all(k in recorded and _holds(recorded[k], v) for k, v in given.items())
    return bool(recorded == given)


def _by_arguments(answer: Any, args: dict[str, Any]) -> Any:
    """A field's answer; ``{"cases": [{"args": {...}, "value": ...}]}`` answers by the
    arguments given (null when no case has them)."""
    if isinstance(answer, dict) and "cases" in answer:
        for case in answer["cases"]:
            if case.get("args", {}) == args:
                return case.get("value")
        return None
    return answer


class FixtureSubgraph:
    """One subgraph answering from ``data`` with the schema of ``sdl``."""

    def __init__(self, name: str, sdl: str, data: dict[str, Any]) -> None:
        self.name = name
        self.sdl = sdl
        self.data = data
        document, self.entities, self.roots = _executable_document(sdl)
        self.schema: GraphQLSchema = build_ast_schema(document)
        for type_ in self.schema.type_map.values():
            if isinstance(type_, GraphQLAbstractType):
                type_.resolve_type = self._resolve_type  # type: ignore[union-attr]
        self.requests: list[dict[str, Any]] = []

    @staticmethod
    def _resolve_type(value: Any, info: GraphQLResolveInfo, abstract: Any) -> str | None:
        return value.get("__typename") if isinstance(value, dict) else None

    def _root_value(self, operation: str) -> dict[str, Any]:
        type_name = self.roots[operation]
        answers = self.data.get(type_name, self.data.get(operation.capitalize(), {}))
        return {"__answers": answers}

    def resolve(self, source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
        """The fixture's answer for this field."""
        name = info.field_name
        if isinstance(source, dict) and "__answers" in source:
            if name == "_service":
                return {"sdl": self.sdl}
            if name == "_entities":
                return [self._entity(r, i) for i, r in enumerate(args["representations"])]
            return _by_arguments(source["__answers"].get(name), args)
        if isinstance(source, dict):
            return _by_arguments(source.get(name), args)
        return None

    def _entity(self, representation: dict[str, Any], index: int) -> Any:
        typename = representation.get("__typename")
        if typename not in self.entities:
            return GraphQLError(f'[{self.name}] "{typename}" is not an entity of this subgraph')
        for record in self.data.get("entities", {}).get(typename, ()):
            required = record.get("__requires", {})
            if all(
                _holds(record[k], v)
                for k, v in representation.items()
                if k in record and not k.startswith("__")
            ) and all(representation.get(k) == v for k, v in required.items()):
                if "__error" in record:
                    return GraphQLError(f"[{self.name}] {record['__error']}")
                merged = {**representation, **record}
                merged.pop("__requires", None)
                merged.setdefault("__typename", typename)
                return merged
        return None

    async def execute(self, body: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(body)
        query = body.get("query", "")
        try:
            operation = parse(query).definitions[0]
            kind = getattr(operation, "operation", None)
            op_name = kind.value if kind is not None else "query"
        except GraphQLError:
            op_name = "query"
        result = await graphql(
            self.schema,
            query,
            root_value=self._root_value(op_name),
            variable_values=body.get("variables"),
            operation_name=body.get("operationName"),
            field_resolver=self.resolve,
        )
        response: dict[str, Any] = {"data": result.data}
        if result.errors:
            response["errors"] = [e.formatted for e in result.errors]
        return response

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> Response:
            body = orjson.loads(await request.body())
            return Response(orjson.dumps(await self.execute(body)), media_type="application/json")

        return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])
