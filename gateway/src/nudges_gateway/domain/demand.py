"""Demand control: the estimated cost of an operation by Apollo's rules (the IBM cost
directives ``@cost`` and ``@listSize`` of the supergraph), before anything is fetched.

- An operation costs its fields, and a mutation 10 more.
- A field costs ``count * (weight + its selections)``: ``weight`` is its ``@cost``, else
  the ``@cost`` of the type it returns, else 1 for an object, interface or union and 0 for a
  scalar or enum; ``count`` is 1, or for a list its size.
- A list's size is, by the field's ``@listSize``: the value of its slicing argument (the
  largest given), else ``assumedSize``, else the default list size. With ``sizedFields``
  the size is that of those lists in the returned object, not of the field itself. With
  ``requireOneSlicingArgument`` (the default) exactly one slicing argument must be given.
- A field without ``@listSize`` is read as if it had ``@listSize(slicingArguments: [first,
  last, limit, pageSize, take], sizedFields: [nodes, edges], requireOneSlicingArgument:
  false)`` (the page size of a connection is that of its ``nodes``/``edges``).
- The arguments a field is given add their cost to it, once (not per item of its list):
  an argument or input field with ``@cost`` costs its weight, an input object 1 (or its
  ``@cost``) plus the cost of the fields given in it, a list the sum of its items; null,
  and an argument not given (its default), nothing.
- ``__typename`` and introspection cost nothing.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    IntValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from nudges_gateway.domain.operation import FieldSel, Selection, iter_fields
from nudges_gateway.domain.supergraph import FieldInfo, ListSize, Supergraph
from nudges_kit.graphql_limits import CONNECTION_LISTS, PAGE_ARGUMENTS

#: The cost of a mutation itself, besides its fields (Apollo Router's).
MUTATION_COST = 10
#: What a list field without @listSize is taken to say.
IMPLICIT_LIST_SIZE = ListSize(None, PAGE_ARGUMENTS, CONNECTION_LISTS, False)


@dataclass(frozen=True, slots=True)
class _Facts:
    returned: str
    weight: int
    is_list: bool
    list_size: ListSize | None
    #: The field's arguments that can cost something (with ``@cost``, or input objects).
    priced: Mapping[str, GraphQLArgument]


#: An argument or an input field, as the cost of a value given to it is worked out.
_Input = GraphQLArgument | GraphQLInputField


def _weight(definition: _Input) -> int | None:
    """The ``@cost(weight:)`` of an argument or input field (None: none)."""
    node = definition.ast_node
    for directive in (node.directives or ()) if node is not None else ():
        if directive.name.value == "cost":
            for arg in directive.arguments or ():
                if arg.name.value == "weight" and isinstance(arg.value, IntValueNode):
                    return int(arg.value.value)
    return None


def _priced(definition: _Input) -> bool:
    return _weight(definition) is not None or isinstance(
        get_named_type(definition.type), GraphQLInputObjectType
    )


def input_cost(definition: _Input, value: Any) -> int:
    """What ``value`` given to the argument or input field ``definition`` costs (Apollo's
    rules: see the module doc)."""
    if value is None:
        return 0
    if isinstance(value, list):
        return sum(input_cost(definition, item) for item in value)
    weight = _weight(definition)
    named = get_named_type(definition.type)
    if isinstance(named, GraphQLInputObjectType) and isinstance(value, dict):
        total = 1 if weight is None else weight
        for name, inner in value.items():
            field = named.fields.get(name)
            if field is not None:
                total += input_cost(field, inner)
        return total
    return weight or 0


_ESTIMATORS: weakref.WeakKeyDictionary[Supergraph, dict[int, DemandEstimator]] = (
    weakref.WeakKeyDictionary()
)


def estimator_for(supergraph: Supergraph, default_list_size: int) -> DemandEstimator:
    """The estimator of ``supergraph`` (kept while the supergraph is)."""
    by_size = _ESTIMATORS.setdefault(supergraph, {})
    found = by_size.get(default_list_size)
    if found is None:
        found = by_size[default_list_size] = DemandEstimator(supergraph, default_list_size)
    return found


class SlicingArgumentMissing(ValueError):
    """A field whose @listSize requires exactly one slicing argument did not get one."""


def _argument(fsel: FieldSel, name: str, variables: Mapping[str, Any]) -> int | None:
    for arg in fsel.arguments:
        if arg.name.value != name:
            continue
        value = arg.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int) and not isinstance(given, bool):
                return given
    return None


class DemandEstimator:
    """Estimates the cost of operations over one supergraph."""

    def __init__(self, supergraph: Supergraph, default_list_size: int) -> None:
        self.sg = supergraph
        self.default_list_size = default_list_size
        self._memo: dict[tuple[str, str], _Facts | None] = {}

    def cost(self, kind: str, root: str, items: tuple[Selection, ...], variables: Any) -> int:
        """The estimated cost of an operation of ``kind`` selecting ``items`` on ``root``."""
        base = MUTATION_COST if kind == "mutation" else 0
        return base + self._selections(root, items, variables, None)

    def _selections(
        self,
        parent: str,
        items: tuple[Selection, ...],
        variables: Mapping[str, Any],
        sized: tuple[tuple[str, ...], int] | None,
    ) -> int:
        total = 0
        for fsel in iter_fields(items):
            if fsel.name.startswith("__"):
                continue
            count = sized[1] if sized is not None and fsel.name in sized[0] else None
            total += self._field(parent, fsel, variables, count)
        return total

    def _facts(self, parent: str, name: str) -> _Facts | None:
        """What the estimate needs of ``parent.name`` (None: no such field), worked out once."""
        key = (parent, name)
        if key in self._memo:
            return self._memo[key]
        facts: _Facts | None = None
        returned = self.sg.field_type_name(parent, name)
        if returned is not None:
            info = self._field_info(parent, name)
            type_info = self.sg.types.get(returned)
            if info is not None and info.cost is not None:
                weight = info.cost
            elif type_info is not None and type_info.cost is not None:
                weight = type_info.cost
            else:
                weight = 1 if self.sg.is_composite(returned) else 0
            explicit = info.list_size if info is not None else None
            priced = {
                arg_name: arg
                for arg_name, arg in self._arguments(parent, name).items()
                if _priced(arg)
            }
            facts = _Facts(returned, weight, self._is_list(parent, name), explicit, priced)
        self._memo[key] = facts
        return facts

    def _field(
        self, parent: str, fsel: FieldSel, variables: Mapping[str, Any], count: int | None
    ) -> int:
        facts = self._facts(parent, fsel.name)
        if facts is None:
            return 0
        explicit = facts.list_size
        list_size = explicit or IMPLICIT_LIST_SIZE
        size = self._size(parent, fsel, list_size, explicit is not None, variables)
        # The size is of the sized fields beneath (a connection's nodes and edges, when the
        # field is no list itself), else of the field.
        to_children = bool(list_size.sized_fields) and (explicit is not None or not facts.is_list)
        sized = (list_size.sized_fields or (), size) if to_children and size is not None else None
        inner = self._selections(facts.returned, fsel.items, variables, sized) if fsel.items else 0
        if not facts.is_list:
            count = 1
        elif count is None:
            count = size if size is not None and not to_children else self._assumed(list_size)
        given = 0
        if facts.priced and fsel.arguments:
            for arg in fsel.arguments:
                definition = facts.priced.get(arg.name.value)
                if definition is not None:
                    value = value_from_ast_untyped(arg.value, dict(variables))
                    given += input_cost(definition, value)
        return count * (facts.weight + inner) + given

    def _assumed(self, list_size: ListSize) -> int:
        if list_size.assumed_size is not None:
            return list_size.assumed_size
        return self.default_list_size

    def _size(
        self,
        parent: str,
        fsel: FieldSel,
        list_size: ListSize,
        explicit: bool,
        variables: Mapping[str, Any],
    ) -> int | None:
        """The size the slicing arguments give (None: none given)."""
        names = list_size.slicing_arguments or ()
        given = [v for v in (_argument(fsel, n, variables) for n in names) if v is not None]
        if explicit and names and list_size.require_one_slicing_argument and len(given) != 1:
            raise SlicingArgumentMissing(
                f"{parent}.{fsel.name} needs exactly one of its slicing arguments "
                f"({', '.join(names)}); {len(given)} given"
            )
        if given:
            return max(given)
        if explicit and list_size.sized_fields:
            return self._assumed(list_size)
        return None

    def _field_info(self, parent: str, name: str) -> FieldInfo | None:
        for candidate in (parent, *self.sg.possible_types(parent)):
            info = self.sg.types.get(candidate)
            if info is not None and name in info.fields:
                return info.fields[name]
        return None

    def _arguments(self, parent: str, name: str) -> Mapping[str, GraphQLArgument]:
        for candidate in (parent, *self.sg.possible_types(parent)):
            fields = getattr(self.sg.schema.get_type(candidate), "fields", None)
            if fields and name in fields:
                return fields[name].args  # type: ignore[no-any-return]
        return {}

    def _is_list(self, parent: str, name: str) -> bool:
        for candidate in (parent, *self.sg.possible_types(parent)):
            fields = getattr(self.sg.schema.get_type(candidate), "fields", None)
            if fields and name in fields:
                current: Any = fields[name].type
                while isinstance(current, GraphQLNonNull | GraphQLList):
                    if isinstance(current, GraphQLList):
                        return True
                    current = current.of_type
                return False
        return False
