"""What billing stores, as types: the statuses as enums, and read-only records of invoices,
subscriptions and payments for everything outside billing.

Inside a write transaction billing works on the store's documents (plain
mappings, changed by ``update``); what it hands out — to the portal, the web
pages, exports and the API — are these frozen records, built by
``from_document``. A record never writes back: a change goes through a
billing service, which audits it.

The enums are ``StrEnum``s, so a stored ``"open"`` and ``InvoiceStatus.OPEN``
compare equal and documents written before them need no migration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self


class InvoiceKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    OPEN = "open"  # something is still to be paid
    PAID = "paid"
    VOID = "void"  # canceled before anything was paid
    UNCOLLECTIBLE = "uncollectible"  # collection gave up; still owed
    ISSUED = "issued"  # a credit note: there is nothing to pay


OUTSTANDING_STATUSES = frozenset({InvoiceStatus.OPEN, InvoiceStatus.UNCOLLECTIBLE})


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    PAUSED = "paused"
    CANCELED = "canceled"


class PaymentType(StrEnum):
    CHARGE = "charge"  # taken through a gateway (card, SEPA debit)
    TRANSFER = "transfer"  # received by the merchant's bank, recorded
    REFUND = "refund"


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refusal(StrEnum):
    """Why a subscription action was refused (the portal words each for the customer)."""

    CHANGE_PLAN_DISABLED = "change_plan_disabled"
    PLAN_NOT_OFFERED = "plan_not_offered"
    SAME_PLAN = "same_plan"
    NOT_CHANGEABLE = "not_changeable"
    CANCEL_DISABLED = "cancel_disabled"
    ALREADY_CANCELED = "already_canceled"
    NO_PENDING_CANCEL = "no_pending_cancel"
    PAUSE_DISABLED = "pause_disabled"
    INVALID_CYCLES = "invalid_cycles"
    NOT_PAUSABLE = "not_pausable"
    NOT_PAUSED = "not_paused"
    UNKNOWN_REASON = "unknown_reason"  # a cancellation reason the merchant does not list
    NO_RETENTION_OFFER = "no_retention_offer"


def amount_due(invoice: Mapping[str, Any]) -> int:
    """What an invoice asks to be paid once account credit is used (before payments)."""
    return int(invoice["gross"]) - int(invoice["credit_applied"])


def unpaid(invoice: Mapping[str, Any]) -> int:
    """What an invoice asks for that no payment has met yet, whatever its status."""
    return amount_due(invoice) - int(invoice["amount_paid"])


def outstanding(invoice: Mapping[str, Any]) -> int:
    """What is still to be paid on an invoice (0 for paid, void and credit notes)."""
    if invoice["kind"] != InvoiceKind.INVOICE or invoice["status"] not in OUTSTANDING_STATUSES:
        return 0
    return unpaid(invoice)


@dataclass(frozen=True)
class Invoice:
    """An issued invoice or credit note as it was written (amounts in minor units)."""

    id: str
    number: str
    kind: InvoiceKind
    status: InvoiceStatus
    customer_id: str
    subscription_id: str | None
    currency: str
    language: str
    issued_at: str  # ISO 8601 UTC, as stored
    due_at: str
    net: int
    tax: int
    gross: int
    credit_applied: int
    amount_paid: int
    paid_at: str | None = None
    related_invoice_id: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Self:
        return cls(
            id=document["id"],
            number=document["number"],
            kind=InvoiceKind(document["kind"]),
            status=InvoiceStatus(document["status"]),
            customer_id=document["customer_id"],
            subscription_id=document.get("subscription_id"),
            currency=document["currency"],
            language=document["language"],
            issued_at=document["issued_at"],
            due_at=document["due_at"],
            net=document["net"],
            tax=document["tax"],
            gross=document["gross"],
            credit_applied=document["credit_applied"],
            amount_paid=document["amount_paid"],
            paid_at=document.get("paid_at"),
            related_invoice_id=document.get("related_invoice_id"),
        )

    @property
    def amount_due(self) -> int:
        return amount_due(vars(self))

    @property
    def outstanding(self) -> int:
        return outstanding(vars(self))

    @property
    def is_credit_note(self) -> bool:
        return self.kind is InvoiceKind.CREDIT_NOTE


@dataclass(frozen=True)
class Subscription:
    """A customer's subscription: plan, status and the dates the portal shows."""

    id: str
    customer_id: str
    plan_id: str
    status: SubscriptionStatus
    current_period_start: str
    current_period_end: str
    trial_end: str | None = None
    cancel_at_period_end: bool = False
    canceled_at: str | None = None
    ended_at: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Self:
        return cls(
            id=document["id"],
            customer_id=document["customer_id"],
            plan_id=document["plan_id"],
            status=SubscriptionStatus(document["status"]),
            current_period_start=document["current_period_start"],
            current_period_end=document["current_period_end"],
            trial_end=document.get("trial_end"),
            cancel_at_period_end=bool(document.get("cancel_at_period_end")),
            canceled_at=document.get("canceled_at"),
            ended_at=document.get("ended_at"),
        )

    @property
    def live(self) -> bool:
        return self.status is not SubscriptionStatus.CANCELED


@dataclass(frozen=True)
class Payment:
    """One attempt to take or give back money, as the provider answered it."""

    id: str
    customer_id: str
    invoice_id: str
    type: PaymentType
    status: PaymentStatus
    amount: int
    currency: str
    created_at: str
    method: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    reference: str | None = None

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> Self:
        return cls(
            id=document["id"],
            customer_id=document["customer_id"],
            invoice_id=document["invoice_id"],
            type=PaymentType(document["type"]),
            status=PaymentStatus(document["status"]),
            amount=document["amount"],
            currency=document["currency"],
            created_at=document["created_at"],
            method=document.get("method"),
            failure_code=document.get("failure_code"),
            failure_message=document.get("failure_message"),
            reference=document.get("reference"),
        )

    @property
    def succeeded(self) -> bool:
        return self.status is PaymentStatus.SUCCEEDED
