"""Joining by text as events UserApi owns (``sms.opt-ins``): the SMS dialogue publishes YES
as ``sms.opt_in.confirmed`` and LANG as ``sms.locale.requested``; UserApi's consumer makes the
membership (source ``sms``) once however often the event arrives, and sets the language."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING

from nudges_devstack.infra import TansuBroker
from nudges_devstack.testing import SubgraphClient
from nudges_kit.auth import user_id_for
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import sms
from nudges_kit.kafka import make_producer, start_client
from nudges_user.settings import UserSettings

if TYPE_CHECKING:
    from conftest import Publish

CREATE = "mutation($n: String!, $s: String!) { createClient(input: {name: $n, slug: $s}) { id } }"


def send_twice(kafka_broker: TansuBroker, envelope: Envelope) -> None:
    """The same envelope delivered twice, as a producer's retry after a lost acknowledgement
    delivers it."""
    settings = UserSettings(
        environment="test", kafka_bootstrap_servers=kafka_broker.bootstrap_servers
    )

    async def send() -> None:
        producer = make_producer(settings)
        await start_client(producer, settings)
        try:
            for _ in range(2):
                await producer.send_and_wait(
                    sms.OPT_INS, envelope.to_bytes(), key=envelope.key.encode()
                )
        finally:
            await producer.stop()

    asyncio.run(send())


def handled(api: SubgraphClient, event_id: uuid.UUID) -> None:
    deadline = time.monotonic() + 30
    while not api.sql("SELECT 1 FROM handled_events WHERE event_id = %s", event_id):
        assert time.monotonic() < deadline, "the event was not handled"
        time.sleep(0.1)


def memberships(api: SubgraphClient, phone_hash: str) -> list[tuple[str, str, str, str]]:
    return [
        (str(r[0]), str(r[1]), r[2], r[3])
        for r in api.sql(
            "SELECT m.id, m.client_id, m.source, m.status FROM memberships m"
            " JOIN subscribers s ON s.id = m.subscriber_id JOIN users u ON u.id = s.user_id"
            " WHERE u.phone_hash = %s",
            phone_hash,
        )
    ]


def test_a_confirmed_opt_in_makes_one_sms_membership_even_when_delivered_twice(
    api: SubgraphClient, publish: Publish, kafka_broker: TansuBroker
) -> None:
    owner = api.person("client")
    api.ok(CREATE, owner.token, n="By Text", s=f"text-{uuid.uuid4().hex[:8]}")
    phone = f"+1415{uuid.uuid4().int % 10**7:07d}"
    phone_hash = api.vault.hash(phone)
    data = sms.OptInConfirmedData(
        client_id=uuid.UUID(owner.subject),
        phone_hash=phone_hash,
        phone_ciphertext=api.vault.encrypt(phone),
        locale="es",
    )
    confirmed = sms.opt_in_confirmed.envelope(phone_hash, data)

    send_twice(kafka_broker, confirmed)
    handled(api, confirmed.id)
    # A second YES (a new event of the same opt-in) finds the same membership.
    handled(api, publish(sms.opt_in_confirmed, phone_hash, data))

    [(membership_id, client_id, source, status)] = memberships(api, phone_hash)
    assert (client_id, source, status) == (owner.subject, "sms", "active")
    # The user is new: created in the opt-in's language, under the id its logins will have.
    assert api.sql("SELECT id, locale FROM users WHERE phone_hash = %s", phone_hash) == [
        (uuid.UUID(user_id_for(phone_hash)), "es")
    ]
    # One membership.joined (the welcome's cause), not one per delivery.
    joined = api.sql(
        "SELECT count(*) FROM outbox WHERE event_type = 'user.membership.joined'"
        " AND key = %s AND payload::text LIKE %s",
        owner.subject,
        f"%{membership_id}%",
    )
    assert joined == [(1,)]


def test_a_language_request_sets_the_users_language(api: SubgraphClient, publish: Publish) -> None:
    fan = api.person("subscriber")
    owner = api.person("client")
    slug = f"lang-{uuid.uuid4().hex[:8]}"
    api.ok(CREATE, owner.token, n="Lang", s=slug)
    api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", fan.token, s=slug)
    phone_hash = api.vault.hash(fan.phone)

    handled(
        api,
        publish(
            sms.locale_requested,
            phone_hash,
            sms.LocaleRequestedData(phone_hash=phone_hash, locale="fr"),
        ),
    )
    assert api.sql("SELECT locale FROM users WHERE phone_hash = %s", phone_hash) == [("fr",)]
    # A number Nudges does not know: handled, nothing created.
    stranger = api.vault.hash("+14155550000")
    handled(
        api,
        publish(
            sms.locale_requested,
            stranger,
            sms.LocaleRequestedData(phone_hash=stranger, locale="fr"),
        ),
    )
    assert api.sql("SELECT 1 FROM users WHERE phone_hash = %s", stranger) == []
