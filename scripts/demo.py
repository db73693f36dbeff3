"""The whole Nudges story against a running ``make dev``, through the emulators, step by step.

A client signs up with a one-time code (echoed by AuthApi under ``OTP_ECHO``, else read from
the SMS the Twilio emulator received, as a phone would), creates their page, buys a plan
through Stripe Checkout (the Stripe emulator completes it), three subscribers join in three
languages, a new number joins by text (JOIN <slug>, then YES), the client texts an
announcement to the Nudges number (the Twilio emulator), replies CONFIRM, every subscriber
receives it in their language, and the counts and the client's final SMS come back. A step
whose service is missing or not ready stops the demo, naming it.

    make dev      # terminal 1
    make demo     # terminal 2
"""

from __future__ import annotations

import functools
import os
import random
import re
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import httpx

T = TypeVar("T")


def _url(name: str, default_port: int) -> str:
    return os.environ.get(f"NUDGES_{name.upper()}_URL", f"http://127.0.0.1:{default_port}")


GATEWAY = _url("gateway", 4000)
AUTH = _url("auth", 4001)
USER = _url("user", 4002)
PRODUCT = _url("product", 4003)
PAYMENT = _url("payment", 4004)
WEBHOOKS = _url("webhooks", 4005)
CONSUMERS = _url("consumers", 4006)
STRIPE = _url("stripe_emulator", 12111)
TWILIO = _url("twilio_emulator", 12112)
#: Where one-time codes come from: ``echo`` (AuthApi's answer, development) or ``sms`` (the
#: text the Twilio emulator received; ``make prod-check``, where nothing is echoed).
OTP_FROM = os.environ.get("NUDGES_DEMO_OTP_FROM", "echo")
GATEWAY_ONLY = bool(os.environ.get("NUDGES_DEMO_GATEWAY_ONLY"))
#: The admin ``make dev`` seeds (UserApi's ``SEED_ADMIN_PHONE``).
ADMIN_PHONE = os.environ.get("NUDGES_DEMO_ADMIN_PHONE", "+14155550100")

http = httpx.Client(timeout=15.0)


class StepFailed(Exception):
    """A step could not be done; the message says what is missing."""


def stop(step: str, reason: str) -> NoReturn:
    print(f"\n  x {step}: {reason}")
    print("    The demo stops here. Is `make dev` running, and is every service ready?")
    sys.exit(1)


def step(title: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Prints the step, runs it, and stops the demo with its reason when it fails."""

    def wrap(run: Callable[..., T]) -> Callable[..., T]:
        def inner(*args: Any, **kwargs: Any) -> T:
            print(f"\n== {title}")
            try:
                return run(*args, **kwargs)
            except StepFailed as exc:
                stop(title, str(exc))
            except httpx.HTTPError as exc:
                stop(title, f"{type(exc).__name__}: {exc}")

        return inner

    return wrap


def say(text: str) -> None:
    print(f"   {text}")


def phone() -> str:
    return f"+1415{random.randint(200, 999)}{random.randint(0, 9999):04d}"


def gql(url: str, query: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = http.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    if answer.status_code >= 400:
        raise StepFailed(f"{url}/graphql answered {answer.status_code}: {answer.text[:200]}")
    body = answer.json()
    if body.get("errors"):
        raise StepFailed(f"{url}/graphql: {body['errors'][0].get('message')}")
    return body["data"]  # type: ignore[no-any-return]


def graph(query: str, token: str | None, direct: str, **variables: Any) -> dict[str, Any]:
    """Through the gateway; straight to the subgraph when the gateway cannot answer (unless
    ``NUDGES_DEMO_GATEWAY_ONLY`` is set, as ``make prod-check`` does)."""
    try:
        return gql(GATEWAY, query, token, **variables)
    except (StepFailed, httpx.HTTPError):
        if GATEWAY_ONLY:
            raise
        return gql(direct, query, token, **variables)


def wait_for(what: str, check: Callable[[], T | None], within: float = 60.0) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise StepFailed(f"{what} did not happen within {within:.0f} s")


@functools.cache
def admin_token() -> str:
    """The seeded admin's access token, signed in once per run (codes per number are few)."""
    return login(ADMIN_PHONE, "admin")


def login(number: str, role: str, locale: str = "en") -> str:
    """An access token for ``number`` through AuthApi's one-time code."""
    before = len(texts_to(number)) if OTP_FROM == "sms" else 0
    sent = http.post(
        f"{AUTH}/auth/otp",
        json={"phone": number, "role": role},
        headers={"Accept-Language": locale},
    )
    if sent.status_code != 202:
        raise StepFailed(f"AuthApi POST /auth/otp answered {sent.status_code}: {sent.text[:200]}")
    code = sent.json().get("code") if OTP_FROM == "echo" else code_texted_to(number, before)
    if not code:
        raise StepFailed("AuthApi does not echo the code: start it with OTP_ECHO=true")
    verified = http.post(
        f"{AUTH}/auth/otp/verify", json={"phone": number, "role": role, "code": code}
    )
    if verified.status_code != 200:
        raise StepFailed(f"AuthApi /auth/otp/verify answered {verified.status_code}")
    return str(verified.json()["access_token"])


def code_texted_to(number: str, before: int) -> str:
    """The six-digit code in the first text ``number`` received after its ``before`` first."""

    def texted() -> str | None:
        for body in texts_to(number)[before:]:
            if found := re.search(r"\b(\d{6})\b", body):
                return found.group(1)
        return None

    return wait_for(f"the one-time code texted to {number}", texted, within=30.0)


def texts_to(number: str) -> list[str]:
    answer = http.get(f"{TWILIO}/_emulator/messages", params={"to": number})
    return [m["body"] for m in answer.json()["messages"]]


def text_nudges(number: str, body: str) -> str:
    answer = http.post(f"{TWILIO}/_emulator/inbound", json={"from": number, "body": body})
    result = answer.json()
    if answer.status_code != 200 or result.get("status") != 200:
        raise StepFailed(f"the Webhooks service did not answer the text: {result}")
    return str(result["reply"])


# --- the story ----------------------------------------------------------------------------


@step("0. Every service answers")
def services_ready() -> None:
    for name, url in [
        ("AuthApi", f"{AUTH}/readyz"),
        ("UserApi", f"{USER}/readyz"),
        ("ProductApi", f"{PRODUCT}/readyz"),
        ("PaymentApi", f"{PAYMENT}/readyz"),
        ("Webhooks", f"{WEBHOOKS}/readyz"),
        ("Consumers", f"{CONSUMERS}/healthz"),
        ("Stripe emulator", f"{STRIPE}/healthz"),
        ("Twilio emulator", f"{TWILIO}/_emulator/config"),
    ]:
        try:
            status = http.get(url, timeout=3).status_code
        except httpx.HTTPError:
            raise StepFailed(f"{name} does not answer at {url}") from None
        if status != 200:
            raise StepFailed(f"{name} is not ready ({url} answered {status})")
        say(f"{name}: ready")


@step("1. A client signs up with a one-time code and creates their page")
def client_signs_up() -> dict[str, str]:
    number = phone()
    token = login(number, "client")
    say(f"{number} signed in as a client")
    name = f"Panadería {uuid.uuid4().hex[:4]}"
    created = graph(
        "mutation($i: CreateClientInput!) { createClient(input: $i) { id slug name } }",
        token,
        USER,
        i={"name": name, "locale": "en"},
    )["createClient"]
    say(f"client {created['name']!r} at /c/{created['slug']}")
    return {
        "id": created["id"],
        "name": created["name"],
        "slug": created["slug"],
        "phone": number,
        "token": token,
    }


def _plan_on_offer() -> dict[str, Any]:
    found = graph(
        "{ plans(first: 20) { nodes { id name features { messagesPerPeriod }"
        " tiers { id amount currency interval } } } }",
        None,
        PRODUCT,
    )["plans"]["nodes"]
    plans = [p for p in found if p["tiers"]]
    if plans:
        return dict(plans[0])
    say("no plan on offer yet: the seeded admin creates one")
    admin = admin_token()
    plan = gql(
        PRODUCT,
        "mutation($i: CreatePlanInput!) { createPlan(input: $i) { id name } }",
        admin,
        i={
            "name": "Starter",
            "description": "Demo plan",
            "features": {"messagesPerPeriod": 1000, "supportTier": "BASIC", "aiAssist": False},
        },
    )["createPlan"]
    tier = gql(
        PRODUCT,
        "mutation($p: ID!, $i: CreatePriceTierInput!) { createPriceTier(planId: $p, input: $i)"
        " { id amount currency interval } }",
        admin,
        p=plan["id"],
        i={"name": "Monthly", "amount": 900, "currency": "usd", "interval": "MONTH"},
    )["createPriceTier"]
    return {**plan, "features": {"messagesPerPeriod": 1000}, "tiers": [tier]}


@step("2. The client buys a plan through Stripe Checkout")
def client_buys_a_plan(client: dict[str, str]) -> None:
    plan = _plan_on_offer()
    tier = plan["tiers"][0]
    say(
        f"plan {plan['name']!r}: {tier['amount'] / 100:.2f} {tier['currency'].upper()} per"
        f" {tier['interval'].lower()}, {plan['features']['messagesPerPeriod']} messages"
    )

    def checkout() -> dict[str, Any] | None:
        try:
            created = graph(
                "mutation($t: ID!) { createCheckoutSession(priceTierId: $t) { id url } }",
                client["token"],
                PAYMENT,
                t=tier["id"],
            )
            return dict(created["createCheckoutSession"])
        except StepFailed as exc:
            say(f"(waiting for the tier's Stripe price: {exc})")
            return None

    session = wait_for("a checkout session (the tier's Stripe price)", checkout, within=30)
    # Stripe ids are for staff: the payer's page knows its session, the demo asks as the admin.
    session |= graph(
        "query($id: ID!) { checkoutSession(id: $id) { stripeSessionId } }",
        admin_token(),
        PAYMENT,
        id=session["id"],
    )["checkoutSession"]
    say(f"checkout session {session['stripeSessionId']} at {session['url']}")
    completed = http.post(f"{STRIPE}/_emulator/checkout/{session['stripeSessionId']}/complete")
    if completed.status_code >= 400:
        raise StepFailed(f"the Stripe emulator refused to complete it: {completed.text[:200]}")
    say("the payer completed the checkout (Stripe emulator); its webhooks go to Nudges")

    def active() -> dict[str, Any] | None:
        found = gql(
            PRODUCT,
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Client {"
            " allowance { active remaining } } } }",
            client["token"],
            r=[{"__typename": "Client", "id": client["id"]}],
        )["_entities"][0]["allowance"]
        return found if found["active"] else None

    allowance = wait_for("the plan's activation (Webhooks, PaymentApi, ProductApi)", active)
    say(f"plan active: {allowance['remaining']} messages this period")


@step("3. Three subscribers join, in three languages")
def subscribers_join(client: dict[str, str]) -> dict[str, str]:
    joined = {}
    for locale in ("en", "es", "fr"):
        number = phone()
        token = login(number, "subscriber", locale)
        graph(
            "mutation($s: String!) { joinClient(slug: $s) { id } }", token, USER, s=client["slug"]
        )
        joined[number] = locale
        say(f"{number} ({locale}) joined /c/{client['slug']}")
    for number in joined:

        def welcome(n: str = number) -> str | None:
            return next((t for t in texts_to(n) if client["name"] in t), None)

        try:
            say(f"{number} received: {wait_for('a welcome SMS', welcome, within=20)!r}")
        except StepFailed:
            # Not on the announcement's path: the story goes on, and says what is missing.
            say(f"{number} received no welcome SMS (Consumers: notify-subscribers, sms-outbound)")
    return joined


@step("4. A new number joins by text: JOIN <slug>, then YES")
def number_joins_by_text(client: dict[str, str], subscribers: dict[str, str]) -> None:
    number = phone()
    for body in (f"JOIN {client['slug']}", "YES"):
        say(f"{number} > {body}")
        say(f"Nudges < {text_nudges(number, body)}")

    def member() -> dict[str, Any] | None:
        found = graph(
            "{ subscribers(first: 100) { nodes { status source joinedAt } } }",
            client["token"],
            USER,
        )["subscribers"]["nodes"]
        return next((m for m in reversed(found) if m["source"] == "sms"), None)

    joined = wait_for("the membership made by YES (Webhooks, UserApi)", member, within=10)
    say(f"{number} is now a subscriber: membership {joined['status']}, source {joined['source']}")

    def welcome() -> str | None:
        return next((t for t in texts_to(number) if client["name"] in t), None)

    try:
        say(f"{number} received: {wait_for('a welcome SMS', welcome, within=20)!r}")
    except StepFailed:
        say(f"{number} received no welcome SMS (Consumers: notify-subscribers, sms-outbound)")
    subscribers[number] = "en"


@step("5. The client texts an announcement to the Nudges number")
def client_texts(client: dict[str, str]) -> None:
    body = "Fresh bread at 7 tomorrow, first ten get a free croissant!"
    say(f"client > {body}")
    say(f"Nudges < {text_nudges(client['phone'], body)}")


@step("6. The client replies CONFIRM")
def client_confirms(client: dict[str, str]) -> None:
    say("client > CONFIRM")
    say(f"Nudges < {text_nudges(client['phone'], 'CONFIRM')}")


@step("7. Every subscriber receives it, in their language")
def messages_arrive(subscribers: dict[str, str]) -> None:
    for number, locale in subscribers.items():

        def announcement(n: str = number) -> str | None:
            return next((t for t in texts_to(n) if "croissant" in t), None)

        received = wait_for(
            f"the announcement to {number} (Consumers: fan-out, sms-outbound)", announcement
        )
        say(f"{number} ({locale}) received: {received!r}")


@step("8. Delivery counts and the client's final SMS")
def counts(client: dict[str, str]) -> None:
    def completed() -> dict[str, Any] | None:
        found = graph(
            "{ announcements(first: 1) { nodes { body status recipients sent delivered failed"
            " completedAt } } }",
            client["token"],
            USER,
        )["announcements"]["nodes"]
        return found[0] if found and found[0]["completedAt"] else None

    done = wait_for("the end of sending (Consumers: delivery-status)", completed)
    say(
        f"announcement {done['status']}: {done['recipients']} recipients, {done['sent']} sent,"
        f" {done['delivered']} delivered, {done['failed']} failed"
    )
    final = wait_for(
        "the client's final SMS (Consumers: delivery-status; UserApi: the `contact` query)",
        lambda: next((t for t in texts_to(client["phone"]) if "Delivered:" in t), None),
    )
    say(f"client received: {final!r}")


def main() -> None:
    print("Nudges, end to end, through the Stripe and Twilio emulators")
    services_ready()
    client = client_signs_up()
    client_buys_a_plan(client)
    subscribers = subscribers_join(client)
    number_joins_by_text(client, subscribers)
    client_texts(client)
    client_confirms(client)
    messages_arrive(subscribers)
    counts(client)
    print("\nDone: the whole story ran.")


if __name__ == "__main__":
    main()
