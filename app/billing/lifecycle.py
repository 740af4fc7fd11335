"""Subscription statuses and the transitions allowed between them.

::

    trialing ─► active ◄─► past_due
       │          │  ▲         │
       │          ▼  │         │
       │        paused         │
       ▼          ▼            ▼
     canceled ◄───┴────────────┘

A trial becomes active when it ends (its first invoice is issued then), an
active subscription becomes past_due when the collection of an invoice failed
for the last time, and active again once nothing is outstanding. Canceled is
final.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.billing import events, ledger
from app.billing.records import SubscriptionStatus
from app.core.clock import iso
from app.store import WriteTransaction

TRIALING, ACTIVE, PAST_DUE, PAUSED, CANCELED = SubscriptionStatus

TRANSITIONS: dict[SubscriptionStatus, frozenset[SubscriptionStatus]] = {
    TRIALING: frozenset({ACTIVE, PAST_DUE, CANCELED}),
    ACTIVE: frozenset({PAST_DUE, PAUSED, CANCELED}),
    PAST_DUE: frozenset({ACTIVE, CANCELED}),
    PAUSED: frozenset({ACTIVE, CANCELED}),
    CANCELED: frozenset(),
}
LIVE = frozenset({TRIALING, ACTIVE, PAST_DUE, PAUSED})


class InvalidTransition(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a {current} subscription cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def transition(
    subscription: Mapping[str, Any], to: SubscriptionStatus, at: datetime
) -> dict[str, Any]:
    """The changes that move ``subscription`` to status ``to``; refuses what the table forbids."""
    current = SubscriptionStatus(subscription["status"])
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(current, to)
    changes: dict[str, Any] = {"status": to, "updated_at": iso(at)}
    if to == CANCELED:
        changes |= {"canceled_at": subscription.get("canceled_at") or iso(at), "ended_at": iso(at)}
    return changes


def settle(tx: WriteTransaction, customer_id: str, at: datetime) -> None:
    """After money moved: use available credit, and revive subscriptions with nothing owed."""
    for invoice in ledger.allocate_credit(tx, customer_id, at):
        events.invoice_event(tx, "invoice.paid", invoice, at)
    subscriptions = tx.collection("subscriptions")
    for subscription in subscriptions.find(
        customer_id=customer_id, status=SubscriptionStatus.PAST_DUE
    ):
        owed = [
            invoice
            for invoice in ledger.unpaid_invoices(tx, customer_id)
            if invoice["subscription_id"] == subscription["id"]
        ]
        if not owed:
            revived = subscriptions.update(subscription["id"], transition(subscription, ACTIVE, at))
            events.subscription_changed(tx, subscription, revived, at)
