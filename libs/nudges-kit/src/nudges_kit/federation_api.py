"""The API schema of a supergraph: what clients see, without the join and link machinery,
without anything marked ``@inaccessible``, and without the types that only ``@inaccessible``
elements lead to (a service-only result or input type is no more visible than its field)."""

from __future__ import annotations

from graphql import (
    ConstDirectiveNode,
    DefinitionNode,
    DirectiveDefinitionNode,
    DirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    FieldDefinitionNode,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InputValueDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    TypeNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
    print_schema,
)

#: The root types of a schema that does not name them.
DEFAULT_ROOTS = ("Query", "Mutation", "Subscription")
#: Directives a client may see applied in the API schema.
KEPT_DIRECTIVES = frozenset({"deprecated", "specifiedBy", "oneOf"})
MACHINERY_PREFIXES = ("join__", "link__", "core__", "inaccessible__", "federation__")


def _inaccessible(node: object) -> bool:
    return any(d.name.value == "inaccessible" for d in getattr(node, "directives", None) or ())


def _kept(directives: tuple[DirectiveNode, ...] | None) -> tuple[ConstDirectiveNode, ...]:
    return tuple(
        d
        for d in directives or ()
        if d.name.value in KEPT_DIRECTIVES and isinstance(d, ConstDirectiveNode)
    )


def _args(
    args: tuple[InputValueDefinitionNode, ...] | None,
) -> tuple[InputValueDefinitionNode, ...]:
    return tuple(
        InputValueDefinitionNode(
            name=a.name,
            description=a.description,
            type=a.type,
            default_value=a.default_value,
            directives=_kept(a.directives),
        )
        for a in args or ()
        if not _inaccessible(a)
    )


def api_document(supergraph: DocumentNode) -> DocumentNode:
    """The API schema's definitions from a supergraph document."""
    hidden = {
        d.name.value
        for d in supergraph.definitions
        if isinstance(d, TypeDefinitionNode)
        and (_inaccessible(d) or d.name.value.startswith(MACHINERY_PREFIXES))
    }
    kept: list[DefinitionNode] = []
    for d in supergraph.definitions:
        if isinstance(d, DirectiveDefinitionNode | SchemaDefinitionNode):
            if isinstance(d, SchemaDefinitionNode):
                kept.append(SchemaDefinitionNode(operation_types=d.operation_types, directives=()))
            continue
        if not isinstance(d, TypeDefinitionNode) or d.name.value in hidden:
            continue
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            fields = tuple(
                FieldDefinitionNode(
                    name=f.name,
                    description=f.description,
                    arguments=_args(f.arguments),
                    type=f.type,
                    directives=_kept(f.directives),
                )
                for f in d.fields or ()
                if not _inaccessible(f)
            )
            interfaces = tuple(i for i in d.interfaces or () if i.name.value not in hidden)
            kept.append(
                type(d)(
                    name=d.name,
                    description=d.description,
                    interfaces=interfaces,
                    directives=(),
                    fields=fields,
                )
            )
        elif isinstance(d, UnionTypeDefinitionNode):
            members = tuple(m for m in d.types or () if m.name.value not in hidden)
            kept.append(
                UnionTypeDefinitionNode(
                    name=d.name, description=d.description, directives=(), types=members
                )
            )
        elif isinstance(d, EnumTypeDefinitionNode):
            values = tuple(
                type(v)(name=v.name, description=v.description, directives=_kept(v.directives))
                for v in d.values or ()
                if not _inaccessible(v)
            )
            kept.append(
                EnumTypeDefinitionNode(
                    name=d.name, description=d.description, directives=(), values=values
                )
            )
        elif isinstance(d, InputObjectTypeDefinitionNode):
            kept.append(
                InputObjectTypeDefinitionNode(
                    name=d.name,
                    description=d.description,
                    directives=(),
                    fields=_args(d.fields),
                )
            )
        else:
            kept.append(type(d)(name=d.name, description=d.description, directives=()))
    return DocumentNode(definitions=tuple(_reachable(kept)))


def _named(type_node: TypeNode) -> str:
    while not isinstance(type_node, NamedTypeNode):
        type_node = type_node.type  # type: ignore[attr-defined]
    return type_node.name.value


def _reachable(definitions: list[DefinitionNode]) -> list[DefinitionNode]:
    """``definitions`` less the types no root type leads to, through fields, arguments,
    input fields, union members and interfaces (an interface leads to its implementations)."""
    types = {d.name.value: d for d in definitions if isinstance(d, TypeDefinitionNode)}
    roots = [
        op.type.name.value
        for d in definitions
        if isinstance(d, SchemaDefinitionNode)
        for op in d.operation_types
    ] or [name for name in DEFAULT_ROOTS if name in types]
    implementations: dict[str, list[str]] = {}
    for d in types.values():
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for i in d.interfaces or ():
                implementations.setdefault(i.name.value, []).append(d.name.value)
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen or name not in types:
            continue
        seen.add(name)
        d = types[name]
        if isinstance(d, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            for f in d.fields or ():
                pending.append(_named(f.type))
                pending.extend(_named(a.type) for a in f.arguments or ())
            pending.extend(i.name.value for i in d.interfaces or ())
            pending.extend(implementations.get(name, ()))
        elif isinstance(d, UnionTypeDefinitionNode):
            pending.extend(m.name.value for m in d.types or ())
        elif isinstance(d, InputObjectTypeDefinitionNode):
            pending.extend(_named(f.type) for f in d.fields or ())
    return [d for d in definitions if not isinstance(d, TypeDefinitionNode) or d.name.value in seen]


def api_schema(supergraph_sdl: str) -> GraphQLSchema:
    """The API schema of ``supergraph_sdl`` (raises GraphQLError when it is not valid)."""
    return build_ast_schema(api_document(parse(supergraph_sdl, no_location=True)))


def api_sdl(supergraph_sdl: str) -> str:
    """The API schema of ``supergraph_sdl`` as SDL."""
    return print_schema(api_schema(supergraph_sdl))
