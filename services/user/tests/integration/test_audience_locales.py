"""A client's active subscribers by language: what the SMS dialogue quotes each copy of an
announcement in (service accounts only)."""

from __future__ import annotations

import uuid

from nudges_devstack.testing import SubgraphClient as Api

AUDIENCE = """query($id: ID!) {
  _entities(representations: [{__typename: "Client", id: $id}]) {
    ... on Client { subscriberCount audienceLocales { locale count } }
  }
}"""
JOIN = "mutation($slug: String!) { joinClient(slug: $slug) { id } }"
LEAVE = "mutation($id: ID!) { leaveClient(clientId: $id) { id } }"


def _subscriber_token(api: Api, locale: str) -> str:
    """A token of a new subscriber who reads ``locale``."""
    caller = api.person("subscriber")
    phone_hash = api.vault.hash(caller.phone)
    return api.issuer.token(
        caller.subject,
        "subscriber",
        locale=locale,
        phone_hash=phone_hash,
        phone_ct=api.vault.encrypt(caller.phone),
    )


def test_active_subscribers_are_counted_per_locale_for_services_only(api: Api) -> None:
    owner = api.person("client")
    slug = f"polyglot-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Polyglot", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    tokens = [_subscriber_token(api, locale) for locale in ("es", "en", "es", "fr", "de")]
    for token in tokens:
        api.ok(JOIN, token, slug=slug)
    api.ok(LEAVE, tokens[-1], id=owner.subject)  # a stopped member is no audience

    [client] = api.ok(AUDIENCE, api.service_token(), id=owner.subject)["_entities"]
    assert client == {
        "subscriberCount": 4,
        "audienceLocales": [
            {"locale": "en", "count": 1},
            {"locale": "es", "count": 2},
            {"locale": "fr", "count": 1},
        ],
    }
    # The client reads its subscriber count, not this (it serves the dialogue's quote).
    locales_only = AUDIENCE.replace("subscriberCount ", "")
    assert api.error_code(locales_only, owner.token, id=owner.subject) == "FORBIDDEN"
