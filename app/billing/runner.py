"""``portico bill``: everything that falls due up to a moment, for one merchant.

For each subscription the run handles its due events in time order, each at
its own moment (documents are dated when the event fell due, not when the
run happened, so running late gives the same result as running on time):

- the trial-ending mail, ``TRIAL_REMINDER_DAYS`` before a trial ends;
- the end of a period: cancel (when asked to), start a scheduled pause, or
  renew (apply a scheduled plan change, issue the invoice, collect it);
- the end of a pause: a new period and its invoice;
- scheduled collection retries (``billing.retry_days``); after the last
  failure the subscription is past_due;
- for invoices paid by transfer: a reminder when the due date passes;
- cancellation for non-payment ``billing.cancel_unpaid_after_days`` after the
  due date of the oldest unpaid invoice (its invoices become uncollectible but
  stay owed).

Events of all subscriptions are handled in one time order, so invoice numbers
follow the invoices' dates and one run up to a date gives what daily runs up
to it give. Every event moves the subscription's state past the event (and
invoices, payments and mails carry keys), so running again for the same
moment changes nothing.

Events are handled in chunks of :data:`CHUNK` consecutive events, one write
transaction each (on TinyDB every transaction rewrites the merchant's file),
through an :class:`~app.billing.indexed.IndexedTransaction` so that finding a
customer's invoices or an idempotency key does not scan a collection per
event. A crash leaves whole chunks committed and the next run does the rest.
Gateway charges are made inside the chunk before it commits, with keys
derived from the invoice's own key (:func:`app.billing.payments.collect`): a
chunk that is rolled back and done again asks the gateway with the same keys,
so nobody is charged twice. When an event fails, its chunk is rolled back and
done again one event per transaction, so only the broken subscription is
skipped (and reported).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.billing import invoices, keys, ledger, payments, subscriptions
from app.billing.gateways import Gateways
from app.billing.indexed import IndexedTransaction, Indexes
from app.billing.lifecycle import LIVE
from app.billing.records import InvoiceStatus, PaymentStatus, SubscriptionStatus
from app.config.models import MerchantConfig
from app.core.clock import iso, parse_iso
from app.outbox.notifications import record_mail
from app.store import Store

log = logging.getLogger(__name__)

TRIAL_REMINDER_DAYS = 3
# Events per write transaction. On TinyDB each commit rewrites the merchant's file (about
# 0.2 s at 10 000 customers), and a chunk holds the merchant's write lock (about 1-2 s
# there) while sign-ups wait: fewer commits, yet far below the store's 10 s lock timeout.
CHUNK = 1000
MAX_EVENTS_PER_SUBSCRIPTION = 10_000  # a guard against a loop, far above years of daily periods


@dataclass
class BillingRun:
    """What one run did, for the command's summary."""

    merchant: str
    invoices: int = 0
    credit_notes: int = 0
    payments_succeeded: int = 0
    payments_failed: int = 0
    canceled: int = 0
    mails: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.merchant}: {self.invoices} invoice(s), {self.payments_succeeded} payment(s), "
            f"{self.payments_failed} failed payment(s), {self.canceled} cancellation(s), "
            f"{self.mails} mail(s)" + (f", {len(self.errors)} error(s)" if self.errors else "")
        )


Event = tuple[datetime, str, Callable[[], None]]


def bill_until(
    store: Store,
    merchant: str,
    config: MerchantConfig,
    until: datetime,
    gateways: Gateways,
    *,
    chunk: int = CHUNK,
) -> BillingRun:
    """Handle every event due at or before ``until``, across subscriptions in time order."""
    run = BillingRun(merchant)
    queue: list[tuple[datetime, int, str]] = []
    indexes = Indexes()
    with store.read(merchant) as read:
        tx = IndexedTransaction(read, indexes)
        for order, subscription in enumerate(tx.collection("subscriptions").all()):
            due = _Subscription(tx, config, gateways, subscription["id"]).next_event(until)
            if due is not None:
                queue.append((due, order, subscription["id"]))
    heapq.heapify(queue)
    handled: dict[str, int] = {}
    bill = _Chunk(store, merchant, config, gateways, until, queue, handled, indexes)
    while queue:
        before = (list(queue), dict(handled))
        try:
            bill.run(chunk, run)
        except Exception:  # roll back, then one event per transaction to skip only the culprit
            log.warning("a chunk of %s failed; doing it again event by event", merchant)
            indexes.clear()  # they hold what the rolled-back chunk inserted
            queue[:] = before[0]
            handled.clear()
            handled.update(before[1])
            for _ in range(chunk):
                if not queue:
                    break
                subscription_id = queue[0][2]
                try:
                    bill.run(1, run)
                except Exception as error:  # one broken subscription must not stop the others
                    indexes.clear()
                    log.exception("billing %s of %s failed", subscription_id, merchant)
                    run.errors.append(f"{subscription_id}: {error}")
    return run


@dataclass
class _Chunk:
    """Takes events off the time-ordered queue and handles them in one write transaction."""

    store: Store
    merchant: str
    config: MerchantConfig
    gateways: Gateways
    until: datetime
    queue: list[tuple[datetime, int, str]]
    handled: dict[str, int]
    indexes: Indexes

    def run(self, limit: int, run: BillingRun) -> None:
        """Handle up to ``limit`` events; on an exception nothing of them is committed
        and the event that failed is off the queue."""
        with self.store.write(self.merchant) as write:
            tx = IndexedTransaction(write, self.indexes)
            for _ in range(limit):
                if not self.queue:
                    break
                _, order, subscription_id = heapq.heappop(self.queue)
                count = self.handled[subscription_id] = self.handled.get(subscription_id, 0) + 1
                if count > MAX_EVENTS_PER_SUBSCRIPTION:
                    raise RuntimeError("more events than a run may handle")
                subscription = _Subscription(tx, self.config, self.gateways, subscription_id)
                subscription.handle_next(self.until)
                due = subscription.next_event(self.until)
                if due is not None:
                    heapq.heappush(self.queue, (due, order, subscription_id))
        _count(run, tx)


class _Subscription:
    """One subscription's due events; handlers need a write transaction, finding
    events only a read one."""

    def __init__(
        self,
        tx: IndexedTransaction,
        config: MerchantConfig,
        gateways: Gateways,
        id: str,
    ) -> None:
        self.tx: Any = tx
        self.config = config
        self.gateways = gateways
        self.id = id

    @property
    def subscription(self) -> dict[str, Any]:
        subscription = self.tx.collection("subscriptions").get(self.id)
        assert subscription is not None
        return subscription

    @property
    def customer(self) -> dict[str, Any]:
        customer = self.tx.collection("customers").get(self.subscription["customer_id"])
        assert customer is not None
        return customer

    def next_event(self, until: datetime) -> datetime | None:
        """When the next event at or before ``until`` falls due, if one does."""
        times = [at for at, _, _ in self._events() if at <= until]
        return min(times) if times else None

    def handle_next(self, until: datetime) -> None:
        due = [event for event in self._events() if event[0] <= until]
        if due:
            _, _, handle = min(due, key=lambda event: event[0])
            handle()

    def _events(self) -> list[Event]:
        subscription = self.subscription
        if subscription["status"] not in LIVE:
            return []
        events: list[Event] = []
        if (
            subscription["status"] == SubscriptionStatus.TRIALING
            and not subscription["trial_reminder_sent"]
            and not subscription["cancel_at_period_end"]
        ):
            trial_end = parse_iso(subscription["trial_end"])
            at = max(
                trial_end - timedelta(days=TRIAL_REMINDER_DAYS),
                parse_iso(subscription["created_at"]),
            )
            events.append((at, "trial_reminder", lambda: self._trial_reminder(at)))
        period_end = parse_iso(subscription["current_period_end"])
        events.append((period_end, "period_end", lambda: self._period_end(period_end)))
        for invoice in ledger.unpaid_invoices(self.tx, subscription["customer_id"]):
            if invoice["subscription_id"] != self.id or invoice["status"] != InvoiceStatus.OPEN:
                continue
            events.extend(self._invoice_events(invoice))
        return events

    def _invoice_events(self, invoice: Mapping[str, Any]) -> list[Event]:
        events: list[Event] = []
        if invoice["next_attempt_at"]:
            at = parse_iso(invoice["next_attempt_at"])
            events.append((at, "collect", lambda: self._collect(invoice["id"], at)))
        due = parse_iso(invoice["due_at"])
        if invoice["collection"] == "manual" and not invoice["reminded_at"]:
            remind_at = due + timedelta(days=1)
            events.append((remind_at, "reminder", lambda: self._remind(invoice["id"], remind_at)))
        days = self.config.billing.cancel_unpaid_after_days
        if days is not None:
            cancel_at = due + timedelta(days=days)
            events.append((cancel_at, "cancel_unpaid", lambda: self._cancel_unpaid(cancel_at)))
        return events

    # Handlers: each moves the state past its event.

    def _trial_reminder(self, at: datetime) -> None:
        subscription = self.subscription
        record_mail(
            self.tx,
            "trial_ending",
            self.customer,
            at,
            {
                "subscription_id": self.id,
                "plan_id": subscription["plan_id"],
                "trial_end": subscription["trial_end"],
            },
            key=keys.mail("trial_ending", self.id),
        )
        self.tx.collection("subscriptions").update(self.id, {"trial_reminder_sent": True})

    def _period_end(self, at: datetime) -> None:
        subscription, customer = self.subscription, self.customer
        pause = subscription.get("pause")
        if subscription["cancel_at_period_end"]:
            outcome = subscriptions.ending(subscription, at, "requested")
        elif subscription["status"] == SubscriptionStatus.PAUSED:
            outcome = subscriptions.renewal(
                self.tx, self.config, subscription, customer, at, fresh_anchor=True
            )
        elif pause and parse_iso(pause["starts_at"]) <= at:
            outcome = subscriptions.pause_start(subscription, at)
        else:
            outcome = subscriptions.renewal(self.tx, self.config, subscription, customer, at)
        subscriptions.apply(self.tx, self.config, self.gateways, subscription, outcome, at)

    def _collect(self, invoice_id: str, at: datetime) -> None:
        invoice = self.tx.collection("invoices").get(invoice_id)
        assert invoice is not None
        if payments.collect(self.tx, self.config, self.gateways, invoice, at) is None:
            self.tx.collection("invoices").update(invoice_id, {"next_attempt_at": None})

    def _remind(self, invoice_id: str, at: datetime) -> None:
        invoice = self.tx.collection("invoices").get(invoice_id)
        assert invoice is not None
        record_mail(
            self.tx,
            "payment_reminder",
            self.customer,
            at,
            {
                "invoice_id": invoice_id,
                "number": invoice["number"],
                "amount_due": ledger.outstanding(invoice),
                "currency": invoice["currency"],
                "due_at": invoice["due_at"],
            },
            key=keys.mail("payment_reminder", invoice_id),
            attachments=[
                {"kind": "invoice_pdf", "invoice_id": invoice_id, "number": invoice["number"]}
            ],
        )
        self.tx.collection("invoices").update(invoice_id, {"reminded_at": iso(at)})

    def _cancel_unpaid(self, at: datetime) -> None:
        subscription = self.subscription
        for invoice in ledger.unpaid_invoices(self.tx, subscription["customer_id"]):
            if invoice["subscription_id"] == self.id and invoice["status"] == InvoiceStatus.OPEN:
                invoices.mark_uncollectible(self.tx, invoice)
        outcome = subscriptions.ending(subscription, at, "unpaid")
        subscriptions.apply(self.tx, self.config, self.gateways, subscription, outcome, at)


def _count(run: BillingRun, tx: IndexedTransaction) -> None:
    """Add what a committed chunk did to the run's summary."""
    for name, document in tx.inserted:
        if name == "invoices":
            run.invoices += document["kind"] == "invoice"
            run.credit_notes += document["kind"] == "credit_note"
        elif name == "payments" and document["type"] == "charge":
            run.payments_succeeded += document["status"] == PaymentStatus.SUCCEEDED
            run.payments_failed += document["status"] == PaymentStatus.FAILED
        elif name == "outbox":
            run.mails += document["kind"] == "mail"
    run.canceled += sum(
        1
        for name, _, changes in tx.updated
        if name == "subscriptions" and changes.get("status") == SubscriptionStatus.CANCELED
    )
