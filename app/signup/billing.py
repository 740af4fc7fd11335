"""Billing's part of a sign-up: the price summary before, the first invoice during.

The order page's sign-up charges (or, when nothing is due, verifies) the
payment method *before* it writes anything, so a declined card refuses the
sign-up and leaves no trace; :func:`start` then books that charge against the
first invoice inside the sign-up's transaction.

Without a trial the first invoice covers the setup fee and the first period,
less the coupon, with VAT. With a trial there is no invoice at sign-up, not
even for a setup fee: it is billed with the first period when the trial ends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.billing import coupons, events, invoices, payments, records, subscriptions
from app.billing.gateways import ChargeResult
from app.billing.invoices import InvoiceDraft
from app.billing.records import SubscriptionStatus
from app.config.models import Coupon, MerchantConfig, Plan
from app.core.clock import parse_iso
from app.store import ReadTransaction, WriteTransaction


@dataclass(frozen=True)
class SignupQuote:
    """The price summary of the order page for one plan, coupon and buyer."""

    plan_id: str
    coupon: Coupon | None
    trial_end: datetime | None
    invoice: InvoiceDraft | None  # due at sign-up; None during a trial
    next_invoice: InvoiceDraft | None  # the first regular bill after that

    @property
    def due_now(self) -> int:
        return self.invoice.amount_due if self.invoice else 0


@dataclass(frozen=True)
class PaidAtSignup:
    """A charge made before the sign-up's transaction, to be booked inside it."""

    method: Mapping[str, Any]
    result: ChargeResult
    amount: int
    key: str


def redeemable(
    tx: ReadTransaction, config: MerchantConfig, code: str | None, plan_id: str, at: datetime
) -> Coupon | None:
    """The coupon for ``code`` if it can be redeemed now (else :class:`CouponInvalid`)."""
    if not code:
        return None
    today = at.astimezone(ZoneInfo(config.merchant.timezone)).date()
    coupon = config.coupon(code)
    used = coupons.redemptions(tx, coupon.code) if coupon else 0
    return coupons.check(config, code, plan_id, today, used)


def provisional_customer(fields: Mapping[str, Any], language: str) -> dict[str, Any]:
    """A customer not stored yet, enough to price an order."""
    return {
        "id": "",
        "number": "",
        "email": str(fields.get("email", "")),
        "fields": dict(fields),
        "language": language,
        "auto_pay": True,
    }


def quote(
    tx: ReadTransaction,
    config: MerchantConfig,
    customer: Mapping[str, Any],
    plan: Plan,
    coupon: Coupon | None,
    at: datetime,
) -> SignupQuote:
    """What signing up for ``plan`` costs now and at the first regular bill."""
    subscription = subscriptions.new_subscription(config, plan, customer["id"], coupon, at)
    if subscription["status"] == SubscriptionStatus.TRIALING:
        first = subscriptions.renewal(
            tx, config, subscription, customer, parse_iso(subscription["current_period_end"])
        )
        return SignupQuote(
            plan.id, coupon, parse_iso(subscription["trial_end"]), None, first.invoice
        )
    start = subscriptions.renewal(tx, config, subscription, customer, at)
    after = {**subscription, **start.changes}
    upcoming = subscriptions.next_bill(tx, config, after, customer, credit=0)
    return SignupQuote(plan.id, coupon, None, start.invoice, upcoming)


def start(
    tx: WriteTransaction,
    config: MerchantConfig,
    customer: Mapping[str, Any],
    plan: Plan,
    coupon: Coupon | None,
    at: datetime,
    paid: PaidAtSignup | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Store the subscription and issue its first invoice; book a charge made for it."""
    subscription = subscriptions.new_subscription(config, plan, customer["id"], coupon, at)
    invoice = None
    if subscription["status"] == SubscriptionStatus.ACTIVE:
        first = subscriptions.renewal(tx, config, subscription, customer, at)
        subscription |= first.changes
        if first.invoice is not None:
            invoice = invoices.issue(tx, config, first.invoice)
    subscription = tx.collection("subscriptions").insert(subscription)
    events.subscription_event(tx, "subscription.created", subscription, at)
    if paid is not None and paid.result.succeeded and paid.amount > 0:
        if invoice is None or records.amount_due(invoice) != paid.amount:
            raise RuntimeError("the amount charged at sign-up differs from the first invoice")
        payments.book_charge(tx, invoice, paid.method, paid.result, paid.amount, paid.key, at)
        invoice = tx.collection("invoices").get(invoice["id"])
    return subscription, invoice
