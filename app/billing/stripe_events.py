"""Stripe's webhook events for one merchant, each applied once, every money change audited.

The web adapter verifies the signature (and Stripe's timestamp tolerance refuses
an old replay); this service keeps every applied event id in
``provider_events``, so the same event delivered again changes nothing. Each
event is matched to Portico's payments by the PaymentIntent (or charge) id the
payment was recorded with (``reference``):

- ``payment_intent.succeeded``: a payment Portico has not booked yet (a 3-D Secure
  challenge passed in a page that was closed before it reported back) is booked;
- ``payment_intent.payment_failed``: recorded (the collection that made the intent
  already recorded the failure and mailed the customer);
- ``charge.refunded``: a refund made in Stripe's dashboard is recorded like one made
  with ``portico refund`` (credit note, ledger), without asking Stripe again;
- ``charge.dispute.created``: the payment is marked disputed;
- ``setup_intent.succeeded``: recorded (the page that confirmed it stored the card).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from app.billing import ledger, payments
from app.billing.base import BillingBase
from app.billing.gateways.base import ChargeResult, PaymentKind
from app.billing.records import PaymentStatus
from app.config.models import MerchantConfig
from app.core.clock import iso
from app.core.ids import new_id
from app.core.money import Money
from app.store import WriteTransaction

ACTOR = "stripe"
HANDLED = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "setup_intent.succeeded",
)


def _id(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(value.get("id")) if isinstance(value, Mapping) else None


def _audit(
    tx: WriteTransaction,
    at: datetime,
    action: str,
    customer_id: str | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    tx.collection("audit").insert(
        {
            "id": new_id("aud"),
            "at": iso(at),
            "action": action,
            "actor": ACTOR,
            "customer_id": customer_id,
            "before": dict(before) if before is not None else None,
            "after": dict(after) if after is not None else None,
        }
    )


class _AlreadyRefunded:
    """A card gateway that only reports a refund Stripe already made (from the dashboard)."""

    name = "stripe"
    kind: PaymentKind = "card"
    automatic = True

    def __init__(self, reference: str) -> None:
        self.reference = reference

    def tokenize(self, details: Any) -> Any:
        raise NotImplementedError

    def verify(self, method: Mapping[str, Any]) -> ChargeResult:
        raise NotImplementedError

    def charge(self, method: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        raise NotImplementedError

    def refund(self, payment: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        return ChargeResult(True, self.reference)


class StripeEvents(BillingBase):
    def apply(self, merchant: str, config: MerchantConfig, event: Mapping[str, Any]) -> str:
        """Apply a verified event: ``applied``, ``ignored`` (nothing of Portico's) or
        ``duplicate`` (seen before: nothing changes)."""
        event_id = str(event.get("id") or "")
        kind = str(event.get("type") or "")
        data = (event.get("data") or {}).get("object") or {}
        with self.store.write(merchant) as tx:
            events = tx.collection("provider_events")
            if not event_id or events.first(provider="stripe", event_id=event_id) is not None:
                return "duplicate"
            now = self.clock()
            outcome = "ignored"
            if kind in HANDLED:
                outcome = getattr(self, "_" + kind.replace(".", "_"))(tx, config, data, now)
            events.insert(
                {
                    "id": new_id("pev"),
                    "provider": "stripe",
                    "event_id": event_id,
                    "type": kind,
                    "object_id": _id(data),
                    "outcome": outcome,
                    "received_at": iso(now),
                }
            )
            return outcome

    def _payment_intent_succeeded(
        self, tx: WriteTransaction, config: MerchantConfig, intent: Mapping[str, Any], at: datetime
    ) -> str:
        recorded = tx.collection("payments").find(reference=_id(intent))
        if not recorded or any(
            p["status"] == PaymentStatus.SUCCEEDED and p["type"] == "charge" for p in recorded
        ):
            return "ignored"  # not Portico's, or booked already
        attempt = recorded[-1]
        invoice = tx.collection("invoices").get(attempt["invoice_id"])
        if invoice is None or ledger.outstanding(invoice) <= 0:
            return "ignored"
        method = (
            tx.collection("payment_methods").get(attempt["payment_method_id"])
            if attempt["payment_method_id"]
            else None
        )
        before = _invoice_state(invoice)
        amount = min(
            int(intent.get("amount_received") or intent.get("amount") or 0),
            ledger.outstanding(invoice),
        )
        payment = payments.book_confirmed(tx, invoice, method, amount, str(_id(intent)), at)
        after = tx.collection("invoices").get(invoice["id"]) or invoice
        _audit(
            tx,
            at,
            "payment.stripe_succeeded",
            invoice["customer_id"],
            before,
            _invoice_state(after) | {"payment_id": payment["id"], "reference": _id(intent)},
        )
        return "applied"

    def _payment_intent_payment_failed(
        self, tx: WriteTransaction, config: MerchantConfig, intent: Mapping[str, Any], at: datetime
    ) -> str:
        recorded = tx.collection("payments").find(reference=_id(intent))
        if not recorded:
            return "ignored"
        error = intent.get("last_payment_error") or {}
        _audit(
            tx,
            at,
            "payment.stripe_failed",
            recorded[-1]["customer_id"],
            None,
            {"reference": _id(intent), "failure_code": error.get("code")},
        )
        return "applied"

    def _charge_refunded(
        self, tx: WriteTransaction, config: MerchantConfig, charge: Mapping[str, Any], at: datetime
    ) -> str:
        payment = self._payment_of_charge(tx, charge)
        if payment is None:
            return "ignored"
        refunded = -sum(
            p["amount"] for p in tx.collection("payments").find(refunded_payment_id=payment["id"])
        )
        missing = min(int(charge.get("amount_refunded") or 0), payment["amount"]) - refunded
        if missing <= 0:
            return "ignored"  # refunded through Portico, which recorded it already
        refunds = (charge.get("refunds") or {}).get("data") or []
        reference = _id(refunds[0]) if refunds else None
        gateways = replace(
            self.gateways(config), card=_AlreadyRefunded(reference or f"{_id(charge)}:refund")
        )
        note, refund = payments.refund(tx, config, gateways, payment, at, amount=missing)
        _audit(
            tx,
            at,
            "payment.stripe_refunded",
            payment["customer_id"],
            {"payment_id": payment["id"], "refunded": refunded},
            {
                "payment_id": payment["id"],
                "refunded": refunded + missing,
                "refund_id": refund["id"],
                "credit_note": note["number"] if note else None,
            },
        )
        return "applied"

    def _charge_dispute_created(
        self, tx: WriteTransaction, config: MerchantConfig, dispute: Mapping[str, Any], at: datetime
    ) -> str:
        payment = self._payment_of_charge(
            tx, {"id": _id(dispute.get("charge")), "payment_intent": dispute.get("payment_intent")}
        )
        if payment is None or payment.get("dispute_id"):
            return "ignored"
        tx.collection("payments").update(
            payment["id"], {"dispute_id": _id(dispute), "disputed_at": iso(at)}
        )
        _audit(
            tx,
            at,
            "payment.stripe_disputed",
            payment["customer_id"],
            {"payment_id": payment["id"], "disputed": False},
            {
                "payment_id": payment["id"],
                "disputed": True,
                "amount": dispute.get("amount"),
                "reason": dispute.get("reason"),
            },
        )
        return "applied"

    def _setup_intent_succeeded(
        self, tx: WriteTransaction, config: MerchantConfig, intent: Mapping[str, Any], at: datetime
    ) -> str:
        return "applied"  # the page that confirmed the card stored it; kept as seen

    @staticmethod
    def _payment_of_charge(
        tx: WriteTransaction, charge: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        for reference in (_id(charge.get("payment_intent")), _id(charge)):
            if not reference:
                continue
            for payment in tx.collection("payments").find(reference=reference):
                if payment["type"] == "charge" and payment["status"] == PaymentStatus.SUCCEEDED:
                    return payment
        return None


def _invoice_state(invoice: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "number": invoice["number"],
        "status": invoice["status"],
        "amount_paid": invoice["amount_paid"],
        "outstanding": ledger.outstanding(invoice),
    }
