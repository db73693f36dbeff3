"""GraphMonitor under test: its writes need a machine token with ``registry:write``, signed
by a test issuer the app is built to trust."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from nudges_devstack.testing import TokenIssuer
from nudges_registry.entrypoints.http import build_app
from nudges_registry.settings import RegistrySettings

#: The scope a registry write needs (the subgraphs' machine accounts have it).
WRITE = "registry:write"


@pytest.fixture(scope="session")
def issuer() -> TokenIssuer:
    """Signs the tokens the registry apps of these tests trust."""
    return TokenIssuer()


@pytest.fixture(scope="session")
def writer(issuer: TokenIssuer) -> dict[str, str]:
    """Headers of a subgraph's machine account allowed to write to the registry."""
    token = issuer.token("user", "service", scope=WRITE)
    return {"Authorization": f"Bearer {token}"}


RegistryApp = Callable[..., FastAPI]


@pytest.fixture
def registry_app(issuer: TokenIssuer, tmp_path: Path) -> RegistryApp:
    """Builds registry apps on this test's store, trusting ``issuer``; keyword arguments are
    settings."""

    def make(**settings: Any) -> FastAPI:
        app = build_app(RegistrySettings(environment="test", registry_dir=tmp_path, **settings))
        # Writes are verified with the app's verifier, as subgraphs verify their callers.
        app.state.jwt_verifier = issuer.verifier()
        return app

    return make
