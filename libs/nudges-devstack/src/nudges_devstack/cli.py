"""``nudges-dev``: bring up the whole platform on this machine, or only its infrastructure.

``nudges-dev up`` picks PostgreSQL, Redis and the broker (see :mod:`nudges_devstack.infra`),
creates topics, migrates every database, seeds an admin, then runs every service under one
supervisor with prefixed logs until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import httpx
from honcho.manager import Manager
from honcho.printer import Printer

from nudges_devstack.infra import Postgres, Redis, TansuBroker, port_open
from nudges_devstack.services import Service, runnable_services
from nudges_kit.kafka import all_topics, ensure_topics
from nudges_kit.logging import configure_logging
from nudges_kit.migrations import migrate_all

STATE_DIR = Path(os.environ.get("NUDGES_STATE_DIR", ".nudges"))


def _bin(command: str) -> str:
    """A console script of this environment, found beside the running interpreter."""
    candidate = Path(sys.executable).parent / command
    return str(candidate) if candidate.exists() else command


def bring_up_infrastructure(kafka_port: int) -> tuple[dict[str, str], list[object]]:
    """Start or find the infrastructure; returns the environment services need and what to stop."""
    postgres = Postgres.ensure(STATE_DIR / "postgres")
    redis = Redis.ensure(STATE_DIR / "redis")
    print(f"postgres: {postgres.origin}")
    print(f"redis:    {redis.origin}")
    owned: list[object] = [postgres, redis]
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if bootstrap:
        print(f"kafka:    KAFKA_BOOTSTRAP_SERVERS={bootstrap}")
    elif port_open("127.0.0.1", kafka_port):
        bootstrap = f"127.0.0.1:{kafka_port}"
        print(f"kafka:    a broker already answers on {bootstrap}")
    else:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        broker = TansuBroker(kafka_port, log_path=STATE_DIR / "tansu.log")
        broker.start()
        owned.append(broker)
        bootstrap = broker.bootstrap_servers
        print(f"kafka:    Tansu broker (memory storage) on {bootstrap}")
    env = {
        "POSTGRES_URL": postgres.url,
        "REDIS_URL": redis.url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development"),
    }
    return env, owned


def prepare(env: dict[str, str]) -> None:
    """Create topics, migrate every database and run every seed."""
    os.environ.update(env)
    created = asyncio.run(ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], all_topics()))
    print(f"topics:   {len(created)} created, {len(all_topics())} declared")
    databases = migrate_all(env["POSTGRES_URL"])
    print(f"migrated: {', '.join(databases)}")
    for seed in entry_points(group="nudges.seeds"):
        print(f"seed:     {seed.name}: {seed.load()()}")


def wait_healthy(services: list[Service], timeout: float) -> list[str]:
    """Names of services not healthy after ``timeout`` seconds."""
    pending = {s.name: s for s in services}
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as client:
        while pending and time.monotonic() < deadline:
            for name, service in list(pending.items()):
                try:
                    if client.get(service.health_url).status_code == 200:
                        del pending[name]
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
    return sorted(pending)


def _stop_all(owned: list[object]) -> None:
    for thing in reversed(owned):
        thing.stop()  # type: ignore[attr-defined]


def up(args: argparse.Namespace) -> int:
    """Run the platform until Ctrl-C (or, with ``--check``, until every service is healthy)."""
    env, owned = bring_up_infrastructure(args.kafka_port)
    try:
        prepare(env)
        services = [
            s for s in runnable_services(Path.cwd()) if not args.only or s.name in args.only
        ]
        manager = Manager(Printer(sys.stdout))
        process_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        process_env.setdefault("OTP_ECHO", str(env["ENVIRONMENT"] == "development").lower())
        for service in services:
            manager.add_process(service.name, _bin(service.command), env=process_env)
        if args.check:
            return _check(manager, services, args.timeout)
        print("\nNudges is starting:")
        for service in services:
            print(f"  {service.name:<13} http://127.0.0.1:{service.port}")
        print("Ctrl-C stops everything.\n")
        manager.loop()
        return manager.returncode or 0
    finally:
        _stop_all(owned)


def _check(manager: Manager, services: list[Service], timeout: float) -> int:
    """Start everything, wait for every /healthz, then stop: the smoke test of ``make dev``."""
    import threading

    failing: list[str] = []

    def watch() -> None:
        failing.extend(wait_healthy(services, timeout))
        # The supervisor's loop owns the main thread; SIGTERM makes it stop every process.
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, daemon=True).start()
    manager.loop()
    if failing:
        print(f"not healthy after {timeout:.0f}s: {', '.join(failing)}")
        return 1
    print(f"all {len(services)} services healthy")
    return 0


def infra(args: argparse.Namespace) -> int:
    """Bring up only the infrastructure, migrate, print the environment and wait."""
    env, owned = bring_up_infrastructure(args.kafka_port)
    try:
        prepare(env)
        for key, value in env.items():
            print(f"export {key}={value}")
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        _stop_all(owned)
    return 0


def prod_check(args: argparse.Namespace) -> int:
    """The platform as production runs it, the whole story against it, then stopped."""
    from nudges_devstack.production import prod_check as run

    return run(Path.cwd(), keep=args.keep_databases)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``nudges-dev``."""
    parser = argparse.ArgumentParser(prog="nudges-dev", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("up", "infra"):
        p = sub.add_parser(name)
        p.add_argument("--kafka-port", type=int, default=int(os.environ.get("KAFKA_PORT", "9092")))
        if name == "up":
            p.add_argument("--only", action="append", help="run only this service (repeatable)")
            p.add_argument("--check", action="store_true", help="exit once all are healthy")
            p.add_argument("--timeout", type=float, default=90.0)
    check = sub.add_parser(
        "prod-check",
        help="start the platform in production mode, run the demo against it, stop",
    )
    check.add_argument("--keep-databases", action="store_true", help="leave the run's databases")
    args = parser.parse_args(argv)
    configure_logging("nudges-dev", json=False)
    if args.command == "up":
        return up(args)
    if args.command == "prod-check":
        return prod_check(args)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    return infra(args)


if __name__ == "__main__":
    raise SystemExit(main())
