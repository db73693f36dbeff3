"""The events catalogue of docs/architecture.md lists exactly the event types declared in
``nudges_kit.events.catalog``, each under its topic."""

from __future__ import annotations

import re
from pathlib import Path

import nudges_kit.events.catalog  # noqa: F401  (declares the catalog)
from nudges_kit.events import REGISTRY

ARCHITECTURE = Path(__file__).resolve().parents[4] / "docs" / "architecture.md"
SECTION = "## Events catalogue"
#: A table row of the catalogue: | `topic` | `event type` | producer | consumers | meaning |
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*`([^`]+)`\s*\|(.*\|){3}\s*$")


def catalogue_rows() -> list[tuple[str, str]]:
    """(topic, event type) of every row of the catalogue section, in order."""
    text = ARCHITECTURE.read_text()
    assert SECTION in text, f"{ARCHITECTURE} has no '{SECTION}' section"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [
        (match[1], match[2]) for line in section.splitlines() if (match := ROW.match(line.strip()))
    ]


def declared() -> set[tuple[str, str]]:
    return {(topic, name) for topic in REGISTRY.topics() for name in REGISTRY.types_of(topic)}


def test_every_declared_event_type_is_in_the_catalogue_under_its_topic() -> None:
    missing = declared() - set(catalogue_rows())
    assert not missing, f"add to the events catalogue of docs/architecture.md: {sorted(missing)}"


def test_the_catalogue_names_only_declared_event_types_once_each() -> None:
    rows = catalogue_rows()
    assert len(rows) == len(set(rows)), "an event type has two rows"
    unknown = set(rows) - declared()
    assert not unknown, f"not declared in nudges_kit.events.catalog: {sorted(unknown)}"


def test_the_catalogue_holds_the_plan_change_trial_and_sms_opt_in_events() -> None:
    rows = set(catalogue_rows())
    assert {
        ("product.plan-subscriptions", "product.plan-subscription.change-requested"),
        ("product.plan-subscriptions", "product.plan-subscription.trial-ending"),
        ("sms.opt-ins", "sms.opt_in.confirmed"),
        ("sms.opt-ins", "sms.locale.requested"),
    } <= rows
