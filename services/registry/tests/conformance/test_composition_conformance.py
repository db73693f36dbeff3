"""The registry's composition next to the reference one (@theguild/federation-composition,
installed by npm in ``js/``) on every subgraph set of ``corpus/``.

A set passes when both compose it with the same join directives on every type, field, enum
value and input field (and the same field types and @inaccessible marks), or when both refuse
it. A set whose ``differs.txt`` says why the two differ by design passes when they still differ,
so a difference that went away is noticed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from graphql import (
    ConstValueNode,
    DirectiveNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    parse,
    print_ast,
)

from nudges_registry.domain.composition import SubgraphSource, compose

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
JS = HERE / "js"
#: Operations of a set, for the gateway's conformance test (not a subgraph).
OPERATIONS = "operations.graphql"
SETS = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())

#: Defaults of @join__type arguments, left out of the comparison when they hold.
JOIN_TYPE_DEFAULTS = {"extension": "false", "resolvable": "true", "isInterfaceObject": "false"}
JOIN_DIRECTIVES = ("join__type", "join__implements", "join__unionMember", "context")
#: Access- and demand-control directives the supergraph keeps for the gateway.
DEMAND_DIRECTIVES = ("authenticated", "requiresScopes", "policy", "cost", "listSize")
DEMAND_DEFAULTS = {"requireOneSlicingArgument": "true"}


@dataclass(frozen=True)
class Reference:
    supergraph: str | None
    errors: list[dict[str, str]]


def _sources(name: str) -> list[SubgraphSource]:
    return [
        SubgraphSource(path.stem, f"http://{path.stem}.test/graphql", path.read_text())
        for path in sorted((CORPUS / name).glob("*.graphql"))
        if path.name != OPERATIONS
    ]


@pytest.fixture(scope="session")
def reference() -> dict[str, Reference]:
    """Every corpus set composed by the reference composition, in one node process."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed: the reference composition cannot run")
    installed = JS / "node_modules" / ".package-lock.json"
    lock = JS / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=JS,
            check=True,
            timeout=600,
        )
    payload = {
        name: [{"name": s.name, "url": s.url, "sdl": s.sdl} for s in _sources(name)]
        for name in SETS
    }
    done = subprocess.run(
        [node, "compose.mjs"],
        cwd=JS,
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return {
        name: Reference(r["supergraph"], r["errors"]) for name, r in json.loads(done.stdout).items()
    }


def _field_set(text: str) -> str:
    """A field set in one canonical spelling (whitespace and commas do not matter)."""
    document = parse("{" + text + "}", no_location=True)
    return " ".join(print_ast(document.definitions[0]).split())  # type: ignore[arg-type]


def _arguments(directive: DirectiveNode, defaults: dict[str, str]) -> tuple[tuple[str, str], ...]:
    result: list[tuple[str, str]] = []
    for arg in directive.arguments or ():
        name = arg.name.value
        value: ConstValueNode = arg.value  # type: ignore[assignment]
        text = print_ast(value)
        if name in ("key", "requires", "provides"):
            text = _field_set(json.loads(text))
        elif name == "type":
            text = json.loads(text).replace(" ", "")
        if defaults.get(name) == text:
            continue
        result.append((name, text))
    return tuple(sorted(result))


def _joins(directives: object, names: tuple[str, ...], defaults: dict[str, str]) -> list[str]:
    found = []
    for d in directives or ():  # type: ignore[attr-defined]
        if d.name.value in names:
            found.append(f"@{d.name.value}{_arguments(d, defaults)}")
    return sorted(found)


def _inaccessible(node: object) -> bool:
    return any(d.name.value == "inaccessible" for d in getattr(node, "directives", None) or ())


def join_signature(supergraph: str) -> dict[str, object]:
    """What the join directives say of every type, field, enum value and input field, and
    the access- and demand-control directives of types and fields."""
    signature: dict[str, object] = {}
    for definition in parse(supergraph, no_location=True).definitions:
        if not isinstance(definition, TypeDefinitionNode):
            continue
        name = definition.name.value
        # join__, link__ and the scalars of other specs (requiresScopes__Scope ...) serve the
        # supergraph's own directive definitions, not the graph.
        if "__" in name:
            continue
        signature[name] = (
            type(definition).__name__,
            _joins(definition.directives, JOIN_DIRECTIVES, JOIN_TYPE_DEFAULTS),
            _inaccessible(definition),
            _joins(definition.directives, DEMAND_DIRECTIVES, DEMAND_DEFAULTS),
        )
        if isinstance(definition, UnionTypeDefinitionNode):
            signature[name + " = "] = sorted(t.name.value for t in definition.types or ())
        if isinstance(
            definition,
            ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode,
        ):
            for fld in definition.fields or ():
                arguments = sorted(
                    (a.name.value, print_ast(a.type), _inaccessible(a))
                    for a in getattr(fld, "arguments", None) or ()
                )
                signature[f"{name}.{fld.name.value}"] = (
                    print_ast(fld.type),
                    _joins(fld.directives, ("join__field",), {}),
                    _inaccessible(fld),
                    arguments,
                    _joins(fld.directives, DEMAND_DIRECTIVES, DEMAND_DEFAULTS),
                )
        if isinstance(definition, EnumTypeDefinitionNode):
            for value in definition.values or ():
                signature[f"{name}.{value.name.value}"] = (
                    _joins(value.directives, ("join__enumValue",), {}),
                    _inaccessible(value),
                )
    return signature


def _differences(ours: dict[str, object], theirs: dict[str, object]) -> list[str]:
    lines = []
    for key in sorted(set(ours) | set(theirs)):
        if ours.get(key) != theirs.get(key):
            lines.append(f"{key}:\n  registry:  {ours.get(key)}\n  reference: {theirs.get(key)}")
    return lines


@pytest.mark.parametrize("name", SETS)
def test_the_registry_composes_like_the_reference(
    name: str, reference: dict[str, Reference]
) -> None:
    theirs = reference[name]
    ours = compose(_sources(name))
    differs = CORPUS / name / "differs.txt"
    if theirs.supergraph is None or not ours.ok:
        outcome = (
            f"registry: {[e.message for e in ours.errors] or 'composed'}\n"
            f"reference: {[e['message'] for e in theirs.errors] or 'composed'}"
        )
        same = theirs.supergraph is None and not ours.ok
    else:
        assert ours.supergraph_sdl is not None
        lines = _differences(join_signature(ours.supergraph_sdl), join_signature(theirs.supergraph))
        outcome = "\n".join(lines)
        same = not lines
    if differs.exists():
        assert not same, f"{name} now composes like the reference: remove {differs.name}"
        return
    assert same, f"{name}:\n{outcome}"


def test_the_corpus_covers_enough_sets() -> None:
    assert len(SETS) >= 30
