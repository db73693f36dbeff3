"""The callers WarpCache accepts (``WARPCACHE_CALLERS`` and its development defaults) and
the prefixes each one reaches."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from nudges_kit.settings import MissingProductionSettings, development_warpcache_token
from nudges_warpcache.domain.access import DEFAULT_GRANTS, AccessPolicy, Grants
from nudges_warpcache.settings import UnsafeCallers, WarpcacheSettings


def test_development_accepts_each_known_caller_with_its_development_token() -> None:
    policy = WarpcacheSettings(environment="development").access_policy()
    assert policy.names == ("auth", "gateway", "webhooks")
    for name in policy.names:
        caller = policy.caller_of(development_warpcache_token(name))
        assert caller is not None
        assert caller.name == name
    assert policy.caller_of("") is None
    assert policy.caller_of(development_warpcache_token("auth") + " ") is None


def test_each_caller_reaches_only_its_prefixes() -> None:
    policy = AccessPolicy({name: (name + "-token", g) for name, g in DEFAULT_GRANTS.items()})
    auth, gateway, webhooks = (policy.caller_of(f"{n}-token") for n in policy.names)
    assert auth is not None
    assert gateway is not None
    assert webhooks is not None

    assert auth.may_write(["otp-attempts:c1", "rl:otp-ip:1.2.3.4", "session:s", "revoked:j"])
    assert gateway.may_read(["session:s", "revoked:j"])
    assert not gateway.may_write(["session:s"])
    assert not gateway.may_read(["refresh-family:f"])
    assert webhooks.may_write(["dialogue:draft:c", "stripe-event:claim:e"])
    assert not webhooks.may_read(["session:s"])
    assert not webhooks.may_read(["dialogue:draft:c", "session:s"])  # a batch, key by key
    assert not webhooks.may_write(["otp-attempts:c1"])
    assert not webhooks.may_read(["sessionless", "dialogue"])  # the prefix, colon included


def test_callers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "WARPCACHE_CALLERS",
        json.dumps(
            {
                "auth": "auth-secret",
                "gateway": {"token": "gateway-secret"},
                "reports": {"token": "reports-secret", "read": ["report:"]},
            }
        ),
    )
    policy = WarpcacheSettings(environment="production").access_policy()
    gateway, reports = policy.caller_of("gateway-secret"), policy.caller_of("reports-secret")
    assert gateway is not None
    assert reports is not None
    assert gateway.may_read(["session:s"])
    assert not gateway.may_write(["session:s"])
    assert reports.may_read(["report:1"])
    assert not reports.may_write(["report:1"])
    # The development tokens are not accepted once callers are configured.
    assert policy.caller_of(development_warpcache_token("auth")) is None


def test_production_needs_its_callers() -> None:
    with pytest.raises(MissingProductionSettings, match="WARPCACHE_CALLERS"):
        WarpcacheSettings(environment="production")
    with pytest.raises(MissingProductionSettings, match="WARPCACHE_CALLERS"):
        WarpcacheSettings(environment="production", warpcache_callers={})


def test_unsafe_callers_are_refused() -> None:
    with pytest.raises(UnsafeCallers, match="development token"):
        WarpcacheSettings(
            environment="production",
            warpcache_callers={"gateway": development_warpcache_token("gateway")},
        )
    with pytest.raises(UnsafeCallers, match="'reports' needs read_write or read"):
        WarpcacheSettings(warpcache_callers={"reports": "reports-secret"})
    with pytest.raises(ValidationError, match="distinct tokens"):
        WarpcacheSettings(warpcache_callers={"auth": "same", "gateway": "same"})
    with pytest.raises(ValueError, match="needs a token"):
        AccessPolicy({"auth": ("", Grants(read=("x:",)))})
