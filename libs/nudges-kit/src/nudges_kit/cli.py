"""``nudges``: operator commands (migrations, topics, dead letters)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from importlib.metadata import version

import orjson

from nudges_kit import dlq
from nudges_kit.kafka import KafkaCredentialsRefused, all_topics, ensure_topics
from nudges_kit.logging import configure_logging
from nudges_kit.migrations import migrate_all
from nudges_kit.settings import NudgesSettings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nudges", description=__doc__)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version('nudges-kit')}")
    sub = parser.add_subparsers(dest="command", required=True)
    text = "create missing databases and migrate each to head"
    migrate = sub.add_parser("migrate", help=text, description=text)
    migrate.add_argument("--service", action="append", help="only this service (repeatable)")
    text = "create every declared topic and its dead-letter topic, or list them"
    topics = sub.add_parser("topics", help=text, description=text)
    topics.add_argument(
        "action", choices=["create", "list"], help="create the topics, or list their names"
    )
    text = "list or replay the dead letters of a topic"
    dead = sub.add_parser("dlq", help=text, description=text)
    dead.add_argument(
        "action",
        choices=["list", "replay"],
        help="print each dead letter as a JSON line, or publish them again to the topic",
    )
    dead.add_argument("topic", help="the original topic, e.g. user.clients")
    dead.add_argument("--event-id", action="append", help="only this event (repeatable)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nudges`` command."""
    args = _parser().parse_args(argv)
    settings = NudgesSettings(service_name="nudges-cli")
    configure_logging("nudges-cli", settings.log_level, json=False)
    try:
        return _run(args, settings)
    except KafkaCredentialsRefused as exc:
        print(f"nudges: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: NudgesSettings) -> int:
    if args.command == "migrate":
        done = migrate_all(settings.postgres_url, args.service)
        print(f"migrated: {', '.join(done) or 'nothing'}")
    elif args.command == "topics":
        if args.action == "create":
            created = asyncio.run(ensure_topics(settings, all_topics()))
            print(f"created {len(created)} topics")
        else:
            print("\n".join(all_topics()))
    elif args.command == "dlq":
        if args.action == "list":
            letters = asyncio.run(dlq.read_dead_letters(settings, args.topic))
            for letter in letters:
                sys.stdout.write(orjson.dumps(dlq.summary(letter)).decode() + "\n")
        else:
            ids = set(args.event_id) if args.event_id else None
            count = asyncio.run(dlq.replay(settings, args.topic, ids))
            print(f"replayed {count} dead letters to {args.topic}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
