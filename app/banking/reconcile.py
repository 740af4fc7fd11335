"""Matching a statement's credits to open invoices, recording payments and refunds.

A credit is matched by the invoice numbers named in its remittance text (spaces,
dashes and case do not matter; a one-character typo only when exactly one open
invoice has that number within one edit *and* exactly the credited amount
outstanding), else by a customer number named there (that customer's open
invoices, oldest first). Nothing is matched on the amount alone: what cannot be
matched is kept as ``unmatched`` for the merchant. Each entry is stored in
``bank_entries`` under the bank's reference, so importing the same file again
records nothing.

Every payment writes a receipt mail (``payment_succeeded``, in the customer's
language) and an audit entry in the transaction that records it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.banking.statements import Entry
from app.billing import keys, ledger, payments
from app.billing.base import BillingBase, NotFoundError
from app.billing.records import OUTSTANDING_STATUSES, InvoiceKind, PaymentStatus
from app.config.models import MerchantConfig
from app.core.clock import iso
from app.core.ids import new_id
from app.outbox.notifications import record_mail
from app.portal.documents import audit
from app.store import ReadTransaction, WriteTransaction

MERCHANT_CLI = "merchant cli"
PAID, PARTLY, OVER, UNMATCHED, ALREADY = "paid", "partly", "over", "unmatched", "already"


@dataclass
class Outcome:
    entry: Entry
    status: str
    invoices: list[str] = field(default_factory=list)
    credit: int = 0  # the excess left on the customer's account
    reason: str = ""


@dataclass
class ImportReport:
    outcomes: list[Outcome] = field(default_factory=list)
    debits: int = 0
    unmatched_before: list[dict[str, Any]] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def _normal(text: str) -> str:
    return re.sub(r"[^0-9A-Z]", "", text.upper())


def _pattern(number: str) -> re.Pattern[str]:
    """``number`` in a text with any spacing or punctuation between its characters."""
    chars = _normal(number)
    body = r"[\s\-_/.]*".join(re.escape(char) for char in chars)
    before = "0-9" if chars[:1].isdigit() else "A-Z"
    return re.compile(rf"(?<![{before}]){body}(?![0-9])", re.IGNORECASE)


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _typo_windows(text: str, length: int) -> set[str]:
    """Every run of ``length``±1 letters and digits of the text's words (joined)."""
    normal = _normal(text)
    return {
        normal[start : start + size]
        for size in (length - 1, length, length + 1)
        for start in range(0, max(0, len(normal) - size) + 1)
        if size > 0
    }


def open_invoices(tx: ReadTransaction) -> list[dict[str, Any]]:
    found = [
        invoice
        for status in OUTSTANDING_STATUSES
        for invoice in tx.collection("invoices").find(status=str(status))
        if invoice["kind"] == InvoiceKind.INVOICE and ledger.outstanding(invoice) > 0
    ]
    return sorted(found, key=lambda invoice: (invoice["issued_at"] or "", invoice["number"]))


def match(
    text: str, amount: int, invoices: Sequence[Mapping[str, Any]], customers: Iterable[Mapping]
) -> tuple[list[Mapping[str, Any]], str]:
    """The open invoices a credit pays, in the order the text names them, and how."""
    named: list[tuple[int, Mapping[str, Any]]] = []
    for invoice in invoices:
        found = _pattern(invoice["number"]).search(text)
        if found:
            named.append((found.start(), invoice))
    if named:
        return [invoice for _, invoice in sorted(named, key=lambda pair: pair[0])], "number"
    for customer in customers:
        if customer.get("number") and _pattern(customer["number"]).search(text):
            theirs = [i for i in invoices if i["customer_id"] == customer["id"]]
            if theirs:
                return theirs, "customer"
    candidates = []
    for invoice in invoices:
        if ledger.outstanding(invoice) != amount:
            continue
        number = _normal(invoice["number"])
        if any(_within_one_edit(window, number) for window in _typo_windows(text, len(number))):
            candidates.append(invoice)
    if len(candidates) == 1:
        return candidates, "typo"
    return [], "ambiguous typo" if candidates else "no invoice or customer number"


class BankTransfers(BillingBase):
    """Statement import, payments recorded by hand, and refunds for one merchant."""

    def import_entries(
        self, merchant: str, config: MerchantConfig, entries: Iterable[Entry]
    ) -> ImportReport:
        report = ImportReport()
        currency = config.merchant.currency
        now = self.clock()
        with self.store.write(merchant) as tx:
            report.unmatched_before = tx.collection("bank_entries").find(status=UNMATCHED)
            for entry in entries:
                if not entry.credit:
                    report.debits += 1
                    continue
                key = keys.bank_entry(entry.reference)
                if tx.collection("bank_entries").first(key=key) is not None:
                    report.outcomes.append(Outcome(entry, ALREADY))
                    continue
                if entry.currency != currency:
                    outcome = Outcome(entry, UNMATCHED, reason=f"currency {entry.currency}")
                else:
                    outcome = self._apply(tx, entry, now)
                report.outcomes.append(outcome)
                tx.collection("bank_entries").insert(
                    {
                        "id": new_id("bnk"),
                        "key": key,
                        "reference": entry.reference,
                        "booked": entry.booked.isoformat() if entry.booked else None,
                        "amount": entry.amount,
                        "currency": entry.currency,
                        "text": entry.text,
                        "payer": entry.payer,
                        "status": outcome.status,
                        "reason": outcome.reason,
                        "invoices": outcome.invoices,
                        "imported_at": iso(now),
                    }
                )
        return report

    def _apply(self, tx: WriteTransaction, entry: Entry, now: datetime) -> Outcome:
        invoices = open_invoices(tx)
        customers = tx.collection("customers").all()
        chosen, how = match(entry.text, entry.amount, invoices, customers)
        if not chosen:
            return Outcome(entry, UNMATCHED, reason=how)
        owed = sum(ledger.outstanding(invoice) for invoice in chosen)
        remaining = entry.amount
        paid: list[str] = []
        for position, invoice in enumerate(chosen):
            if remaining <= 0:
                break
            current = tx.collection("invoices").get(invoice["id"]) or invoice
            last = position == len(chosen) - 1
            share = remaining if last else min(remaining, ledger.outstanding(current))
            if share <= 0:
                continue
            self._pay(tx, current, share, entry.reference, now, f"bank statement ({how})")
            paid.append(current["number"])
            remaining -= share
        status = PAID if entry.amount == owed else PARTLY if entry.amount < owed else OVER
        return Outcome(entry, status, paid, credit=max(0, entry.amount - owed), reason=how)

    def _pay(
        self,
        tx: WriteTransaction,
        invoice: Mapping[str, Any],
        amount: int,
        reference: str,
        at: datetime,
        source: str,
    ) -> dict[str, Any]:
        before = _state(invoice)
        payment = payments.record_transfer(tx, invoice, amount, reference, at)
        after = tx.collection("invoices").get(invoice["id"]) or invoice
        customer = tx.collection("customers").get(invoice["customer_id"])
        assert customer is not None
        record_mail(
            tx,
            "payment_succeeded",
            customer,
            at,
            {
                "invoice_id": invoice["id"],
                "number": invoice["number"],
                "amount": amount,
                "amount_due": ledger.outstanding(after) or None,
                "currency": invoice["currency"],
            },
            key=keys.mail("payment_succeeded", payment["id"]),
        )
        audit(
            tx,
            at,
            "payment.recorded",
            actor=MERCHANT_CLI,
            customer_id=invoice["customer_id"],
            before=before,
            after=_state(after)
            | {"payment_id": payment["id"], "amount": amount, "reference": reference}
            | {"source": source},
        )
        return payment

    def record(
        self,
        merchant: str,
        config: MerchantConfig,
        number: str,
        amount: int,
        reference: str | None,
        at: datetime | None = None,
    ) -> dict[str, Any]:
        """A transfer the merchant received for invoice ``number`` (``NotFoundError``,
        ``ValueError`` change nothing)."""
        if amount <= 0:
            raise ValueError("the amount must be positive")
        moment = at or self.clock()
        with self.store.write(merchant) as tx:
            invoice = tx.collection("invoices").first(number=number)
            if invoice is None or invoice["kind"] != InvoiceKind.INVOICE:
                raise NotFoundError(number)
            if invoice["currency"] != config.merchant.currency:
                raise ValueError(f"invoice {number} is not in {config.merchant.currency}")
            if ledger.outstanding(invoice) <= 0:
                raise ValueError(f"invoice {number} has nothing outstanding")
            ref = reference or f"manual:{new_id('rcv')}"
            if tx.collection("payments").first(key=keys.transfer(invoice["id"], ref)):
                raise ValueError(f"a payment with reference {ref!r} is recorded already")
            return self._pay(tx, invoice, amount, ref, moment, "recorded by hand")

    def refund(
        self, merchant: str, config: MerchantConfig, number: str, amount: int | None = None
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Refund the latest payment of invoice ``number`` (default: all of it not refunded
        yet) through the provider that took it; a transfer's refund is recorded as owed
        (``payout: "owed"``): the merchant pays it back by bank."""
        now = self.clock()
        with self.store.write(merchant) as tx:
            invoice = tx.collection("invoices").first(number=number)
            if invoice is None or invoice["kind"] != InvoiceKind.INVOICE:
                raise NotFoundError(number)
            taken = [
                p
                for p in tx.collection("payments").find(invoice_id=invoice["id"])
                if p["type"] in ("charge", "transfer") and p["status"] == PaymentStatus.SUCCEEDED
            ]
            refundable = [(p, p["amount"] - _refunded(tx, p)) for p in taken]
            refundable = [(p, left) for p, left in refundable if left > 0]
            if not refundable:
                raise ValueError(f"invoice {number} has no payment left to refund")
            payment = sorted(refundable, key=lambda pair: pair[0]["created_at"])[-1][0]
            before = _state(invoice)
            note, refund = payments.refund(
                tx, config, self.gateways(config), payment, now, amount if amount else None
            )
            if payment["type"] == "transfer":
                refund = tx.collection("payments").update(refund["id"], {"payout": "owed"})
            after = tx.collection("invoices").get(invoice["id"]) or invoice
            audit(
                tx,
                now,
                "payment.refunded",
                actor=MERCHANT_CLI,
                customer_id=invoice["customer_id"],
                before=before,
                after=_state(after)
                | {
                    "payment_id": payment["id"],
                    "refund_id": refund["id"],
                    "amount": -refund["amount"],
                    "credit_note": note["number"] if note else None,
                    "payout": refund.get("payout") or payment["type"],
                },
            )
            return note, refund

    def unmatched(self, merchant: str) -> list[dict[str, Any]]:
        with self.store.read(merchant) as tx:
            return tx.collection("bank_entries").find(status=UNMATCHED)


def _refunded(tx: ReadTransaction, payment: Mapping[str, Any]) -> int:
    return -sum(
        p["amount"] for p in tx.collection("payments").find(refunded_payment_id=payment["id"])
    )


def _state(invoice: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "number": invoice["number"],
        "status": invoice["status"],
        "amount_paid": invoice["amount_paid"],
        "outstanding": ledger.outstanding(invoice),
    }
