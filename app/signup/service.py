"""A valid order form becomes a customer, a subscription, its first invoice and consents.

Everything a sign-up writes is written in one store transaction, keyed by the
form token's nonce: a repeated submit of the same rendered form (double click,
browser retry, back-and-resubmit) returns the sign-up the first one created.

Payment happens *before* that transaction, so a refused payment leaves no
trace: the card or IBAN is tokenized (:class:`InvalidPaymentDetails` for a bad
number, expiry, CVC or IBAN), then a card or mandate is charged what the first
invoice asks (or, during a trial, verified without a charge), and a decline
raises :class:`PaymentDeclined` for the order page to show. The charge uses the
nonce as its idempotency key; should the transaction fail after it, the charge
is refunded. Only the token, brand, last four and expiry (or the masked IBAN
and its mandate) are stored.

Card or SEPA chosen without details (an order page that does not ask for them
yet) signs up without a stored method: the first invoice then waits to be paid
like an invoice paid by transfer, and the customer can add a method in the
portal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.billing import keys, methods, records
from app.billing.coupons import CouponInvalid
from app.billing.gateways import (
    Gateway,
    Gateways,
    InvalidPaymentDetails,
    PaymentDeclined,
    PaymentDetails,
    Tokenized,
    gateways_for,
)
from app.billing.gateways.stripe import ActionRequired
from app.config.models import MerchantConfig, Plan
from app.core.clock import iso
from app.core.ids import new_id
from app.core.money import Money
from app.outbox.events import emit
from app.outbox.notifications import invoice_attachment, mail_notification
from app.signup import billing
from app.store import Store, WriteTransaction

log = logging.getLogger(__name__)

__all__ = [
    "ConsentGiven",
    "CouponInvalid",
    "InvalidPaymentDetails",
    "PaymentDeclined",
    "SignupRequest",
    "SignupResult",
    "SignupService",
    "SignupSummary",
    "UnknownPlan",
    "iso",
    "mail_notification",
    "new_id",
]


@dataclass(frozen=True)
class ConsentGiven:
    name: str
    text: str  # the label exactly as shown, sanitized HTML
    language: str


@dataclass(frozen=True)
class SignupRequest:
    nonce: str
    plan_id: str
    values: Mapping[str, Any]  # the visible fields' stored values, "email" included
    language: str
    payment_method: str
    consents: tuple[ConsentGiven, ...] = ()
    coupon: str | None = None
    channel: str = "link"  # "link" or "embed"
    metadata: Mapping[str, str] = field(default_factory=dict)
    # CardDetails or SepaDetails for card / sepa_debit; never stored, never logged.
    payment_details: PaymentDetails | None = field(default=None, repr=False)


@dataclass(frozen=True)
class SignupResult:
    signup_id: str
    customer_id: str
    customer_number: str
    subscription_id: str
    plan_id: str
    created: bool  # False when this repeats an earlier submit of the same form
    invoice_id: str | None = None  # the first invoice; None during a trial


@dataclass(frozen=True)
class SignupSummary:
    """What the success page may show: enough to confirm the order, nothing more."""

    signup_id: str
    customer_number: str
    plan_id: str
    email: str
    status: str
    trial_end: str | None
    created_at: str


class UnknownPlan(ValueError):
    pass


@dataclass(frozen=True)
class _Payment:
    """The payment side of a sign-up, settled before anything is written."""

    gateway: Gateway
    tokenized: Tokenized | None
    paid: billing.PaidAtSignup | None


class SignupService:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        gateways: Callable[[MerchantConfig], Gateways] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.gateways = gateways or (lambda config: gateways_for(config.payments.gateway, clock))

    def sign_up(
        self, merchant: str, config: MerchantConfig, request: SignupRequest
    ) -> SignupResult:
        """Sign up, or return the earlier sign-up of the same form.

        Raises :class:`UnknownPlan`, :class:`CouponInvalid` (expired or used
        up since the page was shown), :class:`InvalidPaymentDetails` and
        :class:`PaymentDeclined`, each before anything is written.
        """
        plan = config.plan(request.plan_id)
        if plan is None or plan not in config.offered_plans:
            raise UnknownPlan(request.plan_id)
        if request.payment_method not in config.payments.methods:
            raise ValueError(f"payment method {request.payment_method!r} is not offered")
        now = self.clock()
        gateway = self.gateways(config).for_kind(request.payment_method)
        tokenized = None
        if request.payment_details is not None or not gateway.automatic:
            tokenized = gateway.tokenize(request.payment_details)
        paid = None
        if tokenized is not None and gateway.automatic:
            with self.store.read(merchant) as tx:
                earlier = tx.collection("signups").first(nonce=request.nonce)
                if earlier is not None:  # a repeated submit is never charged again
                    return _result(earlier, created=False)
                coupon = billing.redeemable(tx, config, request.coupon, plan.id, now)
                customer = billing.provisional_customer(request.values, request.language)
                due = billing.quote(tx, config, customer, plan, coupon, now).due_now
            confirmed = getattr(request.payment_details, "payment_intent", None)
            paid = self._charge(config, gateway, tokenized, due, request.nonce, confirmed)
        payment = _Payment(gateway, tokenized, paid)
        try:
            return self._write(merchant, config, request, plan, now, payment)
        except Exception:
            self._undo_charge(payment, config.merchant.currency, request.nonce)
            raise

    def _charge(
        self,
        config: MerchantConfig,
        gateway: Gateway,
        tokenized: Tokenized,
        due: int,
        nonce: str,
        confirmed: str | None = None,
    ) -> billing.PaidAtSignup:
        """Charge what the first invoice will ask, or verify the method when nothing is due.

        The customer is present: a bank's challenge raises :class:`ActionRequired` for the
        page to run, which sends back the ``confirmed`` PaymentIntent's id."""
        method = {"kind": tokenized.kind, "token": tokenized.token, **tokenized.details}
        key = keys.signup(nonce)
        if due > 0:
            live = method | {"customer_present": True}
            if confirmed:
                live["payment_intent"] = confirmed
            result = gateway.charge(live, Money(due, config.merchant.currency), key=key)
        else:
            result = gateway.verify(method)
        secret = getattr(gateway, "intent_secret", None)
        if result.failure_code == "authentication_required" and result.reference and secret:
            pending = secret(result.reference)
            if pending is not None:
                raise ActionRequired(pending)
        if not result.succeeded:
            raise PaymentDeclined(
                result.failure_code or "card_declined", result.failure_message or ""
            )
        return billing.PaidAtSignup(method, result, due, key)

    def _undo_charge(self, payment: _Payment, currency: str, nonce: str) -> None:
        """Give back a sign-up charge whose sign-up could not be stored."""
        paid = payment.paid
        if paid is None or paid.amount <= 0:
            return
        try:
            payment.gateway.refund(
                {"reference": paid.result.reference, "amount": paid.amount},
                Money(paid.amount, currency),
                key=keys.signup_undo(nonce),
            )
        except Exception:  # the original error matters more; this one is logged
            log.exception("refunding the sign-up charge %s failed", paid.result.reference)

    def _write(
        self,
        merchant: str,
        config: MerchantConfig,
        request: SignupRequest,
        plan: Plan,
        now: datetime,
        payment: _Payment,
    ) -> SignupResult:
        with self.store.write(merchant) as tx:
            earlier = tx.collection("signups").first(nonce=request.nonce)
            if earlier is not None:
                # A parallel submit of the same form won; the gateway saw the same key.
                return _result(earlier, created=False)
            coupon = billing.redeemable(tx, config, request.coupon, plan.id, now)
            customer = self._customer(tx, request, now)
            paid = payment.paid
            if payment.tokenized is not None:
                method = methods.store_method(tx, customer, payment.tokenized, now)
                customer = tx.collection("customers").get(customer["id"]) or customer
                if paid is not None:
                    paid = billing.PaidAtSignup(method, paid.result, paid.amount, paid.key)
            subscription, invoice = billing.start(tx, config, customer, plan, coupon, now, paid)
            for consent in request.consents:
                tx.collection("consents").insert(
                    {
                        "id": new_id("con"),
                        "customer_id": customer["id"],
                        "name": consent.name,
                        "text": consent.text,
                        "language": consent.language,
                        "given_at": iso(now),
                    }
                )
            tx.collection("outbox").insert(
                mail_notification(
                    "signup_confirmation",
                    customer,
                    now,
                    {
                        "plan_id": plan.id,
                        "status": subscription["status"],
                        "trial_end": subscription["trial_end"],
                        **_invoice_data(invoice),
                    },
                    attachments=[invoice_attachment(invoice)] if invoice else [],
                )
            )
            signup = tx.collection("signups").insert(
                {
                    "id": new_id("sig"),
                    "nonce": request.nonce,
                    "customer_id": customer["id"],
                    "customer_number": customer["number"],
                    "subscription_id": subscription["id"],
                    "plan_id": plan.id,
                    "invoice_id": invoice["id"] if invoice else None,
                    "channel": request.channel,
                    "created_at": iso(now),
                }
            )
            emit(tx, now, "signup.completed", _event_data(signup), customer_id=customer["id"])
        return _result(signup, created=True)

    def summary(self, merchant: str, signup_id: str) -> SignupSummary | None:
        with self.store.read(merchant) as tx:
            signup = tx.collection("signups").get(signup_id)
            if signup is None:
                return None
            customer = tx.collection("customers").get(signup["customer_id"])
            subscription = tx.collection("subscriptions").get(signup["subscription_id"])
        if customer is None or subscription is None:
            return None
        return SignupSummary(
            signup_id=signup["id"],
            customer_number=customer["number"],
            plan_id=subscription["plan_id"],
            email=customer["email"],
            status=subscription["status"],
            trial_end=subscription["trial_end"],
            created_at=signup["created_at"],
        )

    def _customer(self, tx: WriteTransaction, request: SignupRequest, now: datetime) -> dict:
        number = tx.next_number("customer")
        return tx.collection("customers").insert(
            {
                "id": new_id("cus"),
                "number": f"C-{number:06d}",
                "email": request.values["email"],
                "email_key": str(request.values["email"]).casefold(),
                "fields": dict(request.values),
                "language": request.language,
                "payment_method": request.payment_method,
                "default_payment_method_id": None,
                "auto_pay": True,
                "coupon": request.coupon,
                "created_at": iso(now),
            }
        )


def _invoice_data(invoice: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the confirmation mail says of the first invoice (attached as PDF)."""
    if invoice is None:
        return {"invoice_id": None}
    return {
        "invoice_id": invoice["id"],
        "invoice_number": invoice["number"],
        "gross": invoice["gross"],
        "amount_due": records.unpaid(invoice),
        "currency": invoice["currency"],
        "invoice_status": invoice["status"],
        "due_at": invoice["due_at"],
    }


def _event_data(signup: Mapping[str, Any]) -> dict[str, Any]:
    """The ``signup.completed`` webhook's data: ids and numbers, no personal data."""
    keys = ("customer_id", "customer_number", "subscription_id", "plan_id", "invoice_id", "channel")
    return {"signup_id": signup["id"]} | {key: signup[key] for key in keys}


def _result(signup: Mapping[str, Any], created: bool) -> SignupResult:
    return SignupResult(
        signup_id=signup["id"],
        customer_id=signup["customer_id"],
        customer_number=signup["customer_number"],
        subscription_id=signup["subscription_id"],
        plan_id=signup["plan_id"],
        created=created,
        invoice_id=signup.get("invoice_id"),
    )
