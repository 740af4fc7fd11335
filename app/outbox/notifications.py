"""Mails billing wants sent, recorded in the ``outbox`` collection.

Billing never sends mail itself: it writes an outbox entry in the same
transaction as the change the mail reports, and the dispatcher
(``app/web/mails.py``) renders ``emails/<template>.txt|html`` from the
merchant's theme and sends it. Entries written by ``portico bill`` carry a
``key`` so that a repeated run never records the same mail twice.

Templates billing writes, with their ``data``:

- ``invoice_issued``: invoice_id, number, gross, amount_due, currency, due_at,
  collection ("auto" | "manual"); attachment: the invoice PDF.
- ``payment_failed``: invoice_id, number, amount, currency, failure_code,
  next_attempt_at (None after the last attempt).
- ``payment_succeeded``: invoice_id, number, amount, currency.
- ``payment_reminder``: invoice_id, number, amount_due, currency, due_at.
- ``trial_ending``: subscription_id, plan_id, trial_end.
- ``subscription_canceled``: subscription_id, plan_id, ended_at, reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from app.core.clock import iso
from app.core.ids import new_id
from app.store import WriteTransaction


def mail_notification(
    template: str,
    customer: Mapping[str, Any],
    now: datetime,
    data: Mapping[str, Any],
    attachments: Sequence[Mapping[str, Any]] = (),
    key: str | None = None,
) -> dict[str, Any]:
    """An outbox entry for a mail; written in the transaction that caused it, sent after."""
    return {
        "id": new_id("out"),
        "kind": "mail",
        "template": template,
        "customer_id": customer["id"],
        "to": customer["email"],
        "language": customer["language"],
        "data": {"customer_number": customer["number"], **data},
        "attachments": [dict(attachment) for attachment in attachments],
        "key": key,
        "created_at": iso(now),
        "sent_at": None,
        "attempts": 0,
    }


def invoice_attachment(invoice: Mapping[str, Any]) -> dict[str, Any]:
    return {"kind": "invoice_pdf", "invoice_id": invoice["id"], "number": invoice["number"]}


def record_mail(
    tx: WriteTransaction,
    template: str,
    customer: Mapping[str, Any],
    now: datetime,
    data: Mapping[str, Any],
    *,
    key: str,
    attachments: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """Write a mail unless one with ``key`` was written before; returns the new entry."""
    outbox = tx.collection("outbox")
    if outbox.first(key=key) is not None:
        return None
    return outbox.insert(mail_notification(template, customer, now, data, attachments, key))
