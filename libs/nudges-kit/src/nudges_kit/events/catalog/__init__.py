"""Every event type of Nudges, declared once (SPEC §4). Import from here, never a topic string."""

from nudges_kit.events.catalog import auth, payment, product, providers, sms, user

__all__ = ["auth", "payment", "product", "providers", "sms", "user"]
