"""Idempotency keys: every charge, refund, invoice and mail billing writes has one.

A key names the *intent*, so that the same intent done again — a run repeated
after ``kill -9``, a form sent twice — finds what the first one wrote (or
sends the provider the same key, which charges once) instead of doing it
twice. Each format lives here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.core.clock import iso


def signup(nonce: str) -> str:
    """The first charge of a sign-up, by the rendered form's nonce."""
    return f"signup:{nonce}"


def signup_undo(nonce: str) -> str:
    """Giving back a sign-up charge whose sign-up could not be stored."""
    return f"signup-undo:{nonce}"


def period_invoice(action: str, subscription_id: str, at: datetime) -> str:
    """The invoice of a renewal or a change (``action``) of a subscription at ``at``."""
    return f"{action}:{subscription_id}:{iso(at)}"


def collection(invoice: Mapping[str, Any], attempt: int) -> str:
    """Collection attempt ``attempt`` of an invoice: by the invoice's own key where it has
    one, which a run done again after a crash gives it again (with a new id)."""
    return f"collect:{invoice.get('key') or invoice['id']}:{attempt}"


def pay_now(invoice_id: str, attempt: int) -> str:
    """The customer's ``attempt``-th payment of an invoice from the portal."""
    return f"pay:{invoice_id}:{attempt}"


def transfer(invoice_id: str, reference: str) -> str:
    """A bank transfer recorded for an invoice, by the bank's reference."""
    return f"transfer:{invoice_id}:{reference}"


def bank_entry(reference: str) -> str:
    """A bank statement's entry, imported once, by the bank's entry reference."""
    return f"bank-entry:{reference}"


def refund(payment_id: str, refunded_before: int, amount: int) -> str:
    """A refund of ``amount`` of a payment of which ``refunded_before`` was refunded."""
    return f"refund:{payment_id}:{refunded_before}:{amount}"


def card_setup(customer_id: str) -> str:
    """What a SetupIntent made in the portal is for: adding a card to this customer.
    (At sign-up it is :func:`signup` of the form's nonce.)"""
    return f"portal-card:{customer_id}"


def stripe_request(key: str, payment_method: str) -> str:
    """Stripe's idempotency key of a charge: a card entered again makes a new intent."""
    return f"{key}:{payment_method}"


def stripe_intent(intent_id: str) -> str:
    """A payment booked from a PaymentIntent the customer confirmed (portal, webhook)."""
    return f"stripe:{intent_id}"


def stripe_event(event_id: str) -> str:
    """A Stripe webhook event, applied once."""
    return f"stripe-event:{event_id}"


def mail(template: str, *about: str) -> str:
    """The one mail of ``template`` about these ids (``invoice_issued:<invoice id>``)."""
    return ":".join((template, *about))
