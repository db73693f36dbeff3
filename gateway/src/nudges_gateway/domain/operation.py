"""An operation normalised for planning: named fragments expanded into inline ones, and the
``@skip``/``@include`` conditions of fragments pushed down onto the fields they select.

Conditions whose argument is a literal are decided here; those on variables stay on the
fields, are forwarded to the subgraphs and are evaluated again when the response is shaped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    print_ast,
)
from graphql.language import Visitor, visit

from nudges_kit.graphql_limits import PAGE_ARGUMENTS


@dataclass(frozen=True, slots=True)
class Condition:
    """``@include(if: $variable)`` (include=True) or ``@skip(if: $variable)``."""

    variable: str
    include: bool

    def holds(self, variables: Mapping[str, Any]) -> bool:
        return bool(variables.get(self.variable)) is self.include

    def text(self) -> str:
        return f"@{'include' if self.include else 'skip'}(if: ${self.variable})"


@dataclass(frozen=True, slots=True)
class FieldSel:
    """A field as the client selected it (``key`` is the alias, else the name)."""

    key: str
    name: str
    args_text: str
    conditions: tuple[Condition, ...]
    items: tuple[Selection, ...]
    variables: frozenset[str]
    arguments: tuple[ArgumentNode, ...] = ()
    #: ``@stream`` on this (list) field, if any.
    stream: Stream | None = None

    def included(self, variables: Mapping[str, Any]) -> bool:
        return all(c.holds(variables) for c in self.conditions)

    def with_key(self, key: str) -> FieldSel:
        return FieldSel(
            key,
            self.name,
            self.args_text,
            self.conditions,
            self.items,
            self.variables,
            self.arguments,
            self.stream,
        )


@dataclass(frozen=True, slots=True)
class Stream:
    """``@stream`` on a list field: its label, the variable deciding it (None: always), and
    how many items come in the first part (``initialCount``: a number, or a variable)."""

    label: str | None = None
    variable: str | None = None
    initial_count: int = 0
    count_variable: str | None = None

    def holds(self, variables: Mapping[str, Any]) -> bool:
        return self.variable is None or bool(variables.get(self.variable, True))

    def count(self, variables: Mapping[str, Any]) -> int:
        """How many items the first part holds (a negative count counts as none)."""
        if self.count_variable is None:
            return max(self.initial_count, 0)
        given = variables.get(self.count_variable)
        return max(given, 0) if isinstance(given, int) and not isinstance(given, bool) else 0


@dataclass(frozen=True, slots=True)
class Defer:
    """``@defer`` on a fragment: its label, and the variable deciding it (None: always)."""

    label: str | None = None
    variable: str | None = None

    def holds(self, variables: Mapping[str, Any]) -> bool:
        return self.variable is None or bool(variables.get(self.variable, True))


@dataclass(frozen=True, slots=True)
class FragmentSel:
    """An inline fragment (named ones are expanded into these); None: no type condition."""

    type_condition: str | None
    items: tuple[Selection, ...]
    defer: Defer | None = None


Selection = FieldSel | FragmentSel


class _Variables(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _variables_in(nodes: tuple[ArgumentNode, ...]) -> frozenset[str]:
    collector = _Variables()
    for node in nodes:
        visit(node, collector)
    return frozenset(collector.names)


def _conditions(directives: tuple[DirectiveNode, ...] | None) -> tuple[Condition, ...] | None:
    """The variable conditions of ``directives``, or None when a literal excludes the node."""
    found: list[Condition] = []
    for directive in directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        include = name == "include"
        for arg in directive.arguments or ():
            if arg.name.value != "if":
                continue
            if isinstance(arg.value, BooleanValueNode):
                if arg.value.value is not include:
                    return None
            elif isinstance(arg.value, VariableNode):
                found.append(Condition(arg.value.name.value, include))
    return tuple(found)


def _defer(directives: tuple[DirectiveNode, ...] | None) -> Defer | None:
    """``@defer`` among ``directives`` (None: absent, or ``if: false``)."""
    for directive in directives or ():
        if directive.name.value != "defer":
            continue
        label: str | None = None
        variable: str | None = None
        for arg in directive.arguments or ():
            if arg.name.value == "label" and isinstance(arg.value, StringValueNode):
                label = arg.value.value
            elif arg.name.value == "if":
                if isinstance(arg.value, BooleanValueNode) and not arg.value.value:
                    return None
                if isinstance(arg.value, VariableNode):
                    variable = arg.value.name.value
        return Defer(label, variable)
    return None


def _stream(directives: tuple[DirectiveNode, ...] | None) -> Stream | None:
    """``@stream`` among ``directives`` (None: absent, or ``if: false``)."""
    for directive in directives or ():
        if directive.name.value != "stream":
            continue
        label: str | None = None
        variable: str | None = None
        count, count_variable = 0, None
        for arg in directive.arguments or ():
            name, value = arg.name.value, arg.value
            if name == "label" and isinstance(value, StringValueNode):
                label = value.value
            elif name == "if":
                if isinstance(value, BooleanValueNode) and not value.value:
                    return None
                if isinstance(value, VariableNode):
                    variable = value.name.value
            elif name == "initialCount":
                if isinstance(value, IntValueNode):
                    count = int(value.value)
                elif isinstance(value, VariableNode):
                    count_variable = value.name.value
        return Stream(label, variable, count, count_variable)
    return None


def args_text(arguments: tuple[ArgumentNode, ...] | None) -> str:
    if not arguments:
        return ""
    return "(" + ", ".join(print_ast(a) for a in arguments) + ")"


def normalize(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    inherited: tuple[Condition, ...] = (),
) -> tuple[Selection, ...]:
    """The selections of ``selection_set`` with fragments expanded (see the module doc)."""
    if selection_set is None:
        return ()
    result: list[Selection] = []
    for node in selection_set.selections:
        conditions = _conditions(node.directives)
        if conditions is None:
            continue
        if isinstance(node, FieldNode):
            all_conditions = inherited + conditions
            arguments = tuple(node.arguments or ())
            variables = _variables_in(arguments) | {c.variable for c in all_conditions}
            result.append(
                FieldSel(
                    node.alias.value if node.alias else node.name.value,
                    node.name.value,
                    args_text(arguments),
                    all_conditions,
                    normalize(node.selection_set, fragments),
                    frozenset(variables),
                    arguments,
                    _stream(node.directives),
                )
            )
        elif isinstance(node, InlineFragmentNode):
            condition = node.type_condition.name.value if node.type_condition else None
            items = normalize(node.selection_set, fragments, inherited + conditions)
            result.append(FragmentSel(condition, items, _defer(node.directives)))
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments.get(node.name.value)
            if fragment is None:
                continue
            items = normalize(fragment.selection_set, fragments, inherited + conditions)
            result.append(
                FragmentSel(fragment.type_condition.name.value, items, _defer(node.directives))
            )
    return tuple(result)


def iter_fields(items: tuple[Selection, ...]) -> Iterator[FieldSel]:
    """Every field of ``items`` at this level, through fragments of any type."""
    for item in items:
        if isinstance(item, FieldSel):
            yield item
        else:
            yield from iter_fields(item.items)


def depth(items: tuple[Selection, ...]) -> int:
    """How deep fields nest (a root field alone is 1; ``__typename`` does not count)."""
    deepest = 0
    for field in iter_fields(items):
        if field.name == "__typename":
            continue
        deepest = max(deepest, 1 + depth(field.items))
    return deepest


def alias_count(items: tuple[Selection, ...]) -> int:
    """How many fields the client renamed with an alias."""
    count = 0
    for field in iter_fields(items):
        count += (field.key != field.name) + alias_count(field.items)
    return count


def list_size(field: FieldSel, variables: Mapping[str, Any], default: int) -> int:
    """The size a list field announces through ``first``/``last``/``limit``, else ``default``."""
    for arg in field.arguments:
        if arg.name.value not in PAGE_ARGUMENTS:
            continue
        value = arg.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if isinstance(given, int) and not isinstance(given, bool):
                return given
    return default


@dataclass(frozen=True)
class NormalizedOperation:
    """An operation ready for planning."""

    kind: str  # query | mutation | subscription
    name: str | None
    definition: OperationDefinitionNode
    items: tuple[Selection, ...]
    variable_definitions_text: Mapping[str, str]
    depth: int
    aliases: int


def normalize_operation(
    operation: OperationDefinitionNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> NormalizedOperation:
    """Normalise ``operation`` (fragments from the same document)."""
    items = normalize(operation.selection_set, fragments)
    return NormalizedOperation(
        operation.operation.value,
        operation.name.value if operation.name else None,
        operation,
        items,
        {v.variable.name.value: print_ast(v) for v in operation.variable_definitions or ()},
        depth(items),
        alias_count(items),
    )
