"""Each task role reaches exactly the Kafka topics and consumer groups its code uses.

What a service uses is read from its source, not listed here again: every
``EventConsumer(group=..., handlers={...})`` names a consumer group and, through the event
types of its handlers, the topics the group reads (and the dead-letter topic of each, which
the group writes); every ``add_event`` / ``add_envelope`` / ``publish`` of a declared event
type names a topic the service writes; reading dead letters (``dlq.read_dead_letters``) and
replaying them (``dlq.republish``) need every dead-letter topic and every consumed topic. A
new consumer group, or a new event a service publishes, fails here until the Terraform of
both environments allows it; a grant no code uses fails too. (An event type passed on in a
variable, as a unit of work's ``publish`` passes it to ``add_event``, is not followed: the
call that names it is what counts.)
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections import defaultdict
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

from nudges_kit.events import EventType, dlq_topic
from nudges_kit.kafka import all_topics

if TYPE_CHECKING:
    from conftest import TerraformDir

REPO = Path(__file__).resolve().parents[2]
CATALOG = "nudges_kit.events.catalog"
#: Calls that put an event on a topic: the outbox (``add_event``, ``add_envelope``), a unit
#: of work's or a publisher's ``publish`` (or ``publish_later``).
PUBLISHING_CALLS = {"add_event", "add_envelope", "publish", "publish_later"}
#: The settings a service that talks to Kafka needs in its task definition (MSK with IAM).
KAFKA_SETTINGS = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_AWS_REGION",
    "KAFKA_ENABLE_IDEMPOTENCE",
}


@dataclass
class KafkaUse:
    """What one service's code does with Kafka."""

    groups: dict[str, set[str]] = field(default_factory=dict)
    writes: set[str] = field(default_factory=set)
    reads_dead_letters: bool = False
    replays_dead_letters: bool = False

    @property
    def reads(self) -> set[str]:
        return {topic for topics in self.groups.values() for topic in topics}


def _source_roots() -> dict[str, Path]:
    """Each deployable service's package directory, by its name in Terraform."""
    roots = {p.parents[1].name: p for p in REPO.glob("services/*/src/nudges_*")}
    roots["gateway"] = next(REPO.glob("gateway/src/nudges_*"))
    return roots


class _ModuleReader(ast.NodeVisitor):
    """Reads one module: its Kafka consumers and the event types it publishes."""

    def __init__(self, path: Path, use: KafkaUse) -> None:
        self.path = path
        self.use = use
        self.names: dict[str, ModuleType | EventType[Any]] = {}
        self.constants: dict[str, str] = {}
        self.defaults: list[dict[str, ast.expr]] = []

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(REPO)}:{getattr(node, 'lineno', '?')}"

    def read(self) -> None:
        tree = ast.parse(self.path.read_text(), str(self.path))
        for statement in tree.body:
            if isinstance(statement, ast.ImportFrom) and statement.module:
                self._imported(statement)
            elif (
                isinstance(statement, ast.Assign | ast.AnnAssign)
                and isinstance(statement.value, ast.Constant)
                and isinstance(statement.value.value, str)
            ):
                targets = (
                    statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                )
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.constants[target.id] = statement.value.value
        self.visit(tree)

    def _imported(self, statement: ast.ImportFrom) -> None:
        module = statement.module or ""
        for alias in statement.names:
            local = alias.asname or alias.name
            if module == CATALOG:
                self.names[local] = importlib.import_module(f"{CATALOG}.{alias.name}")
            elif module.startswith(f"{CATALOG}."):
                value = getattr(importlib.import_module(module), alias.name)
                if isinstance(value, EventType):
                    self.names[local] = value
            elif module == "nudges_kit" and alias.name == "dlq":
                self.names[local] = importlib.import_module("nudges_kit.dlq")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Parameter defaults are in scope inside the function (``group: str = GROUP``)."""
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults: dict[str, ast.expr] = {}
        for argument, default in zip(
            reversed(positional), reversed(arguments.defaults), strict=False
        ):
            defaults[argument.arg] = default
        for argument, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
            if kw_default is not None:
                defaults[argument.arg] = kw_default
        self.defaults.append(defaults)
        self.generic_visit(node)
        self.defaults.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def event_type(self, node: ast.expr) -> EventType[Any] | None:
        """The declared event type ``node`` names (``catalog_module.event``, an imported
        event, or either's ``.topic``); None for anything else."""
        if isinstance(node, ast.Attribute) and node.attr == "topic":
            return self.event_type(node.value)
        if isinstance(node, ast.Name):
            found = self.names.get(node.id)
            return found if isinstance(found, EventType) else None
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            module = self.names.get(node.value.id)
            if isinstance(module, ModuleType) and module.__name__.startswith(CATALOG):
                found = getattr(module, node.attr, None)
                if isinstance(found, EventType):
                    return found
                raise AssertionError(
                    f"{self.where(node)}: {node.value.id}.{node.attr} is not a declared event"
                )
        return None

    def group_name(self, node: ast.expr) -> str:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            for defaults in reversed(self.defaults):
                if node.id in defaults:
                    return self.group_name(defaults[node.id])
            if node.id in self.constants:
                return self.constants[node.id]
        raise AssertionError(
            f"{self.where(node)}: the consumer group is not a string constant of the module"
            " (name it so, for this check and for operators grepping for it)"
        )

    def visit_Call(self, node: ast.Call) -> None:
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name == "EventConsumer":
            self._consumer(node)
        elif name in PUBLISHING_CALLS:
            for arg in node.args[:2]:
                event = self.event_type(arg)
                if event is not None:
                    self.use.writes.add(event.topic)
        elif name == "read_dead_letters":
            self.use.reads_dead_letters = True
        elif name in ("republish", "replay") and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            module = self.names.get(owner.id) if isinstance(owner, ast.Name) else None
            if isinstance(module, ModuleType) and module.__name__ == "nudges_kit.dlq":
                self.use.replays_dead_letters = True
        self.generic_visit(node)

    def _consumer(self, node: ast.Call) -> None:
        arguments = {k.arg: k.value for k in node.keywords if k.arg}
        assert "group" in arguments, f"{self.where(node)}: an EventConsumer without group="
        assert "handlers" in arguments, f"{self.where(node)}: an EventConsumer without handlers="
        group = self.group_name(arguments["group"])
        handlers = arguments["handlers"]
        assert isinstance(handlers, ast.Dict), (
            f"{self.where(node)}: handlers= is not a dict of declared events"
        )
        topics: set[str] = set()
        for key in handlers.keys:
            event = self.event_type(key) if key is not None else None
            assert event is not None, (
                f"{self.where(key or node)}: a handler key that is not a declared event"
            )
            topics.add(event.topic)
        self.use.groups.setdefault(group, set()).update(topics)


@functools.cache
def kafka_use() -> dict[str, KafkaUse]:
    """What each service's code does with Kafka, by service."""
    uses: dict[str, KafkaUse] = defaultdict(KafkaUse)
    for service, root in _source_roots().items():
        for path in sorted(root.rglob("*.py")):
            _ModuleReader(path, uses[service]).read()
    return dict(uses)


def consumed_topics() -> set[str]:
    """Every topic some consumer group reads: the ones that can have dead letters."""
    return {topic for use in kafka_use().values() for topic in use.reads}


def needed(service: str) -> tuple[set[str], set[str], set[str]]:
    """The groups, read topics and write topics ``service``'s code needs."""
    use = kafka_use()[service]
    reads = set(use.reads)
    writes = set(use.writes) | {dlq_topic(t) for t in use.reads}
    if use.reads_dead_letters:
        reads |= {dlq_topic(t) for t in consumed_topics()}
    if use.replays_dead_letters:
        writes |= consumed_topics()
    return set(use.groups), reads, writes


def _allowed(name: str, patterns: list[str]) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in patterns)


def _grants(tf: TerraformDir, service: str) -> dict[str, list[str]]:
    kafka = tf.locals["services"][service].get("kafka") or {}
    return {key: list(kafka.get(key, [])) for key in ("groups", "read_topics", "write_topics")}


def test_the_code_is_read() -> None:
    """The reading finds the consumers and publishers the platform is known to have."""
    assert kafka_use()["product"].groups["product-usage"] == {"user.announcements"}
    assert kafka_use()["payment"].groups == {"payment-stripe-events": {"stripe.events"}}
    assert "sms.announcement-outcomes" in kafka_use()["consumers"].writes
    assert "stripe.events" in kafka_use()["webhooks"].writes
    assert "product.plans" in kafka_use()["product"].writes


@pytest.mark.parametrize("service", sorted(_source_roots()))
def test_the_task_role_allows_what_the_code_uses(
    environments: dict[str, TerraformDir], env: str, service: str
) -> None:
    groups, reads, writes = needed(service)
    grants = _grants(environments[env], service)
    missing = {
        "groups": sorted(g for g in groups if not _allowed(g, grants["groups"])),
        "read_topics": sorted(t for t in reads if not _allowed(t, grants["read_topics"])),
        "write_topics": sorted(t for t in writes if not _allowed(t, grants["write_topics"])),
    }
    assert not any(missing.values()), f"{env}/{service}: the task role does not allow {missing}"


@pytest.mark.parametrize("service", sorted(_source_roots()))
def test_the_task_role_allows_nothing_the_code_does_not_use(
    environments: dict[str, TerraformDir], env: str, service: str
) -> None:
    groups, reads, writes = needed(service)
    grants = _grants(environments[env], service)
    used = {"groups": groups, "read_topics": reads, "write_topics": writes}
    unused = {
        key: sorted(p for p in patterns if not any(fnmatchcase(n, p) for n in used[key]))
        for key, patterns in grants.items()
    }
    assert not any(unused.values()), f"{env}/{service}: grants no code uses: {unused}"


@pytest.mark.parametrize("service", sorted(_source_roots()))
def test_a_service_using_kafka_has_its_settings(
    environments: dict[str, TerraformDir], env: str, service: str
) -> None:
    groups, reads, writes = needed(service)
    spec = environments[env].locals["services"][service]
    if not (groups or reads or writes):
        assert "kafka" not in spec, f"{env}/{service}: a Kafka grant for a service without Kafka"
        return
    assert "kafka" in spec, f"{env}/{service}: uses Kafka without a grant"
    task_environment = {
        **environments[env].locals["common_environment"],
        **spec.get("environment", {}),
    }
    assert set(task_environment) >= KAFKA_SETTINGS, (
        f"{env}/{service}: missing {sorted(KAFKA_SETTINGS - set(task_environment))}"
    )


def test_scaling_follows_a_group_of_the_consumers(
    tfvars: dict[str, dict[str, Any]], env: str
) -> None:
    """The consumers scale on the lag of a group they run, on a topic it reads."""
    scaling = tfvars[env]["consumer_lag_scaling"]
    groups = kafka_use()["consumers"].groups
    assert scaling["consumer_group"] in groups, (
        f"{env}: no consumer group {scaling['consumer_group']!r}"
    )
    assert scaling["topic"] in groups[scaling["consumer_group"]]


def test_every_topic_the_code_uses_is_created(
    environments: dict[str, TerraformDir], env: str
) -> None:
    """The ``topics`` job creates every declared topic and its dead-letter topic
    (``nudges topics create``, :func:`nudges_kit.kafka.all_topics`): nothing a service reads
    or writes is left to a broker that creates no topic on first use."""
    declared = set(all_topics())
    used = {
        topic for service in _source_roots() for topic in (*needed(service)[1], *needed(service)[2])
    }
    assert used <= declared, f"used but never created: {sorted(used - declared)}"
    assert "sms.announcement-outcomes" in declared
    job = environments[env].locals["jobs"]["topics"]
    assert job["command"] == ["topics", "create"]
    assert job["kafka"]["create_topics"] is True
