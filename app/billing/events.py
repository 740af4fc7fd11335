"""The webhook events billing emits, and what their ``data`` holds.

Each is emitted with :func:`app.outbox.events.emit` in the write transaction that
makes the change, dated at the moment the change takes effect (a billing run
that catches up dates it when it fell due). ``data`` carries ids, numbers,
amounts in minor units and statuses only: never payment details or
personal data beyond the customer's number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.billing import records
from app.billing.records import SubscriptionStatus
from app.outbox.events import emit
from app.store import WriteTransaction

SUBSCRIPTION_FIELDS = (
    "customer_id",
    "plan_id",
    "status",
    "price",
    "currency",
    "interval",
    "interval_count",
    "trial_end",
    "current_period_start",
    "current_period_end",
    "cancel_at_period_end",
    "cancel_reason",
    "canceled_at",
    "ended_at",
)
INVOICE_FIELDS = (
    "number",
    "kind",
    "status",
    "customer_id",
    "customer_number",
    "subscription_id",
    "currency",
    "net",
    "tax",
    "gross",
    "credit_applied",
    "amount_paid",
    "issued_at",
    "due_at",
    "paid_at",
)


def subscription_event(
    tx: WriteTransaction, event_type: str, subscription: Mapping[str, Any], at: datetime
) -> None:
    """``subscription.created|updated|paused|canceled`` with the subscription's state."""
    data = {"subscription_id": subscription["id"]} | {
        key: subscription.get(key) for key in SUBSCRIPTION_FIELDS
    }
    emit(tx, at, event_type, data, customer_id=subscription["customer_id"])


def subscription_changed(
    tx: WriteTransaction, before: Mapping[str, Any], after: Mapping[str, Any], at: datetime
) -> None:
    """The event for a change of a subscription: canceled or paused when its status became
    that, else updated."""
    status = after["status"]
    if (
        status in (SubscriptionStatus.CANCELED, SubscriptionStatus.PAUSED)
        and before["status"] != status
    ):
        subscription_event(tx, f"subscription.{status}", after, at)
    else:
        subscription_event(tx, "subscription.updated", after, at)


def invoice_event(
    tx: WriteTransaction,
    event_type: str,
    invoice: Mapping[str, Any],
    at: datetime,
    **extra: Any,
) -> None:
    """``invoice.issued|paid|payment_failed`` (credit notes too: ``kind`` tells them apart)."""
    data = {"invoice_id": invoice["id"]} | {key: invoice.get(key) for key in INVOICE_FIELDS}
    data["amount_due"] = records.unpaid(invoice)
    emit(tx, at, event_type, data | extra, customer_id=invoice["customer_id"])
