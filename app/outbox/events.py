"""Domain events: what happened, written in the transaction that made it happen.

A service calls :func:`emit` inside its write transaction, so an event exists
exactly when its change committed. Events wait in the merchant's ``outbox``
collection (``kind="event"``) until the webhook dispatcher has handed them to
every endpoint that subscribed to their type; the event id doubles as the
receiver's idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args

from app.config.models import WebhookEvent
from app.core.clock import iso
from app.core.ids import new_id
from app.store import WriteTransaction

EVENT_TYPES: frozenset[str] = frozenset(get_args(WebhookEvent))


def emit(
    tx: WriteTransaction,
    now: datetime,
    event_type: str,
    data: Mapping[str, Any],
    *,
    customer_id: str | None = None,
) -> dict[str, Any]:
    """Record that ``event_type`` happened; ``data`` is the webhook payload's object."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    return tx.collection("outbox").insert(
        {
            "id": new_id("evt"),
            "kind": "event",
            "type": event_type,
            "customer_id": customer_id,
            "created_at": iso(now),
            "dispatched_at": None,  # set once a delivery per subscribed endpoint exists
            "data": dict(data),
        }
    )
