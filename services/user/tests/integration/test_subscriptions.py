"""clientUpdated and announcementProgress share one listening connection per process: open
subscriptions take no connection of the request pool, and they keep receiving changes after
the server drops the listening connection."""

from __future__ import annotations

import time
import uuid
from contextlib import ExitStack
from typing import Any

from nudges_devstack.testing import Caller, SubgraphClient
from nudges_kit.notify import APPLICATION_NAME, ChangeListener

CLIENT_UPDATED = "subscription($id: ID!) { clientUpdated(id: $id) { id name } }"
RENAME = "mutation($id: ID!, $n: String!) { updateClient(id: $id, input: {name: $n}) { id } }"


def wait_for(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _client(api: SubgraphClient) -> Caller:
    owner = api.person("client")
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Live", slug: $s}) { id } }',
        owner.token,
        s=f"sub-{uuid.uuid4().hex[:8]}",
    )
    return owner


def _subscribe(stack: ExitStack, api: SubgraphClient, owner: Caller) -> Any:
    ws = stack.enter_context(
        api.client.websocket_connect(
            "/graphql",
            subprotocols=["graphql-transport-ws"],
            headers={"Authorization": f"Bearer {owner.token}"},
        )
    )
    ws.send_json({"type": "connection_init"})
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json(
        {
            "id": "1",
            "type": "subscribe",
            "payload": {"query": CLIENT_UPDATED, "variables": {"id": owner.subject}},
        }
    )
    return ws


def _listener(api: SubgraphClient) -> ChangeListener:
    wait_for(lambda: getattr(api.client.app.state, "change_listener", None) is not None)
    listener: ChangeListener = api.client.app.state.change_listener
    return listener


def test_open_subscriptions_take_no_connection_of_the_pool(api: SubgraphClient) -> None:
    owner = _client(api)
    pool = api.client.app.state.pool
    sockets = pool.get_max_size() + 2
    with ExitStack() as stack:
        for _ in range(sockets):
            _subscribe(stack, api, owner)
        listener = _listener(api)
        wait_for(lambda: listener.subscriber_count >= sockets and listener.listening.is_set())
        # The one connection in use is the outbox relay's (it publishes on its lock session).
        in_use = pool.get_size() - pool.get_idle_size()
        assert in_use <= 1, "open subscriptions hold connections of the pool"
        name = api.ok("query($id: ID!) { client(id: $id) { name } }", owner.token, id=owner.subject)
        assert name == {"client": {"name": "Live"}}


def test_a_subscription_hears_changes_after_its_listening_connection_is_dropped(
    api: SubgraphClient,
) -> None:
    owner = _client(api)
    with ExitStack() as stack:
        ws = _subscribe(stack, api, owner)
        listener = _listener(api)
        wait_for(lambda: listener.subscriber_count >= 1 and listener.listening.is_set())
        opened = listener.connections_opened
        api.ok(RENAME, owner.token, id=owner.subject, n="Before")
        assert ws.receive_json()["payload"]["data"]["clientUpdated"]["name"] == "Before"

        terminated = api.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            APPLICATION_NAME,
        )
        assert terminated == [(True,)]
        wait_for(lambda: listener.connections_opened > opened and listener.listening.is_set())
        api.ok(RENAME, owner.token, id=owner.subject, n="After")
        assert ws.receive_json()["payload"] == {
            "data": {"clientUpdated": {"id": owner.subject, "name": "After"}}
        }
