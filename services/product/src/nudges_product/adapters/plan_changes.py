"""Plan changes from PostgreSQL LISTEN/NOTIFY, fanned out to this process's subscriptions.

Use cases NOTIFY in their transaction (so a notice goes out only when the change commits,
to every replica listening on productdb); one shared listening connection per process
(:class:`nudges_kit.notify.ChangeListener`, outside the request pool, reconnecting when
dropped) hands each plan id to every open ``planUpdated`` subscription.
"""

from __future__ import annotations

from uuid import UUID

from nudges_kit.logging import get_logger
from nudges_kit.notify import ChangeListener
from nudges_product.adapters.repository import PLAN_CHANGED_CHANNEL

log = get_logger(__name__)


def plan_change_listener(dsn: str) -> ChangeListener:
    """The listener of plan changes on the database at ``dsn``."""
    return ChangeListener(dsn, [PLAN_CHANGED_CHANNEL])


def changed_plan_id(payload: str) -> UUID | None:
    """The plan id a notice names, or None for a malformed notice."""
    try:
        return UUID(payload)
    except ValueError:
        log.warning("ignoring a malformed plan change notice")
        return None
