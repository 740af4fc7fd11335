"""Taking money: scheduled collections with retries, payments on demand, transfers, refunds.

Every attempt is a ``payments`` document with an idempotency ``key``; an
attempt whose key exists already is not made again, so a billing run that
crashed after charging and is run again charges nothing twice (real gateways
get the same key too). A succeeded payment is a ledger entry; a failed one is
only a record.

Collection schedule for an invoice collected automatically (card or SEPA
with auto-pay): the first attempt when it is issued, then one attempt
``retry_days`` after its date for each entry of ``billing.retry_days``. When
the last one fails the subscription becomes past_due.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Literal

from app.billing import events, invoices, keys, ledger, lifecycle, methods
from app.billing.gateways import ChargeResult, Gateways
from app.billing.records import InvoiceStatus, PaymentStatus, SubscriptionStatus
from app.billing.rounding import scale
from app.config.models import MerchantConfig
from app.core.clock import iso, parse_iso
from app.core.ids import new_id
from app.core.money import Money
from app.outbox.notifications import record_mail
from app.store import WriteTransaction

PaymentType = Literal["charge", "transfer", "refund"]


def _record(
    tx: WriteTransaction,
    *,
    invoice: Mapping[str, Any],
    method: Mapping[str, Any] | None,
    type: PaymentType,
    amount: int,
    result: ChargeResult,
    key: str,
    at: datetime,
    attempt: int | None = None,
    refunds: str | None = None,
) -> dict[str, Any]:
    return tx.collection("payments").insert(
        {
            "id": new_id("pay"),
            "customer_id": invoice["customer_id"],
            "invoice_id": invoice["id"],
            "payment_method_id": method["id"] if method else None,
            "method": method["kind"] if method else None,
            "type": type,
            "amount": amount,
            "currency": invoice["currency"],
            "status": PaymentStatus.SUCCEEDED if result.succeeded else "failed",
            "failure_code": result.failure_code,
            "failure_message": result.failure_message,
            "reference": result.reference,
            "attempt": attempt,
            "refunded_payment_id": refunds,
            "key": key,
            "created_at": iso(at),
        }
    )


def _book(
    tx: WriteTransaction, invoice: Mapping[str, Any], payment: Mapping[str, Any], at: datetime
) -> dict[str, Any]:
    """A received payment: a ledger entry, and the invoice paid as far as it goes."""
    ledger.post(
        tx,
        customer_id=invoice["customer_id"],
        kind="payment",
        amount=-payment["amount"],
        currency=invoice["currency"],
        at=at,
        invoice_id=invoice["id"],
        payment_id=payment["id"],
    )
    applied = min(payment["amount"], ledger.outstanding(invoice))
    changes: dict[str, Any] = {"amount_paid": invoice["amount_paid"] + applied}
    if applied == ledger.outstanding(invoice):
        changes |= {"status": InvoiceStatus.PAID, "paid_at": iso(at), "next_attempt_at": None}
    updated = tx.collection("invoices").update(invoice["id"], changes)
    if updated["status"] == InvoiceStatus.PAID:
        events.invoice_event(tx, "invoice.paid", updated, at, payment_id=payment["id"])
    return updated


def charge(
    tx: WriteTransaction,
    gateways: Gateways,
    invoice: Mapping[str, Any],
    method: Mapping[str, Any],
    at: datetime,
    *,
    key: str,
    attempt: int | None = None,
) -> dict[str, Any]:
    """Charge what is outstanding on ``invoice`` to ``method`` (once per ``key``)."""
    earlier = tx.collection("payments").first(key=key)
    if earlier is not None:
        return earlier
    amount = ledger.outstanding(invoice)
    gateway = gateways.for_kind(method["kind"])
    result = gateway.charge(method, Money(amount, invoice["currency"]), key=key)
    payment = _record(
        tx,
        invoice=invoice,
        method=method,
        type="charge",
        amount=amount,
        result=result,
        key=key,
        at=at,
        attempt=attempt,
    )
    if result.succeeded:
        _book(tx, invoice, payment, at)
    else:
        events.invoice_event(
            tx,
            "invoice.payment_failed",
            invoice,
            at,
            payment_id=payment["id"],
            attempt=attempt,
            failure_code=payment["failure_code"],
        )
    return payment


def book_charge(
    tx: WriteTransaction,
    invoice: Mapping[str, Any],
    method: Mapping[str, Any],
    result: ChargeResult,
    amount: int,
    key: str,
    at: datetime,
) -> dict[str, Any]:
    """Record a charge made outside a billing transaction (at sign-up) as the first attempt."""
    payment = _record(
        tx,
        invoice=invoice,
        method=method,
        type="charge",
        amount=amount,
        result=result,
        key=key,
        at=at,
        attempt=1,
    )
    invoice = tx.collection("invoices").update(invoice["id"], {"attempts": 1})
    if result.succeeded:
        _book(tx, invoice, payment, at)
    return payment


def collect(
    tx: WriteTransaction,
    config: MerchantConfig,
    gateways: Gateways,
    invoice: Mapping[str, Any],
    at: datetime,
) -> dict[str, Any] | None:
    """The scheduled collection attempt of an invoice, with retries and mails.

    Returns the payment, or ``None`` when nothing can be collected
    automatically (no card or mandate, auto-pay off): the invoice then waits
    for the customer, like an invoice paid by transfer.
    """
    customer = tx.collection("customers").get(invoice["customer_id"])
    assert customer is not None
    method = methods.default_method(tx, customer)
    if ledger.outstanding(invoice) <= 0:
        return None
    if not methods.collects_automatically(customer, method):
        tx.collection("invoices").update(
            invoice["id"], {"collection": "manual", "next_attempt_at": None}
        )
        return None
    assert method is not None
    number = invoice["attempts"] + 1
    # An invoice billing issued has a key that a run done again after a crash gives it
    # again (its id is new then): the gateway sees the same key and charges only once.
    key = keys.collection(invoice, number)
    payment = charge(tx, gateways, invoice, method, at, key=key, attempt=number)
    if payment["status"] == PaymentStatus.SUCCEEDED:
        tx.collection("invoices").update(invoice["id"], {"attempts": number})
        if number > 1:
            record_mail(
                tx,
                "payment_succeeded",
                customer,
                at,
                _payment_data(invoice, payment),
                key=keys.mail("payment_succeeded", payment["id"]),
            )
    else:
        retry_days = config.billing.retry_days
        next_attempt = (
            parse_iso(invoice["due_at"]) + timedelta(days=retry_days[number - 1])
            if number <= len(retry_days)
            else None
        )
        tx.collection("invoices").update(
            invoice["id"],
            {
                "attempts": number,
                "next_attempt_at": iso(next_attempt) if next_attempt else None,
                "last_failure_code": payment["failure_code"],
            },
        )
        record_mail(
            tx,
            "payment_failed",
            customer,
            at,
            _payment_data(invoice, payment)
            | {
                "failure_code": payment["failure_code"],
                "next_attempt_at": iso(next_attempt) if next_attempt else None,
            },
            key=keys.mail("payment_failed", invoice["id"], str(number)),
        )
        if next_attempt is None:
            _past_due(tx, invoice, at)
    lifecycle.settle(tx, invoice["customer_id"], at)
    return payment


def _past_due(tx: WriteTransaction, invoice: Mapping[str, Any], at: datetime) -> None:
    subscription_id = invoice["subscription_id"]
    subscription = tx.collection("subscriptions").get(subscription_id) if subscription_id else None
    if subscription and subscription["status"] in (
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.TRIALING,
    ):
        updated = tx.collection("subscriptions").update(
            subscription["id"], lifecycle.transition(subscription, SubscriptionStatus.PAST_DUE, at)
        )
        events.subscription_changed(tx, subscription, updated, at)


def _payment_data(invoice: Mapping[str, Any], payment: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "invoice_id": invoice["id"],
        "number": invoice["number"],
        "amount": payment["amount"],
        "currency": invoice["currency"],
    }


def pay_now(
    tx: WriteTransaction,
    gateways: Gateways,
    invoice: Mapping[str, Any],
    method: Mapping[str, Any],
    at: datetime,
) -> dict[str, Any]:
    """The customer pays an outstanding invoice now (from the portal)."""
    tries = tx.collection("payments").count(invoice_id=invoice["id"], type="charge")
    payment = charge(tx, gateways, invoice, method, at, key=keys.pay_now(invoice["id"], tries + 1))
    lifecycle.settle(tx, invoice["customer_id"], at)
    customer = tx.collection("customers").get(invoice["customer_id"])
    if payment["status"] == PaymentStatus.SUCCEEDED and customer is not None:
        record_mail(  # the customer's receipt
            tx,
            "payment_succeeded",
            customer,
            at,
            _payment_data(invoice, payment),
            key=keys.mail("payment_succeeded", payment["id"]),
        )
    return payment


def book_confirmed(
    tx: WriteTransaction,
    invoice: Mapping[str, Any],
    method: Mapping[str, Any] | None,
    amount: int,
    reference: str,
    at: datetime,
) -> dict[str, Any]:
    """A payment the provider confirmed later (the customer passed a 3-D Secure challenge,
    a webhook reported it): booked once per ``reference``, however often it is reported."""
    key = keys.stripe_intent(reference)
    for earlier in tx.collection("payments").find(reference=reference):
        if earlier["status"] == PaymentStatus.SUCCEEDED and earlier["type"] == "charge":
            return earlier
    payment = _record(
        tx,
        invoice=invoice,
        method=method,
        type="charge",
        amount=amount,
        result=ChargeResult(True, reference),
        key=key,
        at=at,
    )
    _book(tx, invoice, payment, at)
    lifecycle.settle(tx, invoice["customer_id"], at)
    return payment


def record_transfer(
    tx: WriteTransaction, invoice: Mapping[str, Any], amount: int, reference: str, at: datetime
) -> dict[str, Any]:
    """A bank transfer the merchant received; more than is owed becomes credit."""
    if amount <= 0:
        raise ValueError("a received amount must be positive")
    payment = _record(
        tx,
        invoice=invoice,
        method=None,
        type="transfer",
        amount=amount,
        result=ChargeResult(True, reference),
        key=keys.transfer(invoice["id"], reference),
        at=at,
    )
    _book(tx, invoice, payment, at)
    lifecycle.settle(tx, invoice["customer_id"], at)
    return payment


def refund(
    tx: WriteTransaction,
    config: MerchantConfig,
    gateways: Gateways,
    payment: Mapping[str, Any],
    at: datetime,
    amount: int | None = None,
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """Pay (part of) a payment back to where it came from.

    Credit on the customer's account (from an overpayment or a credit note,
    e.g. after an immediate cancellation) is paid out first; only the rest
    corrects the invoice with a credit note. A full correction reverses the
    invoice's lines exactly; a partial one credits the same share of its lines,
    and what is paid back is the credit note's gross (which may differ from
    the share asked for by a minor unit of VAT rounding). Returns the credit
    note (if one was needed) and the refund.
    """
    if payment["type"] == "refund" or payment["status"] != PaymentStatus.SUCCEEDED:
        raise ValueError("only a succeeded payment can be refunded")
    invoice = tx.collection("invoices").get(payment["invoice_id"])
    customer = tx.collection("customers").get(payment["customer_id"])
    assert invoice is not None and customer is not None
    refunded = -sum(
        p["amount"] for p in tx.collection("payments").find(refunded_payment_id=payment["id"])
    )
    wanted = payment["amount"] - refunded if amount is None else amount
    if not 0 < wanted <= payment["amount"] - refunded:
        raise ValueError("a refund must be positive and at most what was paid and not refunded")
    from_credit = min(wanted, ledger.available_credit(tx, customer["id"]))
    correction = wanted - from_credit
    note = None
    paid_back = from_credit
    if correction:
        notes = tx.collection("invoices").find(related_invoice_id=invoice["id"], kind="credit_note")
        correctable = invoice["gross"] + sum(n["gross"] for n in notes)
        if correction > correctable:
            raise ValueError(
                f"invoice {invoice['number']} can be corrected by at most {correctable}"
            )
        basis = sum(line["amount"] for line in invoice["lines"])
        share = (
            basis
            if correction == invoice["gross"]
            else scale(basis, Fraction(correction, invoice["gross"]))
        )
        line = invoices.refund_line(invoice, share, invoice["language"])
        note_draft = invoices.draft(
            tx,
            config,
            customer,
            (line,),
            at,
            subscription_id=invoice["subscription_id"],
            use_credit=False,
            corrects=invoice,
        )
        metadata = {"related_invoice_number": invoice["number"]}
        note = invoices.issue(tx, config, replace(note_draft, metadata=metadata))
        paid_back -= note["gross"]
    method = (
        tx.collection("payment_methods").get(payment["payment_method_id"])
        if payment["payment_method_id"]
        else None
    )
    kind = method["kind"] if method else "invoice"
    key = keys.refund(payment["id"], refunded, paid_back)
    result = gateways.for_kind(kind).refund(payment, Money(paid_back, invoice["currency"]), key=key)
    if not result.succeeded:
        raise RuntimeError(f"the gateway refused the refund: {result.failure_message}")
    refund_payment = _record(
        tx,
        invoice=invoice,
        method=method,
        type="refund",
        amount=-paid_back,
        result=result,
        key=key,
        at=at,
        refunds=payment["id"],
    )
    ledger.post(
        tx,
        customer_id=invoice["customer_id"],
        kind="refund",
        amount=paid_back,
        currency=invoice["currency"],
        at=at,
        invoice_id=invoice["id"],
        payment_id=refund_payment["id"],
    )
    lifecycle.settle(tx, invoice["customer_id"], at)
    return note, refund_payment
