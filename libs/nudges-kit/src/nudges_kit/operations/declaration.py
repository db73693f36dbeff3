"""Declarations of service-to-service GraphQL operations: each once, with its subgraph, its
document and the pydantic models of its variables and of its result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any, Generic, TypeVar, overload
from uuid import UUID

from graphql import FieldNode, OperationDefinitionNode, parse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

V = TypeVar("V", bound=BaseModel)
R = TypeVar("R")


class Subgraph(StrEnum):
    """The subgraphs one service calls another's GraphQL API on."""

    USER = "user"
    PRODUCT = "product"
    PAYMENT = "payment"


class OperationModel(BaseModel):
    """Variables and results of an operation: snake_case in Python, camelCase in GraphQL."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class Representation(OperationModel):
    """One entity reference given to ``_entities``, as the gateway gives it."""

    typename: str = Field(alias="__typename")
    id: str

    @classmethod
    def of(cls, typename: str, entity_id: UUID | str) -> Representation:
        return cls(typename=typename, id=str(entity_id))


class EntitiesVars(OperationModel):
    """The variables of an ``_entities`` lookup."""

    representations: list[Representation]


@dataclass(frozen=True)
class Operation(Generic[V, R]):
    """One operation: ``name`` is its GraphQL operation name (grep finds caller and resolver
    by it), ``root_field`` its one root field, whose value :attr:`result` parses."""

    subgraph: Subgraph
    document: str
    variables: type[V]
    result: Any
    name: str = field(init=False)
    root_field: str = field(init=False)

    def __post_init__(self) -> None:
        definitions = parse(self.document).definitions
        if len(definitions) != 1 or not isinstance(definitions[0], OperationDefinitionNode):
            raise ValueError("an operation's document holds exactly one operation")
        operation = definitions[0]
        if operation.name is None:
            raise ValueError("an operation is named: callers and resolvers are found by name")
        roots = operation.selection_set.selections
        if len(roots) != 1 or not isinstance(roots[0], FieldNode) or roots[0].alias:
            raise ValueError(f"{operation.name.value} selects exactly one root field, unaliased")
        object.__setattr__(self, "name", operation.name.value)
        object.__setattr__(self, "root_field", roots[0].name.value)

    @cached_property
    def _adapter(self) -> TypeAdapter[R]:
        return TypeAdapter(self.result)

    def parse(self, value: Any) -> R:
        """The root field's ``value`` as :attr:`result` (pydantic's ValidationError if not)."""
        return self._adapter.validate_python(value)

    def payload(self, variables: V) -> dict[str, Any]:
        """The JSON body of a request calling this operation with ``variables``."""
        return {
            "query": self.document,
            "operationName": self.name,
            "variables": variables.model_dump(mode="json", by_alias=True),
        }


class OperationCatalog:
    """Every declared operation, by name."""

    def __init__(self) -> None:
        self._by_name: dict[str, Operation[Any, Any]] = {}

    @overload
    def declare(
        self, subgraph: Subgraph, document: str, variables: type[V], result: type[R]
    ) -> Operation[V, R]: ...

    @overload
    def declare(
        self, subgraph: Subgraph, document: str, variables: type[V], result: Any
    ) -> Operation[V, Any]: ...

    def declare(
        self, subgraph: Subgraph, document: str, variables: type[V], result: Any
    ) -> Operation[V, Any]:
        """Declare an operation; ``result`` is the type of its root field's value (a model, a
        list of models, ``Model | None``, a scalar). A second declaration of one name is an
        error."""
        operation: Operation[V, Any] = Operation(subgraph, document, variables, result)
        if operation.name in self._by_name:
            raise ValueError(f"operation {operation.name} is already declared")
        self._by_name[operation.name] = operation
        return operation

    def __iter__(self) -> Iterator[Operation[Any, Any]]:
        return iter(self._by_name.values())

    def get(self, name: str) -> Operation[Any, Any]:
        return self._by_name[name]


#: The one catalog every service-to-service operation of the platform is declared in.
CATALOG = OperationCatalog()
