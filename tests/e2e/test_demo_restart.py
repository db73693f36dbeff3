"""``make dev`` stopped and started again: the Stripe emulator keeps its account under the
state directory as PostgreSQL keeps the plans that name its prices, so the whole story
(``scripts/demo.py``) runs again after the restart. And when Stripe forgets them all the
same (another account, the state file removed), the catalog sync creates them again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from nudges_devstack.infra import Postgres, TansuBroker
from nudges_devstack.platform import Platform

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ADMIN_PHONE = "+14155550177"
DEMO_URLS = {
    "gateway": "gateway",
    "auth": "auth",
    "user": "user",
    "product": "product",
    "payment": "payment",
    "webhooks": "webhooks",
    "consumers": "consumers",
    "stripe_emulator": "stripe-emulator",
    "twilio_emulator": "twilio-emulator",
}


@pytest.fixture(scope="module")
def dev_platform(
    postgres: Postgres, platform_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """The platform with the Stripe emulator's state in a file, as ``nudges-dev up`` runs it."""
    state = tmp_path_factory.mktemp("dev-platform")
    running = Platform(
        postgres.url,
        platform_broker.bootstrap_servers,
        state,
        overrides={
            "stripe-emulator": {"STRIPE_EMULATOR_STATE_FILE": str(state / "stripe-emulator.json")}
        },
    )
    try:
        running.start()
        _seed_admin(running)
        yield running
    finally:
        running.stop()


def _seed_admin(platform: Platform) -> None:
    """The admin who creates the demo's plan (the ``nudges.seeds`` entry points)."""
    code = (
        "from importlib.metadata import entry_points\n"
        "for seed in entry_points(group='nudges.seeds'):\n"
        "    seed.load()()\n"
    )
    env = {**os.environ, **platform.env("user"), "SEED_ADMIN_PHONE": ADMIN_PHONE}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def _demo(platform: Platform) -> subprocess.CompletedProcess[str]:
    env = {f"NUDGES_{key.upper()}_URL": platform.url(name) for key, name in DEMO_URLS.items()}
    env["NUDGES_DEMO_ADMIN_PHONE"] = ADMIN_PHONE
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo.py")],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _restart_everything(platform: Platform) -> None:
    """Ctrl-C and ``make dev`` again: every process stopped, then started on the same ports
    over the same databases and state directory."""
    for name in reversed(list(platform.processes)):
        platform.kill_service(name, signal.SIGTERM)
    for name in platform.services:
        platform.start_service(name)


def test_the_demo_runs_again_after_a_restart(dev_platform: Platform) -> None:
    first = _demo(dev_platform)
    assert first.returncode == 0, first.stdout + first.stderr
    _restart_everything(dev_platform)
    again = _demo(dev_platform)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Done: the whole story ran." in again.stdout


def _eventually(check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s")
        time.sleep(0.3)
    return value


def _token(platform: Platform, phone: str, role: str) -> str:
    """An access token through AuthApi's echoed one-time code (once per number: codes per
    number are few)."""
    auth = platform.url("auth")
    code = httpx.post(f"{auth}/auth/otp", json={"phone": phone, "role": role})
    assert code.status_code == 202, code.text
    verified = httpx.post(
        f"{auth}/auth/otp/verify",
        json={"phone": phone, "role": role, "code": code.json()["code"]},
    )
    return str(verified.json()["access_token"])


def _graph(
    platform: Platform, token: str, query: str, subgraph: str = "product", **variables: Any
) -> Any:
    answer = httpx.post(
        platform.url(subgraph, "/graphql"),
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    ).json()
    assert not answer.get("errors"), answer
    return answer["data"]


def test_a_wiped_stripe_account_gets_the_plan_again(dev_platform: Platform) -> None:
    """The operator switches Stripe accounts: the plan's recorded Product, the tier's
    recorded Price and a client's recorded Customer are unknown there; the next change of each
    creates it again, with the Nudges id in its metadata (what its owner learns the new id
    from)."""
    admin = _token(dev_platform, ADMIN_PHONE, "admin")
    plans = _graph(dev_platform, admin, "{ plans(first: 20) { nodes { id tiers { id } } } }")
    plan = next(p for p in plans["plans"]["nodes"] if p["tiers"])
    tier_id = plan["tiers"][0]["id"]
    number = f"+1415{random.randint(200, 999)}{random.randint(0, 9999):04d}"
    owner = _token(dev_platform, number, "client")
    created = _graph(
        dev_platform,
        owner,
        'mutation { createClient(input: {name: "Wiped bakery", locale: "en"}) { id } }',
        "user",
    )["createClient"]
    client = stripe.StripeClient(
        "sk_test_platform",
        base_addresses={"api": dev_platform.url("stripe-emulator")},
        max_network_retries=0,
    )

    def customer_of_the_client() -> Any:
        found = client.v1.customers.list({"limit": 100}).data
        return next(
            (c for c in found if c.metadata.to_dict().get("client_id") == created["id"]), None
        )

    first_customer = _eventually(customer_of_the_client)
    dev_platform.kill_service("stripe-emulator", signal.SIGTERM)
    (dev_platform.state_dir / "stripe-emulator.json").unlink()
    dev_platform.start_service("stripe-emulator")
    assert client.v1.products.list().data == []
    assert customer_of_the_client() is None

    _graph(
        dev_platform,
        admin,
        'mutation($id: ID!) { updatePlan(id: $id, input: {name: "Starter again"}) { id } }',
        id=plan["id"],
    )
    _graph(
        dev_platform,
        admin,
        'mutation($id: ID!) { updatePriceTier(id: $id, input: {name: "Monthly again"}) { id } }',
        id=tier_id,
    )

    def recreated() -> tuple[Any, Any] | None:
        products = [p for p in client.v1.products.list().data if p.name == "Starter again"]
        prices = [p for p in client.v1.prices.list().data if p.nickname == "Monthly again"]
        return (products[0], prices[0]) if products and prices else None

    _graph(
        dev_platform,
        owner,
        'mutation($id: ID!) { updateClient(id: $id, input: {name: "Wiped bakery 2"}) { id } }',
        "user",
        id=created["id"],
    )
    customer = _eventually(customer_of_the_client)
    assert customer.id != first_customer.id
    assert customer.name == "Wiped bakery 2"
    product, price = _eventually(recreated)
    assert product.metadata["plan_id"] == plan["id"]
    assert price.metadata["price_tier_id"] == tier_id
    assert price.product == product.id

    # The owners record the new ids from Stripe's events (each names the lost one it replaces),
    # so that a checkout of this tier and this client's billing work again.
    def recorded() -> bool:
        found = _graph(
            dev_platform,
            admin,
            "query($id: ID!) { plan(id: $id) { stripeProductId tiers { id stripePriceId } } }",
            id=plan["id"],
        )["plan"]
        tier = next((t for t in found["tiers"] if t["id"] == tier_id), None)
        assert tier is not None, found
        billing = _graph(
            dev_platform,
            admin,
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            "user",
            id=created["id"],
        )["client"]
        return (
            found["stripeProductId"] == product.id
            and tier["stripePriceId"] == price.id
            and billing["stripeCustomerId"] == customer.id
        )

    _eventually(recorded)
