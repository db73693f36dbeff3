"""``nudges-dev prod-check``: the platform on this machine as production runs it, the whole
story (``scripts/demo.py``) against it, then everything stopped.

What differs from ``make dev``: every service runs with ``ENVIRONMENT=production`` and secrets
generated for the run (so no development default is accepted, and each service must be given
every setting it requires); one-time codes are not echoed (the demo reads them from the Twilio
emulator's message log, as a phone would); introspection is off; services use the production
code paths for what this machine can host. Stripe and Twilio are the local emulators. The
exit status is the demo's: 0 only when the whole story completed.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from nudges_devstack.infra import Postgres, Redis, TansuBroker, free_port, make_tls_identity
from nudges_devstack.platform import (
    EMULATORS,
    MACHINE_SECRETS,
    ORDER,
    WARPCACHE_CALLERS,
    Platform,
)
from nudges_devstack.selection import default_probes, infra_mode, plan_infra

#: The admin the run seeds, who creates the demo's plan.
ADMIN_PHONE = "+14155550100"


def signing_keys() -> str:
    """``JWT_SIGNING_KEYS`` of AuthApi: one RS256 key generated for this run."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = {"kid": f"run-{secrets.token_hex(4)}", "private_key": pem, "not_before": time.time()}
    return json.dumps([key])


@dataclass(frozen=True)
class RunSecrets:
    """The secrets of one production run: random, never a development default."""

    phone_encryption_key: str = field(
        default_factory=lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    )
    phone_hash_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    otp_hmac_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    jwt_signing_keys: str = field(default_factory=signing_keys)
    #: The client-credentials secret of each machine account.
    machine_secrets: dict[str, str] = field(
        default_factory=lambda: {name: secrets.token_urlsafe(24) for name in MACHINE_SECRETS}
    )
    stripe_api_key: str = field(default_factory=lambda: f"sk_test_{secrets.token_hex(12)}")
    stripe_webhook_secret: str = field(default_factory=lambda: f"whsec_{secrets.token_hex(16)}")
    twilio_auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    warpcache_tokens: dict[str, str] = field(
        default_factory=lambda: {c: secrets.token_urlsafe(24) for c in WARPCACHE_CALLERS}
    )

    def as_env(self) -> dict[str, str]:
        """The environment variables every service of the run reads its secrets from."""
        return {
            "PHONE_ENCRYPTION_KEY": self.phone_encryption_key,
            "PHONE_HASH_KEY": self.phone_hash_key,
            "OTP_HMAC_SECRET": self.otp_hmac_secret,
            "JWT_SIGNING_KEYS": self.jwt_signing_keys,
            "MACHINE_SECRETS": json.dumps(self.machine_secrets),
            "STRIPE_API_KEY": self.stripe_api_key,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "TWILIO_AUTH_TOKEN": self.twilio_auth_token,
            "WARPCACHE_CALLERS": json.dumps(self.warpcache_tokens),
        }


#: The second WarpCache process: AuthApi writes through the first, the gateway and Webhooks
#: read through this one, so a session works only when the engine shares state.
WARPCACHE_2 = "warpcache-2"


@dataclass
class ProductionPlatform(Platform):
    """:class:`Platform` with every service in production mode and this run's secrets, and
    WarpCache as two processes on one Redis."""

    run_secrets: RunSecrets = field(default_factory=RunSecrets)
    redis_url: str = "redis://127.0.0.1:6379/0"
    services: tuple[str, ...] = (ORDER[0], WARPCACHE_2, *ORDER[1:])
    replicas: dict[str, str] = field(default_factory=lambda: {WARPCACHE_2: "warpcache"})

    def env(self, name: str) -> dict[str, str]:
        env = super().env(name)
        if name in EMULATORS:
            # The emulators sign and verify with the run's secrets too.
            return {**env, **self.run_secrets.as_env()}
        env.pop("JWT_KEYS_FILE", None)
        env.update(self.run_secrets.as_env())
        env.update(
            {
                "ENVIRONMENT": "production",
                "OTP_ECHO": "false",
                "INTROSPECTION": "false",
                "ADMIN_UI_URL": "http://127.0.0.1:5173/",
                "CLIENT_ADDRESS_TOPOLOGY": "direct",
                "WARPCACHE_ENGINE": "redis",
                "WARPCACHE_REDIS_URL": self.redis_url,
                "WARPCACHE_REDIS_KEY_PREFIX": f"prod-check-{self.run_secrets.phone_hash_key[:8]}:",
                "WARPCACHE_TOKEN": self.run_secrets.warpcache_tokens.get(name, ""),
                "TWILIO_WEBHOOK_BASE_URL": self.url("webhooks"),
                "CHECKOUT_SUCCESS_URL": "http://127.0.0.1:5174/checkout/success?session_id={CHECKOUT_SESSION_ID}",
                "CHECKOUT_CANCEL_URL": "http://127.0.0.1:5174/checkout/cancel?session_id={CHECKOUT_SESSION_ID}",
                "SERVICE_CLIENT_SECRET": self.run_secrets.machine_secrets.get(name, ""),
                "REGISTRY_ALLOWED_SUBGRAPH_URLS": '["http://127.0.0.1:*"]',
                "TWILIO_FROM_NUMBER": "+15005550006",
            }
        )
        if name in ("gateway", "webhooks"):
            env["WARPCACHE_URL"] = self.grpc(WARPCACHE_2)
        return {**env, **self.overrides.get("*", {}), **self.overrides.get(name, {})}

    def seed_admin(self, phone: str = ADMIN_PHONE) -> None:
        """Create the run's admin in UserApi's database (the ``nudges.seeds`` entry points)."""
        env = {
            **os.environ,
            **self.env("user"),
            "ENVIRONMENT": "test",
            "SEED_ADMIN_PHONE": phone,
        }
        code = (
            "from importlib.metadata import entry_points\n"
            "for seed in entry_points(group='nudges.seeds'):\n"
            "    print(seed.name, seed.load()())\n"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True)  # noqa: S603

    def demo_env(self) -> dict[str, str]:
        """Where ``scripts/demo.py`` finds each part of this platform."""
        names = {
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
        env = {f"NUDGES_{key.upper()}_URL": self.url(name) for key, name in names.items()}
        env["NUDGES_DEMO_ADMIN_PHONE"] = ADMIN_PHONE
        env["NUDGES_DEMO_OTP_FROM"] = "sms"
        # Every graph request through the gateway: no falling back to a subgraph.
        env["NUDGES_DEMO_GATEWAY_ONLY"] = "1"
        return env


def prod_check(repo: Path, keep: bool = False) -> int:
    """Start the platform as production runs it, run the demo against it, stop everything.
    Returns the demo's exit status."""
    with tempfile.TemporaryDirectory(prefix="nudges-prod-check-") as tmp:
        state = Path(tmp)
        # PostgreSQL and Redis as NUDGES_INFRA selects them; the broker is Tansu whatever it
        # says, since the check is Kafka over TLS.
        plan = plan_infra(infra_mode(), default_probes(), components=("postgres", "redis"))
        print(f"infra:    {plan.describe()}")
        postgres = Postgres.ensure(state / "postgres", plan["postgres"])
        redis = Redis.ensure(state / "redis", plan["redis"])
        # Kafka over TLS (the broker's certificate signed by a CA made for the run). Tansu
        # 0.6 cannot complete a SASL handshake (only refuse one), so clients authenticate
        # by TLS alone here; `make test` shows SASL refusals against it.
        tls = make_tls_identity(state / "tls")
        broker = TansuBroker(free_port(), log_path=state / "tansu.log", tls=tls)
        broker.start()
        print(f"postgres: {postgres.origin}\nredis:    {redis.origin}")
        print(f"kafka:    Tansu broker over TLS on {broker.bootstrap_servers}")
        platform = ProductionPlatform(
            postgres.url,
            broker.bootstrap_servers,
            state,
            keep_databases=keep,
            redis_url=redis.url,
            overrides={
                "*": {"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": str(tls.ca_path)}
            },
        )
        started = time.monotonic()
        code = 1
        try:
            platform.start()
            platform.seed_admin()
            took = time.monotonic() - started
            print(f"platform: every service ready in production mode ({took:.0f} s)")
            demo = subprocess.run(  # noqa: S603
                [sys.executable, str(repo / "scripts" / "demo.py")],
                env={**os.environ, **platform.demo_env()},
                check=False,
            )
            code = demo.returncode
        except Exception as exc:
            print(f"prod-check: {type(exc).__name__}: {exc}")
            code = 1
        finally:
            if code != 0:
                for name in platform.services:
                    if platform.log_path(name).exists():
                        lines = platform.log_path(name).read_text(errors="replace").splitlines()
                        print(f"--- {name} (last lines)\n" + "\n".join(lines[-12:]))
            platform.stop()
            broker.stop()
            redis.stop()
            postgres.stop()
    print(
        "prod-check: the whole story completed in production mode"
        if code == 0
        else "prod-check: FAILED"
    )
    return code
