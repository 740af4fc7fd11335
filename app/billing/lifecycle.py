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
from typing import Any, Literal

from app.billing import events, ledger
from app.core.clock import iso
from app.store import WriteTransaction

Status = Literal["trialing", "active", "past_due", "paused", "canceled"]

TRANSITIONS: dict[str, frozenset[str]] = {
    "trialing": frozenset({"active", "past_due", "canceled"}),
    "active": frozenset({"past_due", "paused", "canceled"}),
    "past_due": frozenset({"active", "canceled"}),
    "paused": frozenset({"active", "canceled"}),
    "canceled": frozenset(),
}
LIVE = frozenset({"trialing", "active", "past_due", "paused"})


class InvalidTransition(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a {current} subscription cannot become {wanted}")
        self.current = current
        self.wanted = wanted


def transition(subscription: Mapping[str, Any], to: Status, at: datetime) -> dict[str, Any]:
    """The changes that move ``subscription`` to status ``to``; refuses what the table forbids."""
    current = subscription["status"]
    if to not in TRANSITIONS[current]:
        raise InvalidTransition(current, to)
    changes: dict[str, Any] = {"status": to, "updated_at": iso(at)}
    if to == "canceled":
        changes |= {"canceled_at": subscription.get("canceled_at") or iso(at), "ended_at": iso(at)}
    return changes


def settle(tx: WriteTransaction, customer_id: str, at: datetime) -> None:
    """After money moved: use available credit, and revive subscriptions with nothing owed."""
    for invoice in ledger.allocate_credit(tx, customer_id, at):
        events.invoice_event(tx, "invoice.paid", invoice, at)
    subscriptions = tx.collection("subscriptions")
    for subscription in subscriptions.find(customer_id=customer_id, status="past_due"):
        owed = [
            invoice
            for invoice in ledger.unpaid_invoices(tx, customer_id)
            if invoice["subscription_id"] == subscription["id"]
        ]
        if not owed:
            revived = subscriptions.update(
                subscription["id"], transition(subscription, "active", at)
            )
            events.subscription_changed(tx, subscription, revived, at)
