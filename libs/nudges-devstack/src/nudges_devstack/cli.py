"""``nudges-dev``: bring up the whole platform on this machine, or only its infrastructure.

``nudges-dev up`` picks PostgreSQL, Redis, the broker and Keycloak as ``NUDGES_INFRA`` says
(``auto``, ``containers``, ``local``, ``embedded``: :mod:`nudges_devstack.selection`),
creates topics, migrates every database, seeds an admin, then runs every service under one
supervisor with prefixed logs until Ctrl-C: a service that exits is started again after a
growing delay, and a table says when every service is healthy.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
import sys
from importlib.metadata import entry_points, version
from pathlib import Path

import httpx

from nudges_devstack.infra import Postgres, Redis, TansuBroker
from nudges_devstack.selection import (
    InfraPlan,
    InfraSelectionError,
    default_probes,
    infra_mode,
    plan_infra,
)
from nudges_devstack.services import Service, runnable_services, wiring_env
from nudges_devstack.supervisor import Program, Supervisor
from nudges_kit.kafka import all_topics, ensure_topics
from nudges_kit.logging import configure_logging
from nudges_kit.migrations import migrate_all

STATE_DIR = Path(os.environ.get("NUDGES_STATE_DIR", ".nudges"))


def _bin(command: str) -> str:
    """A console script of this environment, found beside the running interpreter."""
    candidate = Path(sys.executable).parent / command
    return str(candidate) if candidate.exists() else command


def bring_up_infrastructure(kafka_port: int) -> tuple[dict[str, str], list[object]]:
    """Start or find the infrastructure ``NUDGES_INFRA`` selects (:mod:`nudges_devstack.selection`);
    returns the environment services need and what to stop."""
    plan = plan_infra(infra_mode(), default_probes(kafka_port))
    print(f"infra:    {plan.describe()}")
    owned: list[object] = []
    try:
        return _bring_up(plan, kafka_port, owned), owned
    except BaseException:
        _stop_all(owned)
        raise


def _bring_up(plan: InfraPlan, kafka_port: int, owned: list[object]) -> dict[str, str]:
    postgres = Postgres.ensure(STATE_DIR / "postgres", plan["postgres"])
    owned.append(postgres)
    redis = Redis.ensure(STATE_DIR / "redis", plan["redis"])
    owned.append(redis)
    print(f"postgres: {postgres.origin}")
    print(f"redis:    {redis.origin}")
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    env: dict[str, str] = {}
    if plan["kafka"] == "containers":
        from nudges_devstack.containers import kafka_container

        kafka = kafka_container()
        owned.append(kafka)
        bootstrap = kafka.url
        # A real Kafka: idempotent producers, as compose runs the services.
        env["KAFKA_ENABLE_IDEMPOTENCE"] = "true"
        print(f"kafka:    {kafka.origin}")
    elif plan["kafka"] == "local" and bootstrap:
        print(f"kafka:    KAFKA_BOOTSTRAP_SERVERS={bootstrap}")
    elif plan["kafka"] == "local":
        bootstrap = f"127.0.0.1:{kafka_port}"
        print(f"kafka:    a broker already answers on {bootstrap}")
    else:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        broker = TansuBroker(kafka_port, log_path=STATE_DIR / "tansu.log")
        broker.start()
        owned.append(broker)
        bootstrap = broker.bootstrap_servers
        print(f"kafka:    Tansu broker (memory storage) on {bootstrap}")
    env.update(_keycloak(plan, owned))
    env.update(
        {
            "POSTGRES_URL": postgres.url,
            "REDIS_URL": redis.url,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "ENVIRONMENT": os.environ.get("ENVIRONMENT", "development"),
            # Off unless asked for: a night session would hold the demo's copies till 08:00.
            "QUIET_HOURS": os.environ.get("QUIET_HOURS", "false"),
        }
    )
    return env


def _keycloak(plan: InfraPlan, owned: list[object]) -> dict[str, str]:
    """AuthApi's Keycloak settings: a container's, the local Keycloak's, or none (AuthApi's
    built-in issuer)."""
    from nudges_devstack.containers import keycloak_container, keycloak_settings

    if plan["keycloak"] == "containers":
        keycloak = keycloak_container()
        owned.append(keycloak)
        print(f"keycloak: {keycloak.origin}")
        return keycloak_settings(keycloak.url)
    if plan["keycloak"] == "local":
        if url := os.environ.get("KEYCLOAK_URL"):
            print(f"keycloak: KEYCLOAK_URL={url}")
            return {}
        print("keycloak: local server on http://127.0.0.1:8080 (realm nudges)")
        return keycloak_settings("http://127.0.0.1:8080")
    print("keycloak: none, AuthApi issues tokens with its built-in issuer")
    return {}


def prepare(env: dict[str, str]) -> None:
    """Create topics, migrate every database and run every seed."""
    os.environ.update(env)
    created = asyncio.run(ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], all_topics()))
    print(f"topics:   {len(created)} created, {len(all_topics())} declared")
    databases = migrate_all(env["POSTGRES_URL"])
    print(f"migrated: {', '.join(databases)}")
    for seed in entry_points(group="nudges.seeds"):
        print(f"seed:     {seed.name}: {seed.load()()}")


async def health_states(services: list[Service], seconds: float) -> dict[str, str]:
    """The state of each service: ``healthy`` once its health URL answered 200 within
    ``seconds``, else what it last answered."""
    states = {s.name: "not answering" for s in services}
    pending = {s.name: s for s in services}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with httpx.AsyncClient(timeout=1.0) as client:
        while pending and loop.time() < deadline:
            for name, service in list(pending.items()):
                try:
                    status = (await client.get(service.health_url)).status_code
                except httpx.HTTPError:
                    continue
                if status == 200:
                    states[name] = "healthy"
                    del pending[name]
                else:
                    states[name] = f"answers {status}"
            await asyncio.sleep(0.3)
    return states


def readiness_table(services: list[Service], states: dict[str, str]) -> str:
    """One line per service: its name, URL and state, under a header."""
    width = max(len("service"), *(len(s.name) for s in services))
    url_width = max(len("URL"), *(len(s.url) for s in services))
    lines = [f"{'service':<{width}}  {'URL':<{url_width}}  state"]
    lines += [f"{s.name:<{width}}  {s.url:<{url_width}}  {states[s.name]}" for s in services]
    return "\n".join(lines)


def readiness_report(services: list[Service], states: dict[str, str], timeout: float) -> str:
    """The table, then one line: every service healthy, or the ones that are not."""
    failing = sorted(name for name, state in states.items() if state != "healthy")
    verdict = (
        f"not healthy after {timeout:.0f}s: {', '.join(failing)}"
        if failing
        else f"all {len(services)} services healthy"
    )
    return f"{readiness_table(services, states)}\n{verdict}"


def _programs(services: list[Service], env: dict[str, str], offset: int) -> list[Program]:
    base = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    base.setdefault("OTP_ECHO", str(env["ENVIRONMENT"] == "development").lower())
    # The emulators keep their accounts under the state directory, as PostgreSQL keeps the
    # ids of their objects there: a restart of `make dev` finds both.
    for emulator in ("stripe", "twilio"):
        state_file = STATE_DIR / f"{emulator}-emulator.json"
        base.setdefault(f"{emulator.upper()}_EMULATOR_STATE_FILE", str(state_file.resolve()))
    if sys.stdout.isatty() and "LOG_JSON" not in os.environ:
        # The services write into the supervisor's pipe; the person reads a terminal.
        base.update({"LOG_JSON": "false", "FORCE_COLOR": "1"})
    if offset:
        base.update(wiring_env(runnable_services(Path.cwd(), offset)))
    return [
        Program(
            s.name,
            [_bin(shlex.split(s.command)[0]), *shlex.split(s.command)[1:]],
            {**base, **(s.own_env() if offset else {})},
        )
        for s in services
    ]


def up(args: argparse.Namespace) -> int:
    """Run the platform until Ctrl-C (or, with ``--check``, until every service is healthy);
    a service that exits is started again. Prints the readiness table once all are healthy,
    or names those that are not after ``--timeout``."""
    env, owned = bring_up_infrastructure(args.kafka_port)
    try:
        prepare(env)
        services = [
            s
            for s in runnable_services(Path.cwd(), args.port_offset)
            if not args.only or s.name in args.only
        ]
        supervisor = Supervisor(_programs(services, env, args.port_offset))
        states: dict[str, str] = {}

        async def report_readiness(running: Supervisor) -> None:
            states.update(await health_states(services, args.timeout))
            print(f"\n{readiness_report(services, states, args.timeout)}", flush=True)
            if args.check:
                running.stop()
            else:
                print("Ctrl-C stops everything.\n", flush=True)

        print(f"\nNudges is starting {len(services)} services...", flush=True)
        asyncio.run(supervisor.run(report_readiness))
        if args.check:
            return 0 if states and all(v == "healthy" for v in states.values()) else 1
        return 0
    finally:
        _stop_all(owned)


def _stop_all(owned: list[object]) -> None:
    for thing in reversed(owned):
        thing.stop()  # type: ignore[attr-defined]


def _wait_for_a_stop_signal() -> None:
    """Return on SIGINT or SIGTERM. The two are blocked only while waiting: a blocked signal
    stays blocked in every process started afterwards (the mask is inherited), which could
    then no longer be stopped."""
    stops = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, stops)
    try:
        signal.sigwait(stops)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def infra(args: argparse.Namespace) -> int:
    """Bring up only the infrastructure, migrate, print the environment and wait."""
    env, owned = bring_up_infrastructure(args.kafka_port)
    try:
        prepare(env)
        for key, value in env.items():
            print(f"export {key}={value}")
        _wait_for_a_stop_signal()
    finally:
        _stop_all(owned)
    return 0


def prod_check(args: argparse.Namespace) -> int:
    """The platform as production runs it, the whole story against it, then stopped."""
    from nudges_devstack.production import prod_check as run

    return run(Path.cwd(), keep=args.keep_databases)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nudges-dev", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {version('nudges-devstack')}"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    helps = {
        "up": "run every service under one supervisor until Ctrl-C (a crashed one restarts)",
        "infra": "start only PostgreSQL, Redis and the broker, migrate, print the environment",
    }
    for name, text in helps.items():
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument(
            "--kafka-port",
            type=int,
            default=int(os.environ.get("KAFKA_PORT", "9092")),
            help="the port of the broker started when none answers (KAFKA_PORT, 9092)",
        )
        if name == "up":
            p.add_argument("--only", action="append", help="run only this service (repeatable)")
            p.add_argument(
                "--check",
                action="store_true",
                help="exit once all are healthy (status 1 when one is not within --timeout)",
            )
            p.add_argument(
                "--timeout",
                type=float,
                default=90.0,
                help="seconds to wait for every service to be healthy (90)",
            )
            p.add_argument(
                "--port-offset",
                type=int,
                default=int(os.environ.get("NUDGES_PORT_OFFSET", "0")),
                help="move every service port by this much, to run beside another platform "
                "(NUDGES_PORT_OFFSET, 0; the UIs run only on the default ports)",
            )
    text = "start the platform in production mode, run the demo against it, stop"
    check = sub.add_parser("prod-check", help=text, description=text)
    check.add_argument("--keep-databases", action="store_true", help="leave the run's databases")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``nudges-dev``."""
    args = _parser().parse_args(argv)
    configure_logging("nudges-dev", json=False)
    try:
        if args.command == "up":
            return up(args)
        if args.command == "prod-check":
            return prod_check(args)
        return infra(args)
    except InfraSelectionError as exc:
        print(f"nudges-dev: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
