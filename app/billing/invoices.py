"""Invoices and credit notes: drafted from lines, then issued with a gapless number.

A draft (:class:`InvoiceDraft`) holds everything an invoice will say: lines,
tax decision, totals, the credit it uses. Dry runs return drafts; issuing
writes the same draft, so a preview and the invoice it announces agree to the
minor unit. A draft whose total is negative becomes a *credit note* (kind
``credit_note``): it shares the invoice number series and puts its amount on
the customer's account as credit.

Line amounts are signed (positive: the customer owes) and are in the price
basis of the merchant: net, or gross when ``prices_include_tax``. VAT is
computed once, on the invoice's sum (:func:`app.billing.tax.totals`).

Numbers are ``invoice_prefix`` with ``{year}`` filled in (the issue year in
the merchant's time zone) followed by six digits, e.g. ``ACME-2026-000042``.
Each distinct prefix is its own gapless store sequence, so a ``{year}`` prefix
starts at 000001 every year and a prefix without it counts on forever.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.numbers import format_percent

from app.billing import events, ledger, methods
from app.billing.parties import Party, buyer_of, seller_of
from app.billing.records import InvoiceStatus
from app.billing.tax import TaxDecision, Totals, decide, totals
from app.config.models import MerchantConfig
from app.core.clock import iso, parse_iso
from app.core.i18n import translations
from app.core.ids import new_id
from app.store import ReadTransaction, WriteTransaction
from forms import localize

LineKind = Literal[
    "plan", "setup_fee", "discount", "proration_credit", "proration_charge", "credit", "refund"
]


@dataclass(frozen=True)
class Line:
    kind: LineKind
    description: str
    amount: int
    plan_id: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "amount": self.amount,
            "plan_id": self.plan_id,
            "period_start": iso(self.period_start) if self.period_start else None,
            "period_end": iso(self.period_end) if self.period_end else None,
        }


@dataclass(frozen=True)
class InvoiceDraft:
    """An invoice or credit note as it will be issued, without its number."""

    customer_id: str
    subscription_id: str | None
    currency: str
    language: str
    lines: tuple[Line, ...]
    tax: TaxDecision
    totals: Totals
    credit_applied: int
    issued_at: datetime
    due_at: datetime
    collection: Literal["auto", "manual"]
    payment_method: Mapping[str, Any]
    seller: Party
    buyer: Party
    key: str | None = None
    related_invoice_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> Literal["invoice", "credit_note"]:
        return "credit_note" if self.totals.gross < 0 else "invoice"

    @property
    def amount_due(self) -> int:
        """What the customer still has to pay once credit is used (0 for credit notes)."""
        return max(0, self.totals.gross - self.credit_applied)

    @property
    def service_start(self) -> datetime | None:
        starts = [line.period_start for line in self.lines if line.period_start]
        return min(starts) if starts else None

    @property
    def service_end(self) -> datetime | None:
        ends = [line.period_end for line in self.lines if line.period_end]
        return max(ends) if ends else None


def invoice_language(config: MerchantConfig, customer: Mapping[str, Any]) -> str:
    language = customer.get("language")
    return language if language in config.languages else config.default_language


def plan_name(config: MerchantConfig, plan_id: str, language: str) -> str:
    plan = config.plan(plan_id)
    return localize(plan.name, language, config.default_language) if plan else plan_id


def draft(
    tx: ReadTransaction,
    config: MerchantConfig,
    customer: Mapping[str, Any],
    lines: tuple[Line, ...],
    at: datetime,
    *,
    subscription_id: str | None,
    key: str | None = None,
    related_invoice_id: str | None = None,
    use_credit: bool = True,
    corrects: Mapping[str, Any] | None = None,
) -> InvoiceDraft:
    """The invoice (or credit note) these lines make for ``customer`` at ``at``.

    The buyer's current details decide the tax, except for a credit note that
    ``corrects`` an invoice: it keeps that invoice's buyer and VAT. Available
    credit is used unless ``use_credit`` is false.
    """
    seller = seller_of(config)
    if corrects is not None:
        buyer = Party.from_snapshot(corrects["buyer"])
        decision = TaxDecision(
            Decimal(corrects["tax_rate"]),
            corrects["prices_include_tax"],
            corrects["tax_scheme"],
            corrects["tax_country"],
        )
        related_invoice_id = corrects["id"]
    else:
        buyer = buyer_of(customer, config.merchant.address.country)
        decision = decide(config.billing.tax, seller.country, buyer)
    sums = totals(sum(line.amount for line in lines), decision)
    credit = ledger.available_credit(tx, customer["id"]) if use_credit and sums.gross > 0 else 0
    method = methods.default_method(tx, customer)
    automatic = methods.collects_automatically(customer, method)
    terms = timedelta(days=0 if automatic else config.billing.payment_terms_days)
    return InvoiceDraft(
        customer_id=customer["id"],
        subscription_id=subscription_id,
        currency=config.merchant.currency,
        language=invoice_language(config, customer),
        lines=lines,
        tax=decision,
        totals=sums,
        credit_applied=min(credit, sums.gross) if sums.gross > 0 else 0,
        issued_at=at,
        due_at=at + terms,
        collection="auto" if automatic else "manual",
        payment_method=methods.public_view(method),
        seller=seller,
        buyer=buyer,
        key=key,
        related_invoice_id=related_invoice_id,
    )


def invoice_number(tx: WriteTransaction, config: MerchantConfig, issued_at: datetime) -> str:
    """The next number of the merchant's series for the issue year (merchant time)."""
    year = issued_at.astimezone(ZoneInfo(config.merchant.timezone)).year
    prefix = config.billing.invoice_prefix.format(year=year)
    return f"{prefix}{tx.next_number('invoice:' + prefix):06d}"


def issue(tx: WriteTransaction, config: MerchantConfig, invoice: InvoiceDraft) -> dict[str, Any]:
    """Number, store and book a draft. The caller settles the account afterwards
    (:func:`app.billing.lifecycle.settle`)."""
    if invoice.key is not None:
        earlier = tx.collection("invoices").first(key=invoice.key)
        if earlier is not None:
            return earlier
    credit_note = invoice.kind == "credit_note"
    settled = not credit_note and invoice.amount_due == 0
    document = tx.collection("invoices").insert(
        {
            "id": new_id("inv"),
            "number": invoice_number(tx, config, invoice.issued_at),
            "kind": invoice.kind,
            "status": InvoiceStatus.ISSUED
            if credit_note
            else InvoiceStatus.PAID
            if settled
            else InvoiceStatus.OPEN,
            "customer_id": invoice.customer_id,
            "customer_number": invoice.buyer.customer_number,
            "subscription_id": invoice.subscription_id,
            "currency": invoice.currency,
            "language": invoice.language,
            "issued_at": iso(invoice.issued_at),
            "due_at": iso(invoice.due_at),
            "service_start": iso(invoice.service_start) if invoice.service_start else None,
            "service_end": iso(invoice.service_end) if invoice.service_end else None,
            "seller": invoice.seller.snapshot(),
            "buyer": invoice.buyer.snapshot(),
            "lines": [line.to_document() for line in invoice.lines],
            "tax_rate": str(invoice.tax.rate),
            "tax_scheme": invoice.tax.scheme,
            "tax_country": invoice.tax.country,
            "prices_include_tax": invoice.tax.inclusive,
            "net": invoice.totals.net,
            "tax": invoice.totals.tax,
            "gross": invoice.totals.gross,
            "credit_applied": invoice.credit_applied,
            "amount_paid": 0,
            "collection": invoice.collection,
            "payment_method": dict(invoice.payment_method),
            "attempts": 0,
            "next_attempt_at": iso(invoice.issued_at)
            if invoice.collection == "auto" and not settled and not credit_note
            else None,
            "reminded_at": None,
            "paid_at": iso(invoice.issued_at) if settled else None,
            "voided_at": None,
            "related_invoice_id": invoice.related_invoice_id,
            "key": invoice.key,
            **dict(invoice.metadata),
        }
    )
    ledger.post(
        tx,
        customer_id=invoice.customer_id,
        kind="credit_note" if credit_note else "invoice",
        amount=invoice.totals.gross,
        currency=invoice.currency,
        at=invoice.issued_at,
        invoice_id=document["id"],
    )
    events.invoice_event(tx, "invoice.issued", document, invoice.issued_at)
    if settled:
        events.invoice_event(tx, "invoice.paid", document, invoice.issued_at)
    return document


def void(tx: WriteTransaction, invoice: Mapping[str, Any], at: datetime) -> dict[str, Any]:
    """Cancel an open invoice nothing was paid on; credit it used becomes available again."""
    if (
        invoice["kind"] != "invoice"
        or invoice["status"] != InvoiceStatus.OPEN
        or invoice["amount_paid"]
    ):
        raise ValueError(f"invoice {invoice['number']} cannot be voided ({invoice['status']})")
    ledger.post(
        tx,
        customer_id=invoice["customer_id"],
        kind="void",
        amount=-invoice["gross"],
        currency=invoice["currency"],
        at=at,
        invoice_id=invoice["id"],
    )
    return tx.collection("invoices").update(
        invoice["id"], {"status": InvoiceStatus.VOID, "voided_at": iso(at), "next_attempt_at": None}
    )


def mark_uncollectible(tx: WriteTransaction, invoice: Mapping[str, Any]) -> dict[str, Any]:
    """Stop collecting; the amount stays owed (it still counts in the balance)."""
    return tx.collection("invoices").update(
        invoice["id"], {"status": InvoiceStatus.UNCOLLECTIBLE, "next_attempt_at": None}
    )


# Lines, described in the invoice's language --------------------------------------------


def plan_line(
    config: MerchantConfig,
    plan_id: str,
    amount: int,
    start: datetime,
    end: datetime,
    language: str,
) -> Line:
    return Line("plan", plan_name(config, plan_id, language), amount, plan_id, start, end)


def setup_fee_line(config: MerchantConfig, plan_id: str, amount: int, language: str) -> Line:
    t = translations(language)
    name = plan_name(config, plan_id, language)
    return Line("setup_fee", t.gettext("Setup fee: %(plan)s") % {"plan": name}, amount, plan_id)


def discount_line(coupon: Mapping[str, Any], amount: int, language: str) -> Line:
    t = translations(language)
    if coupon["percent_off"] is not None:
        rate = format_percent(
            Decimal(coupon["percent_off"]) / 100, locale=language, decimal_quantization=False
        )
        text = t.gettext("Discount %(code)s (%(rate)s)") % {"code": coupon["code"], "rate": rate}
    else:
        text = t.gettext("Discount %(code)s") % {"code": coupon["code"]}
    return Line("discount", text, -amount)


def proration_lines(
    config: MerchantConfig,
    *,
    old_plan_id: str,
    credit: int,
    new_plan_id: str | None,
    charge: int,
    at: datetime,
    old_end: datetime,
    new_end: datetime | None,
    language: str,
) -> tuple[Line, ...]:
    """The credit for unused time on the old plan and the charge for the new one."""
    t = translations(language)
    lines = []
    if credit:
        old = plan_name(config, old_plan_id, language)
        text = t.gettext("Unused time on %(plan)s") % {"plan": old}
        lines.append(Line("proration_credit", text, -credit, old_plan_id, at, old_end))
    if new_plan_id is not None and charge:
        new = plan_name(config, new_plan_id, language)
        text = t.gettext("Remaining time on %(plan)s") % {"plan": new}
        lines.append(Line("proration_charge", text, charge, new_plan_id, at, new_end))
    return tuple(lines)


def credit_line(reason: str, amount: int) -> Line:
    return Line("credit", reason, -amount)


def refund_line(invoice: Mapping[str, Any], amount: int, language: str) -> Line:
    t = translations(language)
    text = t.gettext("Refund for invoice %(number)s") % {"number": invoice["number"]}
    start = parse_iso(invoice["service_start"]) if invoice.get("service_start") else None
    end = parse_iso(invoice["service_end"]) if invoice.get("service_end") else None
    return Line("refund", text, -amount, None, start, end)
