"""The platform the browser tests drive: every service of
:class:`nudges_devstack.platform.Platform` as processes, the gateway in front of the
subgraphs, on a broker of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import Platform
from nudges_kit.auth import user_id_for
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

#: One type of each subgraph: the supergraph the UIs need is composed once all answer.
COMPOSED = """{ user: __type(name: "Subscriber") { name } product: __type(name: "PriceTier")
  { name } payment: __type(name: "CheckoutSession") { name } }"""


@dataclass
class UiPlatform:
    """A running :class:`Platform`, with what the browser tests need of it."""

    platform: Platform

    def url(self, name: str) -> str:
        return self.platform.url(name)

    def wait_for_supergraph(self, within: float = 60.0) -> None:
        """Wait until the gateway serves the types of all three subgraphs."""
        deadline = time.monotonic() + within
        answer: object = None
        while time.monotonic() < deadline:
            try:
                answer = httpx.post(
                    self.url("gateway") + "/graphql", json={"query": COMPOSED}, timeout=5
                ).json()
            except httpx.HTTPError as exc:
                answer = repr(exc)
            data = answer.get("data") if isinstance(answer, dict) else None
            if data and all(data.get(k) for k in ("user", "product", "payment")):
                return
            time.sleep(0.5)
        raise AssertionError(f"the gateway does not serve the whole graph: {answer}")

    def make_admin(self, phone: str) -> None:
        """Seed ``phone`` as an admin in userdb (admins are not created through the API)."""
        settings = NudgesSettings()
        vault = PhoneVault(
            settings.phone_encryption_key.get_secret_value(),
            settings.phone_hash_key.get_secret_value(),
        )
        phone_hash = vault.hash(phone)
        url = with_database(self.platform.postgres_url, self.platform.databases["user"])
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO users (id, phone_hash, phone_ciphertext) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (user_id_for(phone_hash), phone_hash, vault.encrypt(phone)),
            )
            conn.execute(
                "INSERT INTO admins (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
                (user_id_for(phone_hash),),
            )


@pytest.fixture(scope="session")
def ui_platform(postgres: Postgres, state_dir: Path) -> Iterator[UiPlatform]:
    """The whole platform, gateway included, on a broker of its own."""
    broker = TansuBroker(free_port(), log_path=state_dir / "ui-tansu.log")
    broker.start()
    platform = Platform(postgres.url, broker.bootstrap_servers, state_dir / "ui-platform")
    platform.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        platform.start()
        running = UiPlatform(platform)
        running.wait_for_supergraph()
        yield running
    finally:
        platform.stop()
        broker.stop()
