"""The whole platform as processes over a broker of its own, once for the reliability suites
(torn down when they end), and the figures they measured printed at the end of the run."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import Platform

sys.path.insert(0, str(Path(__file__).parent))

from reliability_support import (
    CLIENT_SYNC,
    CREATE_CLIENT,
    CREATE_PLAN,
    CREATE_TIER,
    FIGURES,
    PLAN_SYNC,
    SESSION_STRIPE_ID,
    Login,
    PayingClient,
    eventually,
    gql,
    login,
    make_admin,
    new_phone,
)

HERE = Path(__file__).parent
#: Run after every other reliability test: they scan what the whole run logged and published.
LAST = "test_no_leaks.py"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within this folder, the leak scans go last (the folder's tests stay together)."""
    mine = [i for i, item in enumerate(items) if HERE in Path(str(item.path)).parents]
    if not mine:
        return
    block = [items[i] for i in mine]
    ordered = sorted(block, key=lambda item: Path(str(item.path)).name == LAST)
    for index, item in zip(mine, ordered, strict=True):
        items[index] = item


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures the reliability tests measured."""
    if not FIGURES:
        return
    terminalreporter.write_sep("=", "reliability figures")
    width = max(len(name) for name in FIGURES)
    for name, value in FIGURES.items():
        terminalreporter.write_line(f"{name:<{width}}  {value}")


@pytest.fixture(scope="package")
def reliability_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A broker of the platform's own, which the tests kill and restart."""
    broker = TansuBroker(free_port(), log_path=state_dir / "reliability-tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="package")
def platform(
    postgres: Postgres, reliability_broker: TansuBroker, state_dir: Path
) -> Iterator[Platform]:
    """Every service as a process on free ports over fresh databases. AuthApi stands behind
    a load balancer, so that each simulated caller has an address of its own (X-Forwarded-For)."""
    running = Platform(
        postgres.url,
        reliability_broker.bootstrap_servers,
        state_dir / "reliability",
        overrides={"auth": {"CLIENT_ADDRESS_TOPOLOGY": "alb"}},
    )
    running.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="package")
def admin(platform: Platform) -> Login:
    """A signed-in admin."""
    phone = new_phone()
    make_admin(platform, phone)
    return login(platform, phone, "admin")


@pytest.fixture(scope="package")
def paying_client(platform: Platform, admin: Login) -> PayingClient:
    """A client who bought a plan (Stripe customer, checkout completed, allowance active)."""
    plan_id = gql(platform, "product", admin.access_token, CREATE_PLAN, n="Paying plan")[
        "createPlan"
    ]["id"]
    tier_id = gql(platform, "product", admin.access_token, CREATE_TIER, p=plan_id, a=900)[
        "createPriceTier"
    ]["id"]
    eventually(
        lambda: all(
            t["stripePriceId"]
            for t in gql(platform, "product", admin.access_token, PLAN_SYNC, id=plan_id)["plan"][
                "tiers"
            ]
        ),
        within=60,
    )
    owner = login(platform, new_phone(), "client")
    slug = f"paying-{uuid.uuid4().hex[:8]}"
    client_id = gql(platform, "user", owner.access_token, CREATE_CLIENT, n="Paying club", s=slug)[
        "createClient"
    ]["id"]
    eventually(
        lambda: gql(platform, "user", admin.access_token, CLIENT_SYNC, id=client_id)["client"][
            "stripeCustomerId"
        ],
        within=60,
    )
    session = gql(
        platform,
        "payment",
        owner.access_token,
        "mutation($t: ID!) { createCheckoutSession(priceTierId: $t) { id } }",
        t=tier_id,
    )["createCheckoutSession"]
    session = gql(platform, "payment", admin.access_token, SESSION_STRIPE_ID, id=session["id"])[
        "checkoutSession"
    ]
    completed = httpx.post(
        platform.url(
            "stripe-emulator", f"/_emulator/checkout/{session['stripeSessionId']}/complete"
        ),
        timeout=20,
    )
    assert completed.status_code == 200, completed.text
    eventually(
        lambda: gql(
            platform,
            "product",
            admin.access_token,
            "query($c: ID!) { allowance(clientId: $c) { active } }",
            c=client_id,
        )["allowance"]["active"],
        within=60,
    )
    return PayingClient(owner, client_id, slug, plan_id, tier_id)
