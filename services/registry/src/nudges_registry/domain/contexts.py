"""Federation 2.8 contexts: ``@context(name:)`` on a type makes values of it available to the
fields below it, and ``@fromContext(field: "$name { selection }")`` on an argument has the
router fill that argument with the selection taken from the nearest such ancestor.

What a subgraph says with them is checked here the way Apollo's composition checks it: the
context name, that the context is set somewhere in the subgraph, that the selection is valid
and of the argument's type on every type carrying the context, and that the field's type has a
resolvable key (the router reaches the field through ``_entities``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphql import (
    FieldNode,
    GraphQLSyntaxError,
    InlineFragmentNode,
    ListTypeNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    SelectionSetNode,
    TypeNode,
    parse,
)

from nudges_registry.domain.subgraph_schema import (
    Argument,
    SubgraphSchema,
    TypeDef,
    named_type,
    type_str,
)

#: error(code, message, subgraphs, coordinate)
Report = Callable[[str, str, list[str], str], None]

_NAME_START = frozenset("_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_NAME_CONTINUE = _NAME_START | frozenset("0123456789")
_TYPENAME = NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="String")))


class _Invalid(Exception):
    """The selection of a @fromContext is invalid; the message says why."""


def parse_context_reference(text: str) -> tuple[str, str]:
    """``"$ctx { a b }"`` as ``("ctx", " { a b }")``; ``("", "")`` when it names no context."""
    pos = len(text) - len(text.lstrip(" \t\n\r,"))
    if pos >= len(text) or text[pos] != "$":
        return "", ""
    rest = text[pos + 1 :]
    pos = len(rest) - len(rest.lstrip(" \t\n\r,"))
    start = pos
    if pos >= len(rest) or rest[pos] not in _NAME_START:
        return "", ""
    while pos < len(rest) and rest[pos] in _NAME_CONTINUE:
        pos += 1
    return rest[start:pos], rest[pos:]


def valid_context_name(name: str) -> bool:
    """A context name is an ASCII letter followed by ASCII letters and digits (the supergraph
    prefixes it with the subgraph's name and two underscores)."""
    return bool(name) and name.isascii() and name[0].isalpha() and name.isalnum()


def _required(argument: Argument) -> bool:
    return isinstance(argument.type, NonNullTypeNode) and argument.default is None


def _nullable(type_node: TypeNode) -> TypeNode:
    return type_node.type if isinstance(type_node, NonNullTypeNode) else type_node


def _wrap_lists(field_type: TypeNode, inner: TypeNode) -> TypeNode:
    field_type = _nullable(field_type)
    if isinstance(field_type, ListTypeNode):
        return ListTypeNode(type=_wrap_lists(field_type.type, inner))
    return inner


def _fits(selected: TypeNode, argument: TypeNode) -> bool:
    """Whether a value of type ``selected`` can be passed to an argument of type ``argument``."""
    if isinstance(argument, NonNullTypeNode):
        return isinstance(selected, NonNullTypeNode) and _fits(selected.type, argument.type)
    if isinstance(selected, NonNullTypeNode):
        return _fits(selected.type, argument)
    if isinstance(argument, ListTypeNode):
        return isinstance(selected, ListTypeNode) and _fits(selected.type, argument.type)
    if isinstance(selected, ListTypeNode):
        return False
    assert isinstance(selected, NamedTypeNode)
    assert isinstance(argument, NamedTypeNode)
    return selected.name.value == argument.name.value


@dataclass(frozen=True)
class _Step:
    """One selection of a context's selection: a field, or an inline fragment on a type."""

    field: str | None
    on_type: str | None
    next: tuple[_Step, ...] | None


def _compile(selection: SelectionSetNode) -> tuple[_Step, ...]:
    steps: list[_Step] = []
    for item in selection.selections:
        if not isinstance(item, FieldNode | InlineFragmentNode):
            raise _Invalid("fragment spread is not allowed")
        if isinstance(item, FieldNode) and item.alias is not None:
            raise _Invalid("aliases are not allowed in the selection")
        if item.directives:
            raise _Invalid("directives are not allowed in the selection")
        nested = _compile(item.selection_set) if item.selection_set is not None else None
        if isinstance(item, FieldNode):
            steps.append(_Step(item.name.value, None, nested))
        else:
            condition = item.type_condition.name.value if item.type_condition else None
            steps.append(_Step(None, condition, nested or ()))
    return tuple(steps)


def _layout(selection: str) -> tuple[_Step, ...] | dict[str, tuple[_Step, ...]]:
    """The steps of a direct selection, or the branches of one by type condition."""
    text = selection.strip()
    if not text:
        raise _Invalid("no selection is made")
    if not text.startswith("{"):
        text = "{" + text + "}"
    try:
        operation = parse(text, no_location=True).definitions[0]
    except GraphQLSyntaxError as exc:
        raise _Invalid(f"the selection does not parse: {exc.message}") from None
    steps = _compile(operation.selection_set)  # type: ignore[attr-defined]
    if not steps:
        raise _Invalid("no selection is made")
    if steps[0].field is not None:
        if len(steps) > 1:
            raise _Invalid("multiple selections are made")
        return steps
    branches: dict[str, tuple[_Step, ...]] = {}
    for step in steps:
        if step.field is not None:
            raise _Invalid("multiple fields could be selected")
        if step.on_type is None:
            raise _Invalid("inline fragments must have type conditions")
        branches[step.on_type] = step.next or ()
    if len(branches) != len(steps):
        raise _Invalid("type conditions have same name")
    return branches


class ContextCheck:
    """Checks the contexts and contextual arguments of one subgraph."""

    def __init__(self, subgraph: SubgraphSchema, report: Report) -> None:
        self.subgraph = subgraph
        self.report = report
        self.owners: dict[str, list[str]] = {}
        for typedef in subgraph.types.values():
            for context in typedef.contexts:
                self.owners.setdefault(context, []).append(typedef.name)

    def error(self, code: str, message: str, coordinate: str) -> None:
        self.report(code, f"[{self.subgraph.name}] {message}", [self.subgraph.name], coordinate)

    def run(self) -> None:
        for typedef in self.subgraph.types.values():
            for context in typedef.contexts:
                if not valid_context_name(context):
                    self.error(
                        "CONTEXT_NAME_INVALID",
                        f'Context name "{context}" is invalid. It should have only alphanumeric '
                        "characters.",
                        typedef.name,
                    )
            for fld in typedef.fields.values():
                for arg in fld.arguments.values():
                    if arg.from_context is not None:
                        self._argument(typedef, fld.name, arg)

    def _argument(self, typedef: TypeDef, field_name: str, arg: Argument) -> None:
        coordinate = f"{typedef.name}.{field_name}({arg.name}:)"
        assert arg.from_context is not None
        if typedef.kind != "object":
            self.error(
                "CONTEXT_NOT_SET",
                "@fromContext argument cannot be used on a field that exists on an abstract type "
                f'"{coordinate}".',
                coordinate,
            )
            return
        for name in typedef.interfaces:
            interface = self.subgraph.type(name)
            if interface is not None and field_name in interface.fields:
                self.error(
                    "CONTEXT_NOT_SET",
                    "@fromContext argument cannot be used on a field implementing an interface "
                    f'field "{name}.{field_name}".',
                    coordinate,
                )
        if arg.default is not None:
            self.error(
                "CONTEXT_NOT_SET",
                f'@fromContext arguments may not have a default value: "{coordinate}".',
                coordinate,
            )
        context, selection = parse_context_reference(arg.from_context)
        if not context or not selection.strip():
            self.error(
                "NO_CONTEXT_IN_SELECTION",
                f'@fromContext argument does not reference a context "{arg.from_context}".',
                coordinate,
            )
            return
        owners = self.owners.get(context)
        if not owners:
            self.error(
                "CONTEXT_NOT_SET",
                f'Context "{context}" is used at location "{coordinate}" but is never set.',
                coordinate,
            )
            return
        try:
            self._selection(owners, selection, arg.type)
        except _Invalid as exc:
            self.error(
                "CONTEXT_INVALID_SELECTION",
                f'Context "{context}" is used in "{coordinate}" but the selection is invalid: '
                f"{exc}",
                coordinate,
            )
        if not any(key.resolvable for key in typedef.keys):
            self.error(
                "CONTEXT_NO_RESOLVABLE_KEY",
                f'Object "{typedef.name}" has no resolvable key but has a field with a '
                "contextual argument.",
                coordinate,
            )

    # --- the selection -------------------------------------------------------------------

    def _selection(self, owners: list[str], selection: str, expected: TypeNode) -> None:
        layout = _layout(selection)
        touched: set[str] = set()
        for owner_name in owners:
            owner = self.subgraph.type(owner_name)
            if owner is None:
                continue
            if isinstance(layout, tuple):
                self._check_type(self._selected(owner, layout), expected)
                continue
            runtime = self._runtime_types(owner)
            applicable = False
            for branch, steps in layout.items():
                if branch not in runtime:
                    continue
                applicable = True
                touched.add(branch)
                branch_type = self.subgraph.type(branch)
                if branch_type is None or branch_type.kind != "object":
                    raise _Invalid("type conditions must be an object type")
                self._check_type(self._selected(branch_type, steps), expected)
            if not applicable:
                raise _Invalid(f'no type condition matches the location "{owner.name}"')
        if isinstance(layout, dict):
            for branch in layout:
                if branch not in touched:
                    raise _Invalid(f'type condition "{branch}" is never used.')

    @staticmethod
    def _check_type(selected: TypeNode, expected: TypeNode) -> None:
        if not _fits(selected, expected):
            raise _Invalid(
                f'the type of the selection "{type_str(selected)}" does not match the expected '
                f'type "{type_str(expected)}"'
            )

    def _runtime_types(self, owner: TypeDef) -> set[str]:
        if owner.kind == "object":
            return {owner.name}
        if owner.kind == "union":
            return set(owner.members)
        return {
            t.name
            for t in self.subgraph.types.values()
            if t.kind == "object" and owner.name in t.interfaces
        }

    def _selected(self, typedef: TypeDef, steps: tuple[_Step, ...]) -> TypeNode:
        if typedef.kind == "object" and typedef.interface_object:
            raise _Invalid(
                f'One of the types in the selection is an interfaceObject: "{typedef.name}"'
            )
        found: TypeNode | None = None
        for step in steps:
            current = self._step(typedef, step)
            if found is None:
                found = current
            elif not (_fits(found, current) and _fits(current, found)):
                raise _Invalid("the selections do not have one type")
        if found is None:
            raise _Invalid("no selection is made")
        return found

    def _step(self, typedef: TypeDef, step: _Step) -> TypeNode:
        if step.field is None:
            fragment = self.subgraph.type(step.on_type or "")
            if fragment is None:
                raise _Invalid(f'unknown type "{step.on_type}"')
            return self._selected(fragment, step.next or ())
        if step.field == "__typename":
            return _TYPENAME
        if typedef.kind == "union":
            raise _Invalid(f'cannot select field "{step.field}" on union "{typedef.name}"')
        fld = typedef.fields.get(step.field)
        if fld is None:
            for name in typedef.interfaces:
                interface = self.subgraph.type(name)
                if interface is not None and step.field in interface.fields:
                    fld = interface.fields[step.field]
                    break
        if fld is None:
            raise _Invalid(
                f'Cannot query field "{step.field}" on type "{typedef.name}" (for type '
                f"{typedef.name})"
            )
        if step.next is None:
            return _nullable(fld.type)
        child = self.subgraph.type(named_type(fld.type))
        if child is None:
            raise _Invalid(f'field "{typedef.name}.{step.field}" is a leaf')
        return _wrap_lists(fld.type, self._selected(child, step.next))


def required_argument(argument: Argument) -> bool:
    """Whether a client must give ``argument`` (non-null without a default)."""
    return _required(argument)
