"""The allow-list of subgraph URLs: patterns by scheme, host glob, port and path prefix."""

from __future__ import annotations

import pytest

from nudges_kit.settings import MissingProductionSettings
from nudges_registry.domain.subgraph_urls import InvalidUrlPattern, SubgraphUrls
from nudges_registry.settings import RegistrySettings

DEVELOPMENT = SubgraphUrls(["http://127.0.0.1:*", "http://localhost:*"])
PRODUCTION = SubgraphUrls(["http://*.nudges.internal:*/graphql", "https://api.example.com"])


@pytest.mark.parametrize(
    ("urls", "url", "allowed"),
    [
        (DEVELOPMENT, "http://127.0.0.1:4002/graphql", True),
        (DEVELOPMENT, "http://LOCALHOST:4003/graphql", True),
        (DEVELOPMENT, "http://127.0.0.1/graphql", True),
        (DEVELOPMENT, "https://127.0.0.1:4002/graphql", False),
        (DEVELOPMENT, "http://127.0.0.2:4002/graphql", False),
        (DEVELOPMENT, "http://127.0.0.1:4002@evil.example/graphql", False),
        (DEVELOPMENT, "http://user:pw@127.0.0.1:4002/graphql", False),
        (DEVELOPMENT, "http://127.0.0.1:99999/graphql", False),
        (DEVELOPMENT, "gopher://127.0.0.1:4002/", False),
        (DEVELOPMENT, "", False),
        (PRODUCTION, "http://user.nudges.internal:4002/graphql", True),
        (PRODUCTION, "http://nudges.internal:4002/graphql", False),
        (PRODUCTION, "http://user.nudges.internal.evil.example:4002/graphql", False),
        (PRODUCTION, "http://user.nudges.internal:4002/admin", False),
        (PRODUCTION, "https://api.example.com/any/path", True),
        (PRODUCTION, "https://api.example.com:8443/graphql", False),
    ],
)
def test_allows(urls: SubgraphUrls, url: str, allowed: bool) -> None:
    assert urls.allows(url) is allowed


@pytest.mark.parametrize("pattern", ["127.0.0.1:*", "ftp://x", "http://:80", "http://h:port"])
def test_a_malformed_pattern_is_refused(pattern: str) -> None:
    with pytest.raises(InvalidUrlPattern):
        SubgraphUrls([pattern])


def test_nothing_is_allowed_by_an_empty_list() -> None:
    assert not SubgraphUrls([]).allows("http://127.0.0.1:4002/graphql")


def test_production_names_the_allow_list_when_it_is_missing() -> None:
    with pytest.raises(MissingProductionSettings) as missing:
        RegistrySettings(environment="production")
    assert "REGISTRY_ALLOWED_SUBGRAPH_URLS" in str(missing.value)
    explicit = RegistrySettings(
        environment="production",
        jwt_issuer="https://api.example.com/auth",
        jwks_url="https://api.example.com/auth/.well-known/jwks.json",
        registry_allowed_subgraph_urls=("http://*.nudges.internal:*/graphql",),
        postgres_url="postgresql://registry@db.internal/postgres",
    )
    assert explicit.registry_allowed_subgraph_urls == ("http://*.nudges.internal:*/graphql",)
