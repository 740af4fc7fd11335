"""The customer's account: every invoice, credit note, payment and refund is an entry.

Sign convention: an entry's ``amount`` is positive when the customer owes more
(an invoice, a refund paid out to them) and negative when they owe less (a
payment, a credit note, a voided invoice). The balance is the sum of the
entries and nothing else: positive means arrears, negative means credit.

Invoices carry how much of them was settled by credit (``credit_applied``)
and by payments (``amount_paid``); what remains is *outstanding*. Credit that
no invoice has used yet is ``available_credit = sum(outstanding) - balance``.
:func:`allocate_credit` keeps the invariant that credit is never left unused
while an invoice is outstanding: it settles the oldest invoices first, and a
new invoice uses whatever credit is left.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from app.billing.records import OUTSTANDING_STATUSES, InvoiceKind, InvoiceStatus, outstanding
from app.core.clock import iso
from app.core.ids import new_id
from app.store import ReadTransaction, WriteTransaction

EntryKind = Literal["invoice", "credit_note", "payment", "refund", "void"]


def post(
    tx: WriteTransaction,
    *,
    customer_id: str,
    kind: EntryKind,
    amount: int,
    currency: str,
    at: datetime,
    invoice_id: str | None = None,
    payment_id: str | None = None,
) -> dict[str, Any]:
    """Add an entry; ``amount`` is signed as the module docstring says."""
    if type(amount) is not int:
        raise TypeError("ledger amounts are integers of minor units")
    return tx.collection("ledger").insert(
        {
            "id": new_id("led"),
            "customer_id": customer_id,
            "kind": kind,
            "amount": amount,
            "currency": currency,
            "invoice_id": invoice_id,
            "payment_id": payment_id,
            "created_at": iso(at),
        }
    )


def entries(tx: ReadTransaction, customer_id: str) -> list[dict[str, Any]]:
    return tx.collection("ledger").find(customer_id=customer_id)


def balance(tx: ReadTransaction, customer_id: str) -> int:
    """Arrears (> 0) or credit (< 0): the sum of the customer's entries."""
    return sum(entry["amount"] for entry in entries(tx, customer_id))


def unpaid_invoices(tx: ReadTransaction, customer_id: str) -> list[dict[str, Any]]:
    """Invoices with something outstanding, oldest first."""
    invoices = tx.collection("invoices").find(customer_id=customer_id, kind=InvoiceKind.INVOICE)
    return [invoice for invoice in invoices if outstanding(invoice) > 0]


def owed(tx: ReadTransaction, customer_id: str) -> int:
    """What the customer's unpaid invoices still ask for altogether.

    Reads only the invoices in an outstanding status, not the whole history: a
    long-standing customer's invoices are mostly paid, and every document a
    scan returns is a copy, which for hundreds of invoices costs more than the
    rest of a portal page.
    """
    invoices = tx.collection("invoices")
    amounts = (
        outstanding(invoice)
        for status in OUTSTANDING_STATUSES
        for invoice in invoices.find(
            customer_id=customer_id, kind=InvoiceKind.INVOICE, status=status
        )
    )
    return sum(amount for amount in amounts if amount > 0)


def unused_credit(owed: int, balance: int) -> int:
    """Credit no invoice has used yet, from :func:`owed` and :func:`balance`."""
    return max(0, owed - balance)


def available_credit(tx: ReadTransaction, customer_id: str) -> int:
    """Credit no invoice has used yet."""
    return unused_credit(owed(tx, customer_id), balance(tx, customer_id))


def allocate_credit(tx: WriteTransaction, customer_id: str, at: datetime) -> list[dict[str, Any]]:
    """Settle outstanding invoices, oldest first, from available credit.

    Returns the invoices this paid in full.
    """
    credit = available_credit(tx, customer_id)
    settled = []
    for invoice in unpaid_invoices(tx, customer_id):
        if credit <= 0:
            break
        used = min(credit, outstanding(invoice))
        credit -= used
        changes: dict[str, Any] = {"credit_applied": invoice["credit_applied"] + used}
        if used == outstanding(invoice):
            changes |= {"status": InvoiceStatus.PAID, "paid_at": iso(at), "next_attempt_at": None}
        updated = tx.collection("invoices").update(invoice["id"], changes)
        if updated["status"] == InvoiceStatus.PAID:
            settled.append(updated)
    return settled
