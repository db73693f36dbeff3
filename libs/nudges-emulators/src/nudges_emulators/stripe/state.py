"""The emulator's memory: every Stripe object by kind, the events, and idempotent responses.

Every change happens under :attr:`StripeState.lock`, so request handlers, the expiry sweeper
and tests that call in from another thread see consistent objects. Given a file, the state
outlives the process, as a Stripe account does: it is read at start and written (whole, to a
temporary file renamed over the old one) after every change, under the same lock.
"""

from __future__ import annotations

import contextvars
import copy
import json
import os
import secrets
import string
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import stripe

from nudges_emulators.stripe.errors import missing, parameter_invalid
from nudges_emulators.stripe.params import Params, opt_int, opt_str

StripeObject = dict[str, Any]
EventListener = Callable[[StripeObject], None]

#: Kinds of stored object, by the name errors use ("No such price: ...").
KINDS = (
    "customer",
    "product",
    "price",
    "coupon",
    "promotion_code",
    "checkout.session",
    "subscription",
    "invoice",
    "discount",
    "invoiceitem",
    "billing_portal.session",
    "event",
)
_PREFIXES = {
    "cus_": "customer",
    "prod_": "product",
    "price_": "price",
    "promo_": "promotion_code",
    "cs_": "checkout.session",
    "sub_": "subscription",
    "in_": "invoice",
    "di_": "discount",
    "ii_": "invoiceitem",
    "bps_": "billing_portal.session",
    "evt_": "event",
}
_ALPHABET = string.ascii_letters + string.digits
#: The layout of the state file; another one is refused rather than misread.
SNAPSHOT_VERSION = 1

#: The request an event is caused by, shown in ``event.request`` as Stripe does.
current_request: contextvars.ContextVar[tuple[str | None, str | None]] = contextvars.ContextVar(
    "current_request", default=(None, None)
)


def now() -> int:
    """Unix time in seconds, as Stripe timestamps are."""
    return int(time.time())


def random_id(prefix: str, length: int = 24) -> str:
    """A Stripe-looking id: ``cus_`` and random letters and digits."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class IdempotentResponse:
    """What a POST with an ``Idempotency-Key`` answered, to answer again."""

    fingerprint: str
    status: int
    body: bytes


class StripeState:
    """All objects the emulator holds; :meth:`reset` forgets them (for tests). With a ``path``
    they are read from it at start and :meth:`save` writes them there; without one they live
    in memory only."""

    def __init__(self, checkout_ttl_seconds: int = 24 * 3600, path: Path | None = None) -> None:
        self.lock = threading.RLock()
        self.path = path
        self.checkout_ttl_seconds = checkout_ttl_seconds
        self.listeners: list[EventListener] = []
        self.generation = 0
        self.objects: dict[str, dict[str, StripeObject]] = {}
        self.line_items: dict[str, list[StripeObject]] = {}
        self.subscription_data: dict[str, Params] = {}
        #: The coupon terms of each discount, as they were when it was applied.
        self.discount_coupons: dict[str, StripeObject] = {}
        #: Invoice items (prorations) waiting for the subscription's next invoice, by id.
        self.pending_items: dict[str, StripeObject] = {}
        self.idempotency: dict[str, IdempotentResponse] = {}
        self._clear()
        if path is not None and path.exists():
            self._load(path)

    def reset(self) -> None:
        """Forget every object, event and idempotency key (in the file too)."""
        with self.lock:
            self._clear()
            self.save()

    def _clear(self) -> None:
        self.generation += 1
        self.objects = {kind: {} for kind in KINDS}
        self.line_items = {}
        self.subscription_data = {}
        self.discount_coupons = {}
        self.pending_items = {}
        self.idempotency = {}

    def snapshot(self) -> dict[str, Any]:
        """Everything the state holds, as JSON-ready data (what :meth:`save` writes)."""
        with self.lock:
            return {
                "version": SNAPSHOT_VERSION,
                "objects": self.objects,
                "line_items": self.line_items,
                "subscription_data": self.subscription_data,
                "discount_coupons": self.discount_coupons,
                "pending_items": self.pending_items,
                "idempotency": {
                    key: [seen.fingerprint, seen.status, seen.body.decode()]
                    for key, seen in self.idempotency.items()
                },
            }

    def save(self) -> None:
        """Write the state to its file, atomically (nothing without a file)."""
        if self.path is None:
            return
        with self.lock:
            payload = json.dumps(self.snapshot(), separators=(",", ":")).encode()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with temporary.open("wb") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)

    def _load(self, path: Path) -> None:
        data = json.loads(path.read_text())
        if data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"{path}: not a Stripe emulator state of version {SNAPSHOT_VERSION}")
        for kind, objects in data["objects"].items():
            self.objects.setdefault(kind, {}).update(objects)
        self.line_items = data["line_items"]
        self.subscription_data = data["subscription_data"]
        self.discount_coupons = data["discount_coupons"]
        self.pending_items = data["pending_items"]
        self.idempotency = {
            key: IdempotentResponse(fingerprint, status, body.encode())
            for key, (fingerprint, status, body) in data["idempotency"].items()
        }

    def undelivered_events(self) -> list[StripeObject]:
        """Events still waiting for their webhook (oldest first): after a restart, the
        sender delivers them."""
        return [e for e in self.objects["event"].values() if e.get("pending_webhooks")]

    def add(self, kind: str, obj: StripeObject) -> StripeObject:
        """Store ``obj`` (newly created) under its id."""
        self.objects[kind][obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str, param: str = "id") -> StripeObject:
        """The stored object, or Stripe's ``resource_missing`` error naming ``param``."""
        obj = self.objects[kind].get(object_id)
        if obj is None:
            raise missing(kind.replace("_", " "), object_id, param)
        return obj

    def find(self, object_id: str) -> StripeObject | None:
        """Any stored object with this id (for ``expand``)."""
        for prefix, kind in _PREFIXES.items():
            if object_id.startswith(prefix):
                return self.objects[kind].get(object_id)
        return self.objects["coupon"].get(object_id)

    def emit(
        self, event_type: str, obj: StripeObject, previous: dict[str, Any] | None = None
    ) -> StripeObject:
        """Record an event about ``obj`` (a snapshot of it now) and tell the listeners."""
        request_id, idempotency_key = current_request.get()
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous:
            data["previous_attributes"] = copy.deepcopy(previous)
        event = self.add(
            "event",
            {
                "id": random_id("evt_"),
                "object": "event",
                "api_version": stripe.api_version,
                "created": now(),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": request_id, "idempotency_key": idempotency_key},
                "type": event_type,
            },
        )
        for listener in self.listeners:
            listener(event)
        return event

    def list_page(
        self,
        kind: str,
        params: Params,
        url: str,
        keep: Callable[[StripeObject], bool] = lambda _: True,
        items: Iterable[StripeObject] | None = None,
    ) -> StripeObject:
        """A Stripe list object, newest first, with ``limit``, ``starting_after`` and
        ``ending_before``."""
        limit = opt_int(params, "limit") or 10
        if not 1 <= limit <= 100:
            raise parameter_invalid("limit", "This value must be between 1 and 100.")
        source = list(items) if items is not None else list(reversed(self.objects[kind].values()))
        rows = [obj for obj in source if keep(obj)]
        after, before = opt_str(params, "starting_after"), opt_str(params, "ending_before")
        ids = [obj["id"] for obj in rows]
        if after is not None:
            if after not in ids:
                raise missing(kind.replace("_", " "), after, "starting_after")
            rows = rows[ids.index(after) + 1 :]
        elif before is not None:
            if before not in ids:
                raise missing(kind.replace("_", " "), before, "ending_before")
            rows = rows[: ids.index(before)]
            page = rows[-limit:]
            return {"object": "list", "data": page, "has_more": len(rows) > limit, "url": url}
        return {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit, "url": url}

    def expand(self, obj: StripeObject, paths: Iterable[str]) -> StripeObject:
        """A copy of ``obj`` with the ids at ``paths`` (``customer``,
        ``data.subscription``, ``line_items``) replaced by the objects they name."""
        result = copy.deepcopy(obj)
        for path in paths:
            self._expand(result, path.split("."))
        return result

    def _expand(self, node: Any, parts: list[str]) -> None:
        if not parts or not isinstance(node, dict):
            return
        head, rest = parts[0], parts[1:]
        if head == "line_items" and node.get("object") == "checkout.session":
            items = self.line_items.get(node["id"], [])
            node["line_items"] = {
                "object": "list",
                "data": copy.deepcopy(items),
                "has_more": False,
                "url": f"/v1/checkout/sessions/{node['id']}/line_items",
            }
        value = node.get(head)
        if isinstance(value, str) and (found := self.find(value)) is not None:
            value = node[head] = copy.deepcopy(found)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, str) and not rest and (found := self.find(item)) is not None:
                    value[index] = copy.deepcopy(found)
                else:
                    self._expand(item, rest)
        else:
            self._expand(value, rest)
