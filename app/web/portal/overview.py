"""What the portal's overview shows, as words and formatted amounts for the templates.

Reads through the billing service and the portal's account read model; the
subscription pages (:mod:`app.web.portal.subscription`) reuse the plan and
invoice views built here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort
from flask_babel import gettext, ngettext

from app.billing.invoices import InvoiceDraft
from app.core.clock import iso
from app.core.money import Money, parse_amount
from app.web.merchant import MerchantPage
from app.web.portal.auth import SignedIn
from app.web.services import portico

# The notice the overview shows after an action (``?done=<key>``), and the action
# the feedback prompt asks about.
FEEDBACK_ACTIONS = {
    "plan_change": "plan_change",
    "plan_change_scheduled": "plan_change",
    "cancel": "cancel",
    "cancel_scheduled": "cancel",
    "cancel_undone": "undo_cancel",
    "retention": "retention",
    "pause": "pause",
    "resume": "resume",
}


@dataclass(frozen=True)
class PlanView:
    id: str
    name: str
    description: str
    features: tuple[str, ...]
    price: str  # "49,00 €"
    frequency: str  # "Monthly"


@dataclass(frozen=True)
class LineView:
    description: str
    amount: str
    negative: bool


@dataclass(frozen=True)
class InvoiceView:
    """A previewed invoice or credit note, exactly as billing would issue it."""

    issued_at: str  # ISO 8601
    credit_note: bool
    lines: tuple[LineView, ...]
    net: str
    tax: str
    gross: str
    credit_applied: str | None
    amount_due: str


@dataclass(frozen=True)
class SubscriptionView:
    id: str
    plan: PlanView
    status: str
    trial_end: str | None
    current_period_end: str | None
    cancel_at_period_end: bool
    scheduled_plan: str | None  # the name of a plan change waiting for the period end
    scheduled_at: str | None
    pause_starts_at: str | None
    resumes_at: str | None
    next_bill_at: str | None
    next_bill_amount: str | None
    can_change: bool
    can_cancel: bool
    can_pause: bool
    can_resume: bool


@dataclass(frozen=True)
class PaymentMethodView:
    kind: str
    label: str  # "Visa •••• 4242", "DE89 •••• 3000"


@dataclass(frozen=True)
class Balance:
    outstanding: str | None  # arrears
    credit: str | None
    auto_pay: bool
    method: PaymentMethodView | None


def money(page: MerchantPage, minor: int, currency: str) -> str:
    return Money(minor, currency).format(page.language)


def frequency(interval: str, count: int) -> str:
    """How often a plan bills, in words: "Monthly", "Every 2 weeks"."""
    if count == 1:
        return {
            "day": gettext("Daily"),
            "week": gettext("Weekly"),
            "month": gettext("Monthly"),
            "year": gettext("Yearly"),
        }.get(interval, interval)
    words = {
        "day": ngettext("Every %(num)d day", "Every %(num)d days", count),
        "week": ngettext("Every %(num)d week", "Every %(num)d weeks", count),
        "month": ngettext("Every %(num)d month", "Every %(num)d months", count),
        "year": ngettext("Every %(num)d year", "Every %(num)d years", count),
    }
    return words.get(interval, interval)


def plan_view(page: MerchantPage, plan_id: str, terms: dict[str, Any] | None = None) -> PlanView:
    """A plan for display; ``terms`` (a subscription) gives the price it actually pays,
    which a grandfathered subscription keeps when the YAML's price changes."""
    plan = page.config.plan(plan_id)
    currency = page.config.merchant.currency
    if terms is not None:
        price = money(page, terms["price"], terms["currency"])
        interval, count = terms["interval"], terms["interval_count"]
    elif plan is not None:
        price = money(page, parse_amount(plan.price, currency), currency)
        interval, count = plan.interval, plan.interval_count
    else:
        price, interval, count = "", "", 1
    return PlanView(
        id=plan_id,
        name=page.text(plan.name) if plan else plan_id,
        description=page.text(plan.description) if plan and plan.description else "",
        features=tuple(page.text(f) for f in plan.features) if plan else (),
        price=price,
        frequency=frequency(interval, count) if interval else "",
    )


def invoice_view(page: MerchantPage, draft: InvoiceDraft | None) -> InvoiceView | None:
    if draft is None:
        return None
    currency = draft.currency
    return InvoiceView(
        issued_at=iso(draft.issued_at),
        credit_note=draft.kind == "credit_note",
        lines=tuple(
            LineView(line.description, money(page, line.amount, currency), line.amount < 0)
            for line in draft.lines
        ),
        net=money(page, draft.totals.net, currency),
        tax=money(page, draft.totals.tax, currency),
        gross=money(page, draft.totals.gross, currency),
        credit_applied=money(page, draft.credit_applied, currency)
        if draft.credit_applied
        else None,
        amount_due=money(page, draft.amount_due, currency),
    )


def subscription_view(
    page: MerchantPage, customer_id: str, sub: dict[str, Any]
) -> SubscriptionView:
    settings = page.config.portal
    billing = portico().billing
    upcoming = billing.next_bill(page.slug, page.config, customer_id, sub["id"])
    scheduled = sub.get("scheduled_change")
    pause = sub.get("pause")
    status = sub["status"]
    pending_cancel = bool(sub.get("cancel_at_period_end"))
    return SubscriptionView(
        id=sub["id"],
        plan=plan_view(page, sub["plan_id"], sub),
        status=status,
        trial_end=sub.get("trial_end"),
        current_period_end=sub.get("current_period_end"),
        cancel_at_period_end=pending_cancel,
        scheduled_plan=plan_view(page, scheduled["plan_id"]).name if scheduled else None,
        scheduled_at=scheduled["at"] if scheduled else None,
        pause_starts_at=pause["starts_at"] if pause else None,
        resumes_at=pause["resumes_at"]
        if pause
        else sub["current_period_end"]
        if status == "paused"
        else None,
        next_bill_at=iso(upcoming.issued_at) if upcoming else None,
        next_bill_amount=money(page, upcoming.amount_due, upcoming.currency) if upcoming else None,
        can_change=settings.change_plan.enabled
        and status in ("active", "trialing")
        and not pending_cancel,
        can_cancel=settings.cancel.enabled and status != "canceled" and not pending_cancel,
        can_pause=settings.pause.enabled
        and status == "active"
        and not pending_cancel
        and not pause,
        can_resume=settings.pause.enabled and (status == "paused" or bool(pause)),
    )


def balance_view(page: MerchantPage, customer_id: str, auto_pay: bool) -> Balance:
    billing = portico().billing
    account = billing.account(page.slug, page.config, customer_id)
    default = next(
        (m for m in billing.payment_methods(page.slug, customer_id) if m["default"]), None
    )
    return Balance(
        outstanding=money(page, account.outstanding, account.currency)
        if account.outstanding > 0
        else None,
        credit=money(page, account.credit, account.currency) if account.credit > 0 else None,
        auto_pay=auto_pay,
        method=_method_view(default) if default else None,
    )


def method_label(method: dict[str, Any]) -> str:
    """How a stored payment method is named to its customer: "Visa ending in 4242"."""
    if method["kind"] == "card":
        brand = (method.get("brand") or gettext("Card")).title()
        return gettext("%(brand)s ending in %(last4)s", brand=brand, last4=method.get("last4", ""))
    if method["kind"] == "sepa_debit":
        return gettext("SEPA Direct Debit %(iban)s", iban=method.get("iban_masked", ""))
    return gettext("Invoice")


def _method_view(method: dict[str, Any]) -> PaymentMethodView:
    return PaymentMethodView(kind=method["kind"], label=method_label(method))


def overview_context(user: SignedIn) -> dict[str, Any]:
    """Everything ``portal/overview.html`` shows for the signed-in customer's account."""
    page = user.page
    customer_id = user.customer_id or ""
    account = portico().portal.accounts.overview(page.slug, customer_id)
    if account is None:
        abort(404)
    subscriptions = sorted(
        portico().billing.subscriptions(page.slug, customer_id),
        key=lambda s: (s["status"] == "canceled", s["created_at"]),
    )
    return {
        "account": account,
        "balance": balance_view(page, customer_id, account.auto_pay),
        "subscriptions": [subscription_view(page, customer_id, s) for s in subscriptions],
    }
