"""Subscription actions: start, renew, change plan, cancel, undo, pause, resume, migrate.

Every action is computed first as an :class:`Outcome` (the changes to the
subscription, the invoice or credit note it issues now, the next bill after
it) from a read-only view of the store; :func:`apply` then writes that
outcome. A dry run (the portal's preview) is the same computation without
``apply``, so the preview and what happens agree to the minor unit when given
the same moment.

Rules, where merchants could expect either:

- Billing periods count from an *anchor*: period *n* ends ``n`` intervals after
  it, so a subscription started on 31 January renews on 28 February, then on
  31 March (not on 28 March).
- A plan change to a cheaper plan (by price per day) follows
  ``portal.change_plan.downgrade``; anything else takes effect at once. With
  ``proration: immediate`` an immediate change credits the unused share of
  what was charged for the current period and charges the new plan's share of
  the same period (with the period's coupon, where it applies to the new
  plan); when the interval changes, a new period starts at the change and the
  new plan is charged in full. With ``proration: none`` the plan switches
  at once and its price applies from the next renewal. A change during a
  trial only switches the plan. Setup fees are charged once per subscription,
  never for a plan change.
- Immediate cancellation credits the unused share of the current period as a
  credit note when ``change_plan.proration`` is ``immediate``; the credit stays
  on the customer's account (the merchant may refund it).
- A pause starts at the end of the current period and lasts whole cycles;
  resuming starts a new period (and invoice) at once.
- The setup fee of a plan with a trial is billed with the first invoice, at
  the end of the trial: a trial that is canceled costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from app.billing import coupons, events, invoices, keys, ledger, lifecycle, payments, records
from app.billing.gateways import Gateways
from app.billing.invoices import InvoiceDraft
from app.billing.periods import add_interval
from app.billing.plans import Terms, is_downgrade
from app.billing.proration import prorate
from app.billing.records import InvoiceStatus, Refusal, SubscriptionStatus
from app.config.models import Coupon, MerchantConfig, Plan
from app.core.clock import iso, parse_iso
from app.core.ids import new_id
from app.outbox.notifications import invoice_attachment, record_mail
from app.store import ReadTransaction, WriteTransaction

Document = Mapping[str, Any]


class ActionRefused(ValueError):
    """An action the subscription's state or the merchant's settings do not allow."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    action: str
    effective_at: datetime
    changes: Mapping[str, Any]  # fields of the subscription that change
    invoice: InvoiceDraft | None  # issued when the outcome is applied
    next_invoice: InvoiceDraft | None = None  # the next regular bill afterwards (a preview)


# Starting and renewing -----------------------------------------------------------------


def new_subscription(
    config: MerchantConfig, plan: Plan, customer_id: str, coupon: Coupon | None, at: datetime
) -> dict[str, Any]:
    """A subscription at sign-up, before its first period is billed.

    With a trial, the trial is its first period. Without, it ends where it
    starts and :func:`renewal` at the same moment bills the first period.
    """
    currency = config.merchant.currency
    trial_end = at + timedelta(days=plan.trial_days) if plan.trial_days else None
    coupon_state = coupons.snapshot(coupon, currency) if coupon else None
    return {
        "id": new_id("sub"),
        "customer_id": customer_id,
        "plan_id": plan.id,
        "status": SubscriptionStatus.TRIALING if trial_end else SubscriptionStatus.ACTIVE,
        **Terms.of_plan(plan, currency).snapshot(),
        "trial_end": iso(trial_end) if trial_end else None,
        "anchor": None,  # set by the first renewal
        "cycle": 0,
        "current_period_start": iso(at),
        "current_period_end": iso(trial_end or at),
        "segment_start": iso(at),
        "segment_charge": 0,
        "setup_fee_billed": False,
        "coupon": coupon_state,
        "coupon_code": coupon_state["code"] if coupon_state else None,
        "period_coupon": None,
        "scheduled_change": None,
        "pause": None,
        "cancel_at_period_end": False,
        "cancel_requested_at": None,
        "cancel_reason": None,
        "canceled_at": None,
        "ended_at": None,
        "trial_reminder_sent": False,
        "created_at": iso(at),
        "updated_at": iso(at),
    }


def renewal(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    at: datetime,
    *,
    fresh_anchor: bool = False,
    credit: int | None = None,
) -> Outcome:
    """The next billing period starting at ``at``, with its invoice.

    Applies a scheduled plan change (or migration) first. The invoice is left
    out when every line is zero (a free plan).
    """
    scheduled = subscription.get("scheduled_change")
    if scheduled:
        plan_id, terms = scheduled["plan_id"], Terms.of_subscription(scheduled["terms"])
    else:
        plan_id, terms = subscription["plan_id"], Terms.of_subscription(subscription)
    if fresh_anchor or scheduled or subscription.get("anchor") is None:
        anchor, cycle = at, 0
    else:
        anchor, cycle = parse_iso(subscription["anchor"]), subscription["cycle"] + 1
    end = add_interval(anchor, terms.interval, terms.interval_count * (cycle + 1))
    language = invoices.invoice_language(config, customer)
    lines = [invoices.plan_line(config, plan_id, terms.price, at, end, language)]
    if not subscription.get("setup_fee_billed") and terms.setup_fee:
        lines.append(invoices.setup_fee_line(config, plan_id, terms.setup_fee, language))
    coupon = subscription.get("coupon")
    period_coupon, off = None, 0
    if coupons.applies(coupon, plan_id):
        assert coupon is not None
        off = coupons.discount(coupon, terms.price)
        period_coupon, coupon = coupon, coupons.after_cycle(coupon)
        if off:
            lines.append(invoices.discount_line(period_coupon, off, language))
    status = (
        SubscriptionStatus.ACTIVE
        if subscription["status"] in (SubscriptionStatus.TRIALING, SubscriptionStatus.PAUSED)
        else None
    )
    changes = {
        "plan_id": plan_id,
        **terms.snapshot(),
        "scheduled_change": None,
        "anchor": iso(anchor),
        "cycle": cycle,
        "current_period_start": iso(at),
        "current_period_end": iso(end),
        "segment_start": iso(at),
        "segment_charge": terms.price - off,
        "setup_fee_billed": True,
        "coupon": coupon,
        "period_coupon": period_coupon,
        "pause": None,
        "updated_at": iso(at),
        **(lifecycle.transition(subscription, status, at) if status else {}),
    }
    invoice = None
    if any(line.amount for line in lines):
        invoice = invoices.draft(
            tx,
            config,
            customer,
            tuple(lines),
            at,
            subscription_id=subscription["id"],
            key=keys.period_invoice("renewal", subscription["id"], at),
        )
        if credit is not None:
            invoice = _with_credit(invoice, credit)
    return Outcome("renew", at, changes, invoice)


def next_bill(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    credit: int | None = None,
) -> InvoiceDraft | None:
    """The next regular invoice as things stand (``None`` when none will come)."""
    if subscription["status"] == SubscriptionStatus.CANCELED or subscription.get(
        "cancel_at_period_end"
    ):
        return None
    pause = subscription.get("pause")
    if subscription["status"] == SubscriptionStatus.PAUSED or pause:
        at = (
            parse_iso(pause["resumes_at"])
            if pause
            else parse_iso(subscription["current_period_end"])
        )
        return renewal(
            tx, config, subscription, customer, at, fresh_anchor=True, credit=credit
        ).invoice
    at = parse_iso(subscription["current_period_end"])
    return renewal(tx, config, subscription, customer, at, credit=credit).invoice


# Changing plans ------------------------------------------------------------------------


def plan_change(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    plan_id: str,
    at: datetime,
    *,
    enforce_portal: bool = True,
) -> Outcome:
    """What moving to ``plan_id`` at ``at`` does (see the module docstring for the rules)."""
    settings = config.portal.change_plan
    changes: dict[str, Any]
    if enforce_portal and not settings.enabled:
        raise ActionRefused(Refusal.CHANGE_PLAN_DISABLED)
    if subscription["status"] not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIALING):
        raise ActionRefused(Refusal.NOT_CHANGEABLE)
    if plan_id == subscription["plan_id"]:
        if subscription.get("scheduled_change"):
            undo: dict[str, Any] = {"scheduled_change": None, "updated_at": iso(at)}
            return _with_next(tx, config, subscription, customer, "undo_change", at, undo)
        raise ActionRefused(Refusal.SAME_PLAN)
    plan = config.plan(plan_id)
    if plan is None or not plan.available or (enforce_portal and plan_id not in settings.plans):
        raise ActionRefused(Refusal.PLAN_NOT_OFFERED)
    current = Terms.of_subscription(subscription)
    new = Terms.of_plan(plan, config.merchant.currency)
    switch: dict[str, Any] = {
        "plan_id": plan_id,
        **new.snapshot(),
        "scheduled_change": None,
        "updated_at": iso(at),
    }
    if subscription["status"] == SubscriptionStatus.TRIALING:
        return _with_next(tx, config, subscription, customer, "change_plan", at, switch)
    period_end = parse_iso(subscription["current_period_end"])
    if is_downgrade(current, new) and settings.downgrade == "at_period_end":
        changes = {
            "scheduled_change": {
                "plan_id": plan_id,
                "terms": new.snapshot(),
                "at": iso(period_end),
            },
            "updated_at": iso(at),
        }
        return _with_next(
            tx, config, subscription, customer, "schedule_change", period_end, changes
        )
    same_cycle = (new.interval, new.interval_count) == (current.interval, current.interval_count)
    if settings.proration == "none":
        # The new plan's price applies from the next renewal; a new interval starts a new anchor there.
        changes = switch if same_cycle else {**switch, "anchor": None}
        return _with_next(tx, config, subscription, customer, "change_plan", at, changes)
    credit = prorate(
        subscription["segment_charge"], parse_iso(subscription["segment_start"]), period_end, at
    )
    price = new.price - _period_discount(subscription, plan_id, new.price)
    if same_cycle:
        new_end = period_end
        charge = prorate(price, parse_iso(subscription["current_period_start"]), period_end, at)
        period = {}
    else:
        new_end = add_interval(at, new.interval, new.interval_count)
        charge = price
        period = {
            "anchor": iso(at),
            "cycle": 0,
            "current_period_start": iso(at),
            "current_period_end": iso(new_end),
        }
    language = invoices.invoice_language(config, customer)
    lines = invoices.proration_lines(
        config,
        old_plan_id=subscription["plan_id"],
        credit=credit,
        new_plan_id=plan_id,
        charge=charge,
        at=at,
        old_end=period_end,
        new_end=new_end,
        language=language,
    )
    changes = {**switch, **period, "segment_start": iso(at), "segment_charge": charge}
    invoice = _draft_now(tx, config, subscription, customer, lines, at, f"change:{plan_id}")
    return _with_next(tx, config, subscription, customer, "change_plan", at, changes, invoice)


def _period_discount(subscription: Document, plan_id: str, price: int) -> int:
    """The discount the current period had, as it applies to another plan's price."""
    coupon = subscription.get("period_coupon")
    if not coupon or (coupon["plans"] is not None and plan_id not in coupon["plans"]):
        return 0
    return coupons.discount(coupon, price)


# Canceling -----------------------------------------------------------------------------


def cancellation(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    at: datetime,
    *,
    mode: str | None = None,
    reason: str | None = None,
    enforce_portal: bool = True,
) -> Outcome:
    """Cancel at the period's end or at once (``mode``; default: the merchant's setting)."""
    settings = config.portal.cancel
    if enforce_portal and not settings.enabled:
        raise ActionRefused(Refusal.CANCEL_DISABLED)
    if subscription["status"] == SubscriptionStatus.CANCELED:
        raise ActionRefused(Refusal.ALREADY_CANCELED)
    mode = mode or settings.mode
    period_end = parse_iso(subscription["current_period_end"])
    if mode == "at_period_end" and subscription["status"] != SubscriptionStatus.PAUSED:
        changes = {
            "cancel_at_period_end": True,
            "cancel_requested_at": iso(at),
            "cancel_reason": reason,
            "pause": None,
            "updated_at": iso(at),
        }
        return Outcome("schedule_cancel", period_end, changes, None, None)
    credit = 0
    if (
        subscription["status"] in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
        and config.portal.change_plan.proration == "immediate"
    ):
        segment_start = parse_iso(subscription["segment_start"])
        credit = prorate(subscription["segment_charge"], segment_start, period_end, at)
    lines = invoices.proration_lines(
        config,
        old_plan_id=subscription["plan_id"],
        credit=credit,
        new_plan_id=None,
        charge=0,
        at=at,
        old_end=period_end,
        new_end=None,
        language=invoices.invoice_language(config, customer),
    )
    changes = {
        **lifecycle.transition(subscription, SubscriptionStatus.CANCELED, at),
        "cancel_at_period_end": False,
        "cancel_requested_at": subscription.get("cancel_requested_at") or iso(at),
        "cancel_reason": reason,
        "pause": None,
        "scheduled_change": None,
        "segment_charge": 0,
    }
    invoice = _draft_now(tx, config, subscription, customer, lines, at, "cancel")
    return Outcome("cancel", at, changes, invoice, None)


def undo_cancellation(subscription: Document, at: datetime) -> Outcome:
    if subscription["status"] == SubscriptionStatus.CANCELED or not subscription.get(
        "cancel_at_period_end"
    ):
        raise ActionRefused(Refusal.NO_PENDING_CANCEL)
    changes = {
        "cancel_at_period_end": False,
        "cancel_requested_at": None,
        "cancel_reason": None,
        "updated_at": iso(at),
    }
    return Outcome("undo_cancel", at, changes, None)


def ending(subscription: Document, at: datetime, reason: str) -> Outcome:
    """The subscription ends at ``at`` without a credit (period end, non-payment)."""
    changes = {
        **lifecycle.transition(subscription, SubscriptionStatus.CANCELED, at),
        "cancel_at_period_end": False,
        "cancel_reason": subscription.get("cancel_reason") or reason,
        "pause": None,
        "scheduled_change": None,
    }
    return Outcome("cancel", at, changes, None)


# Pausing -------------------------------------------------------------------------------


def pausing(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    cycles: int,
    at: datetime,
    *,
    enforce_portal: bool = True,
) -> Outcome:
    """Pause for ``cycles`` whole periods from the end of the current one."""
    settings = config.portal.pause
    if enforce_portal and not settings.enabled:
        raise ActionRefused(Refusal.PAUSE_DISABLED)
    if not 1 <= cycles <= settings.max_cycles:
        raise ActionRefused(Refusal.INVALID_CYCLES)
    if (
        subscription["status"] != SubscriptionStatus.ACTIVE
        or subscription.get("cancel_at_period_end")
        or subscription.get("pause")
    ):
        raise ActionRefused(Refusal.NOT_PAUSABLE)
    starts = parse_iso(subscription["current_period_end"])
    terms = Terms.of_subscription(subscription)
    resumes = add_interval(starts, terms.interval, terms.interval_count * cycles)
    changes = {
        "pause": {"cycles": cycles, "starts_at": iso(starts), "resumes_at": iso(resumes)},
        "updated_at": iso(at),
    }
    return _with_next(tx, config, subscription, customer, "schedule_pause", starts, changes)


def pause_start(subscription: Document, at: datetime) -> Outcome:
    """The scheduled pause begins: no invoice until it resumes."""
    pause = subscription["pause"]
    changes = {
        **lifecycle.transition(subscription, SubscriptionStatus.PAUSED, at),
        "current_period_start": iso(at),
        "current_period_end": pause["resumes_at"],
        "segment_start": iso(at),
        "segment_charge": 0,
    }
    return Outcome("pause", at, changes, None)


def resuming(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    at: datetime,
) -> Outcome:
    """Resume now: drop a pause not begun yet, or start a new period (and invoice)."""
    if subscription["status"] == SubscriptionStatus.ACTIVE and subscription.get("pause"):
        changes = {"pause": None, "updated_at": iso(at)}
        return _with_next(tx, config, subscription, customer, "undo_pause", at, changes)
    if subscription["status"] != SubscriptionStatus.PAUSED:
        raise ActionRefused(Refusal.NOT_PAUSED)
    outcome = renewal(tx, config, subscription, customer, at, fresh_anchor=True)
    return replace(outcome, action="resume")


# Grandfathering ------------------------------------------------------------------------


def migration(config: MerchantConfig, subscription: Document, at: datetime) -> Outcome | None:
    """Move a subscription to its plan's current terms from its next renewal, if they differ."""
    plan = config.plan(subscription["plan_id"])
    if plan is None or subscription["status"] not in lifecycle.LIVE:
        return None
    terms = Terms.of_plan(plan, config.merchant.currency)
    if terms.version == subscription["plan_version"] or subscription.get("scheduled_change"):
        return None
    period_end = subscription["current_period_end"]
    changes = {
        "scheduled_change": {"plan_id": plan.id, "terms": terms.snapshot(), "at": period_end},
        "updated_at": iso(at),
    }
    return Outcome("migrate", parse_iso(period_end), changes, None)


# Writing outcomes ----------------------------------------------------------------------


def apply(
    tx: WriteTransaction,
    config: MerchantConfig,
    gateways: Gateways,
    subscription: Document,
    outcome: Outcome,
    at: datetime,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Write an outcome: the subscription's changes, its invoice, the collection, the mails.

    Returns the updated subscription and the invoice issued (if any).
    """
    updated = tx.collection("subscriptions").update(subscription["id"], outcome.changes)
    events.subscription_changed(tx, subscription, updated, at)
    customer = tx.collection("customers").get(subscription["customer_id"])
    assert customer is not None
    invoice = None
    if outcome.invoice is not None:
        invoice = invoices.issue(tx, config, outcome.invoice)
        record_mail(
            tx,
            "invoice_issued",
            customer,
            at,
            invoice_mail_data(invoice),
            key=keys.mail("invoice_issued", invoice["id"]),
            attachments=[invoice_attachment(invoice)],
        )
        if invoice["status"] == InvoiceStatus.OPEN and invoice["collection"] == "auto":
            payments.collect(tx, config, gateways, invoice, at)
            invoice = tx.collection("invoices").get(invoice["id"])
    if (
        updated["status"] == SubscriptionStatus.CANCELED
        and subscription["status"] != SubscriptionStatus.CANCELED
    ):
        record_mail(
            tx,
            "subscription_canceled",
            customer,
            at,
            {
                "subscription_id": updated["id"],
                "plan_id": updated["plan_id"],
                "ended_at": updated["ended_at"],
                "reason": updated.get("cancel_reason"),
            },
            key=keys.mail("subscription_canceled", updated["id"]),
        )
    lifecycle.settle(tx, customer["id"], at)
    return tx.collection("subscriptions").get(updated["id"]) or updated, invoice


def invoice_mail_data(invoice: Document) -> dict[str, Any]:
    return {
        "invoice_id": invoice["id"],
        "number": invoice["number"],
        "kind": invoice["kind"],
        "gross": invoice["gross"],
        "amount_due": records.amount_due(invoice),
        "currency": invoice["currency"],
        "due_at": invoice["due_at"],
        "collection": invoice["collection"],
    }


# Helpers -------------------------------------------------------------------------------


def _draft_now(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    lines: tuple[invoices.Line, ...],
    at: datetime,
    action: str,
) -> InvoiceDraft | None:
    if not any(line.amount for line in lines):
        return None
    key = keys.period_invoice(action, subscription["id"], at)
    return invoices.draft(
        tx, config, customer, lines, at, subscription_id=subscription["id"], key=key
    )


def _with_next(
    tx: ReadTransaction,
    config: MerchantConfig,
    subscription: Document,
    customer: Document,
    action: str,
    effective_at: datetime,
    changes: Mapping[str, Any],
    invoice: InvoiceDraft | None = None,
) -> Outcome:
    """An outcome with the next regular bill as it will be after the change."""
    credit = ledger.available_credit(tx, customer["id"])
    if invoice is not None:
        credit += max(0, -invoice.totals.gross) - invoice.credit_applied
    after = {**subscription, **changes}
    upcoming = next_bill(tx, config, after, customer, credit=credit)
    return Outcome(action, effective_at, changes, invoice, upcoming)


def _with_credit(invoice: InvoiceDraft, credit: int) -> InvoiceDraft:
    gross = invoice.totals.gross
    return replace(invoice, credit_applied=min(max(0, credit), gross) if gross > 0 else 0)
