"""The billing service the order page, the portal and ``portico bill`` call.

Plain methods over an explicit store, clock and gateways; no Flask. Every
portal method takes the signed-in ``customer_id`` and only ever returns or
changes that customer's documents: an invoice number or subscription id of
another customer is treated as unknown (:class:`NotFoundError`).

Actions that move money (change plan, cancel, resume) take ``dry_run``: the
result then holds the invoice the action *would* issue and nothing is
written. Pass the preview's ``at`` back when confirming and the real action
is computed for the same moment, so it issues exactly the previewed invoice
(within :data:`PREVIEW_VALIDITY`; an older preview is refused). The subscription
actions also take ``then`` (an :data:`ApplyHook`): the caller's own records of the
change, written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.billing import (
    invoices,
    ledger,
    lifecycle,
    methods,
    payments,
    runner,
    subscriptions,
)
from app.billing.coupons import CouponInvalid
from app.billing.gateways import (
    Gateways,
    PaymentDeclined,
    PaymentDetails,
    gateways_for,
)
from app.billing.invoices import InvoiceDraft
from app.billing.pdf import render_invoice_pdf
from app.billing.records import InvoiceStatus, PaymentStatus
from app.billing.subscriptions import Outcome
from app.config.models import Coupon, MerchantConfig
from app.core.clock import Clock, iso
from app.signup import billing as signup_billing
from app.store import ReadTransaction, Store, WriteTransaction

PREVIEW_VALIDITY = timedelta(minutes=30)
GatewayFactory = Callable[[MerchantConfig], Gateways]


class NotFoundError(LookupError):
    """No such document for this customer."""


class PreviewExpired(ValueError):
    """A confirmed action's ``at`` is older than :data:`PREVIEW_VALIDITY` (or in the future)."""


@dataclass(frozen=True)
class Account:
    currency: str
    balance: int  # > 0 arrears, < 0 credit (sum of the ledger)
    credit: int  # credit not yet used by an invoice
    outstanding: int  # what unpaid invoices still ask for


@dataclass(frozen=True)
class InvoicePage:
    """One page of a customer's invoices and credit notes, newest first."""

    invoices: tuple[dict[str, Any], ...]  # this page's
    number: int  # from 1
    pages: int  # at least 1, also without any invoice
    total: int  # invoices and credit notes on all pages
    credit_notes: int  # of the total
    outstanding: bool  # whether any of them, on any page, has something left to pay


@dataclass(frozen=True)
class ActionResult:
    """An action's outcome; ``subscription`` and ``invoice`` are set once it was applied."""

    at: datetime  # the moment it was computed for: pass it back to confirm a preview
    outcome: Outcome
    subscription: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None

    @property
    def preview(self) -> InvoiceDraft | None:
        return self.outcome.invoice

    @property
    def next_invoice(self) -> InvoiceDraft | None:
        return self.outcome.next_invoice


# Called inside an applied action's write transaction with the subscription as it was
# and the result, so that what the caller records (the portal's audit entry, a mail)
# commits or fails together with the change.
ApplyHook = Callable[[WriteTransaction, dict[str, Any], ActionResult], None]
# Called inside a payment-method or payment change's write transaction with what the
# change was about as it was and as it is (as pages may show it: never a token, card
# number or IBAN), so the caller's audit entry commits or fails with the change.
ChangeHook = Callable[[WriteTransaction, dict[str, Any] | None, dict[str, Any] | None], None]


class BillingService:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        gateways: GatewayFactory | None = None,
        assets_dir: Path | None = None,
    ) -> None:
        """``assets_dir`` is the merchants folder that logos are relative to."""
        self.store = store
        self.clock = clock
        self.gateways = gateways or (lambda config: gateways_for(config.payments.gateway, clock))
        self.assets_dir = assets_dir

    # The order page ------------------------------------------------------------------

    def check_coupon(
        self, merchant: str, config: MerchantConfig, code: str, plan_id: str
    ) -> Coupon:
        """The coupon if it can be redeemed for ``plan_id`` now, else
        :class:`~app.billing.coupons.CouponInvalid` (``coupons.message`` words it)."""
        with self.store.read(merchant) as tx:
            coupon = signup_billing.redeemable(tx, config, code, plan_id, self.clock())
        if coupon is None:
            raise CouponInvalid(code, "unknown")
        return coupon

    def quote_signup(
        self,
        merchant: str,
        config: MerchantConfig,
        plan_id: str,
        fields: Mapping[str, Any],
        language: str,
        coupon_code: str | None = None,
    ) -> signup_billing.SignupQuote:
        """The order page's price summary: due now (with VAT for these ``fields``) and next."""
        plan = config.plan(plan_id)
        if plan is None:
            raise NotFoundError(plan_id)
        now = self.clock()
        with self.store.read(merchant) as tx:
            coupon = signup_billing.redeemable(tx, config, coupon_code, plan_id, now)
            customer = signup_billing.provisional_customer(fields, language)
            return signup_billing.quote(tx, config, customer, plan, coupon, now)

    # The portal: reading -------------------------------------------------------------

    def account(self, merchant: str, config: MerchantConfig, customer_id: str) -> Account:
        with self.store.read(merchant) as tx:
            self._customer(tx, customer_id)
            owed = ledger.owed(tx, customer_id)
            balance = ledger.balance(tx, customer_id)
            return Account(
                currency=config.merchant.currency,
                balance=balance,
                credit=ledger.unused_credit(owed, balance),
                outstanding=owed,
            )

    def subscriptions(self, merchant: str, customer_id: str) -> list[dict[str, Any]]:
        with self.store.read(merchant) as tx:
            return tx.collection("subscriptions").find(customer_id=customer_id)

    def next_bill(
        self, merchant: str, config: MerchantConfig, customer_id: str, subscription_id: str
    ) -> InvoiceDraft | None:
        """The next regular invoice as things stand now (credit included)."""
        with self.store.read(merchant) as tx:
            customer = self._customer(tx, customer_id)
            subscription = self._subscription(tx, customer_id, subscription_id)
            return subscriptions.next_bill(tx, config, subscription, customer)

    def invoices(self, merchant: str, customer_id: str) -> list[dict[str, Any]]:
        """The customer's invoices and credit notes, newest first."""
        with self.store.read(merchant) as tx:
            found = tx.collection("invoices").find(customer_id=customer_id)
        return sorted(found, key=lambda i: (i["issued_at"], i["number"]), reverse=True)

    def invoice_page(self, merchant: str, customer_id: str, number: int, size: int) -> InvoicePage:
        """Page ``number`` (from 1) of :meth:`invoices`, ``size`` to a page; a page
        before the first or after the last is :class:`NotFoundError`."""
        found = self.invoices(merchant, customer_id)
        pages = max(1, -(-len(found) // size))
        if not 1 <= number <= pages:
            raise NotFoundError(f"page {number}")
        start = (number - 1) * size
        return InvoicePage(
            invoices=tuple(found[start : start + size]),
            number=number,
            pages=pages,
            total=len(found),
            credit_notes=sum(1 for invoice in found if invoice["kind"] == "credit_note"),
            outstanding=any(ledger.outstanding(invoice) > 0 for invoice in found),
        )

    def invoice(self, merchant: str, customer_id: str, number: str) -> dict[str, Any]:
        with self.store.read(merchant) as tx:
            return self._invoice(tx, customer_id, number)

    def invoice_pdf(
        self, merchant: str, config: MerchantConfig, customer_id: str, number: str
    ) -> bytes:
        """The PDF of one of the customer's own invoices (else :class:`NotFoundError`)."""
        return render_invoice_pdf(
            self.invoice(merchant, customer_id, number), config, self.assets_dir
        )

    def pdf_of(self, merchant: str, config: MerchantConfig, invoice_id: str) -> bytes:
        """The PDF for an outbox attachment (``{"kind": "invoice_pdf", "invoice_id": ...}``)."""
        with self.store.read(merchant) as tx:
            invoice = tx.collection("invoices").get(invoice_id)
        if invoice is None:
            raise NotFoundError(invoice_id)
        return render_invoice_pdf(invoice, config, self.assets_dir)

    # The portal: subscription actions --------------------------------------------------

    def change_plan(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        plan_id: str,
        *,
        dry_run: bool = False,
        at: datetime | None = None,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            at,
            lambda tx, sub, customer, moment: subscriptions.plan_change(
                tx, config, sub, customer, plan_id, moment
            ),
            then,
        )

    def cancel(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        reason: str | None = None,
        dry_run: bool = False,
        at: datetime | None = None,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        """Cancel as the merchant's ``portal.cancel.mode`` says."""
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            at,
            lambda tx, sub, customer, moment: subscriptions.cancellation(
                tx, config, sub, customer, moment, reason=reason
            ),
            then,
        )

    def undo_cancel(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            False,
            None,
            lambda tx, sub, customer, moment: subscriptions.undo_cancellation(sub, moment),
            then,
        )

    def pause(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        cycles: int,
        *,
        dry_run: bool = False,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            None,
            lambda tx, sub, customer, moment: subscriptions.pausing(
                tx, config, sub, customer, cycles, moment
            ),
            then,
        )

    def resume(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        dry_run: bool = False,
        at: datetime | None = None,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            at,
            lambda tx, sub, customer, moment: subscriptions.resuming(
                tx, config, sub, customer, moment
            ),
            then,
        )

    # The portal: payment methods and paying ------------------------------------------

    def payment_methods(self, merchant: str, customer_id: str) -> list[dict[str, Any]]:
        """The customer's methods as they may be shown, the default one marked."""
        with self.store.read(merchant) as tx:
            customer = self._customer(tx, customer_id)
            default = customer.get("default_payment_method_id")
            return [
                methods.public_view(method) | {"default": method["id"] == default}
                for method in methods.active_methods(tx, customer_id)
            ]

    def add_payment_method(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        kind: str,
        details: PaymentDetails | None,
        *,
        make_default: bool = True,
        then: ChangeHook | None = None,
    ) -> dict[str, Any]:
        """Tokenize, verify and keep a method (``kind`` must be offered by the merchant).

        Raises :class:`InvalidPaymentDetails` or :class:`PaymentDeclined`; the
        raw details are never stored.
        """
        if kind not in config.payments.methods:
            raise ValueError(f"payment method {kind!r} is not offered")
        gateway = self.gateways(config).for_kind(kind)
        tokenized = gateway.tokenize(details)
        check = gateway.verify({"kind": kind, "token": tokenized.token, **tokenized.details})
        if not check.succeeded:
            raise PaymentDeclined(
                check.failure_code or "card_declined", check.failure_message or ""
            )
        with self.store.write(merchant) as tx:
            customer = self._customer(tx, customer_id)
            method = methods.store_method(
                tx, customer, tokenized, self.clock(), make_default=make_default
            )
            if make_default:
                self._recollect(tx, customer_id)
            view = methods.public_view(method)
            if then is not None:
                then(tx, None, view | {"default": make_default})
            return view

    def set_default_payment_method(
        self, merchant: str, customer_id: str, method_id: str, *, then: ChangeHook | None = None
    ) -> None:
        with self.store.write(merchant) as tx:
            was = methods.default_method(tx, self._customer(tx, customer_id))
            method = self._method(tx, customer_id, method_id)
            methods.set_default(tx, customer_id, method)
            self._recollect(tx, customer_id)
            if then is not None:
                then(
                    tx,
                    {"default": methods.public_view(was)},
                    {"default": methods.public_view(method)},
                )

    def remove_payment_method(
        self, merchant: str, customer_id: str, method_id: str, *, then: ChangeHook | None = None
    ) -> None:
        """Forget a method; without a default, invoices wait to be paid by hand."""
        with self.store.write(merchant) as tx:
            customer = self._customer(tx, customer_id)
            method = self._method(tx, customer_id, method_id)
            removed_at = iso(self.clock())
            tx.collection("payment_methods").update(method_id, {"removed_at": removed_at})
            default = customer.get("default_payment_method_id") == method_id
            if default:
                tx.collection("customers").update(customer_id, {"default_payment_method_id": None})
            if then is not None:
                view = methods.public_view(method) | {"default": default}
                then(tx, view, view | {"removed_at": removed_at})

    def set_auto_pay(
        self, merchant: str, customer_id: str, enabled: bool, *, then: ChangeHook | None = None
    ) -> None:
        """Switch automatic collection on or off; asking for what is already set changes
        (and audits) nothing, so a form sent again after a lost answer is harmless."""
        with self.store.write(merchant) as tx:
            customer = self._customer(tx, customer_id)
            if customer.get("auto_pay", True) == enabled:
                return
            tx.collection("customers").update(customer_id, {"auto_pay": enabled})
            if enabled:
                self._recollect(tx, customer_id)
            if then is not None:
                then(tx, {"auto_pay": customer.get("auto_pay", True)}, {"auto_pay": enabled})

    def pay_invoice(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        number: str,
        method_id: str | None = None,
        *,
        then: ChangeHook | None = None,
    ) -> dict[str, Any]:
        """Pay an outstanding invoice now with a stored card or mandate (default: the
        default method). Raises :class:`PaymentDeclined` when it fails; the failed
        attempt is recorded (and passed to ``then``)."""
        with self.store.write(merchant) as tx:
            customer = self._customer(tx, customer_id)
            invoice = self._invoice(tx, customer_id, number)
            if ledger.outstanding(invoice) <= 0:
                raise ValueError(f"invoice {number} has nothing outstanding")
            method = (
                self._method(tx, customer_id, method_id)
                if method_id
                else methods.default_method(tx, customer)
            )
            if method is None or method["kind"] not in methods.AUTOMATIC_KINDS:
                raise PaymentDeclined("no_payment_method")
            payment = payments.pay_now(tx, self.gateways(config), invoice, method, self.clock())
            if then is not None:
                paid = tx.collection("invoices").get(invoice["id"]) or invoice
                then(
                    tx,
                    _invoice_state(invoice),
                    _invoice_state(paid)
                    | {
                        "payment_id": payment["id"],
                        "payment_status": payment["status"],
                        "failure_code": payment.get("failure_code"),
                        "method": methods.public_view(method),
                    },
                )
        if payment["status"] != PaymentStatus.SUCCEEDED:
            raise PaymentDeclined(payment["failure_code"], payment["failure_message"] or "")
        return payment

    # The merchant ----------------------------------------------------------------------

    def record_payment(
        self, merchant: str, number: str, amount: int, reference: str
    ) -> dict[str, Any]:
        """A bank transfer received for invoice ``number``."""
        with self.store.write(merchant) as tx:
            invoice = tx.collection("invoices").first(number=number)
            if invoice is None:
                raise NotFoundError(number)
            return payments.record_transfer(tx, invoice, amount, reference, self.clock())

    def refund_payment(
        self, merchant: str, config: MerchantConfig, payment_id: str, amount: int | None = None
    ) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """Refund (part of) a payment (default: all of it not refunded yet), credit on the
        account first, then correcting the invoice with a credit note. Returns the credit
        note (``None`` when credit covered it) and the refund."""
        with self.store.write(merchant) as tx:
            payment = tx.collection("payments").get(payment_id)
            if payment is None:
                raise NotFoundError(payment_id)
            return payments.refund(tx, config, self.gateways(config), payment, self.clock(), amount)

    def grant_credit(
        self, merchant: str, config: MerchantConfig, customer_id: str, amount: int, reason: str
    ) -> dict[str, Any]:
        """A credit note of ``amount`` (in the price basis: net unless prices include
        VAT); the credit pays the customer's next invoices."""
        if amount <= 0:
            raise ValueError("a credit must be positive")
        now = self.clock()
        with self.store.write(merchant) as tx:
            customer = self._customer(tx, customer_id)
            line = invoices.credit_line(reason, amount)
            note = invoices.issue(
                tx,
                config,
                invoices.draft(tx, config, customer, (line,), now, subscription_id=None),
            )
            lifecycle.settle(tx, customer_id, now)
            return note

    def void_invoice(self, merchant: str, number: str) -> dict[str, Any]:
        now = self.clock()
        with self.store.write(merchant) as tx:
            invoice = tx.collection("invoices").first(number=number)
            if invoice is None:
                raise NotFoundError(number)
            voided = invoices.void(tx, invoice, now)
            lifecycle.settle(tx, invoice["customer_id"], now)
            return voided

    def migrate_plan(self, merchant: str, config: MerchantConfig, plan_id: str) -> int:
        """Move every subscription of ``plan_id`` to the plan's current terms from its
        next renewal (grandfathering ends). Returns how many were moved."""
        now = self.clock()
        moved = 0
        with self.store.write(merchant) as tx:
            for subscription in tx.collection("subscriptions").find(plan_id=plan_id):
                outcome = subscriptions.migration(config, subscription, now)
                if outcome is not None:
                    tx.collection("subscriptions").update(subscription["id"], outcome.changes)
                    moved += 1
        return moved

    def bill_until(
        self, merchant: str, config: MerchantConfig, until: datetime | None = None
    ) -> runner.BillingRun:
        """``portico bill`` for one merchant (``until`` defaults to now)."""
        moment = until or self.clock()
        return runner.bill_until(self.store, merchant, config, moment, self.gateways(config))

    # Helpers ---------------------------------------------------------------------------

    def _act(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        dry_run: bool,
        at: datetime | None,
        compute: Callable[[ReadTransaction, dict[str, Any], dict[str, Any], datetime], Outcome],
        then: ApplyHook | None = None,
    ) -> ActionResult:
        moment = self._moment(at)
        if dry_run:
            with self.store.read(merchant) as tx:
                customer = self._customer(tx, customer_id)
                subscription = self._subscription(tx, customer_id, subscription_id)
                return ActionResult(moment, compute(tx, subscription, customer, moment))
        with self.store.write(merchant) as tx:
            customer = self._customer(tx, customer_id)
            subscription = self._subscription(tx, customer_id, subscription_id)
            outcome = compute(tx, subscription, customer, moment)
            updated, invoice = subscriptions.apply(
                tx, config, self.gateways(config), subscription, outcome, moment
            )
            result = ActionResult(moment, outcome, updated, invoice)
            if then is not None:
                then(tx, subscription, result)
            return result

    def _moment(self, at: datetime | None) -> datetime:
        now = self.clock()
        if at is None:
            return now
        if not now - PREVIEW_VALIDITY <= at <= now:
            raise PreviewExpired("the preview is out of date; please review the change again")
        return at

    def _recollect(self, tx: WriteTransaction, customer_id: str) -> None:
        """Let the next billing run collect outstanding invoices with the new method."""
        customer = self._customer(tx, customer_id)
        if not methods.collects_automatically(customer, methods.default_method(tx, customer)):
            return
        now = iso(self.clock())
        for invoice in ledger.unpaid_invoices(tx, customer_id):
            if invoice["status"] == InvoiceStatus.OPEN and invoice["next_attempt_at"] is None:
                tx.collection("invoices").update(
                    invoice["id"], {"next_attempt_at": now, "collection": "auto"}
                )

    @staticmethod
    def _customer(tx: ReadTransaction, customer_id: str) -> dict[str, Any]:
        customer = tx.collection("customers").get(customer_id)
        if customer is None:
            raise NotFoundError(customer_id)
        return customer

    @staticmethod
    def _subscription(
        tx: ReadTransaction, customer_id: str, subscription_id: str
    ) -> dict[str, Any]:
        subscription = tx.collection("subscriptions").get(subscription_id)
        if subscription is None or subscription["customer_id"] != customer_id:
            raise NotFoundError(subscription_id)
        return subscription

    @staticmethod
    def _invoice(tx: ReadTransaction, customer_id: str, number: str) -> dict[str, Any]:
        invoice = tx.collection("invoices").first(number=number)
        if invoice is None or invoice["customer_id"] != customer_id:
            raise NotFoundError(number)
        return invoice

    @staticmethod
    def _method(tx: ReadTransaction, customer_id: str, method_id: str) -> dict[str, Any]:
        method = tx.collection("payment_methods").get(method_id)
        if method is None or method["customer_id"] != customer_id or method["removed_at"]:
            raise NotFoundError(method_id)
        return method


def _invoice_state(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """What an audit entry records of an invoice a payment changes."""
    return {
        "number": invoice["number"],
        "status": invoice["status"],
        "amount_paid": invoice["amount_paid"],
        "outstanding": ledger.outstanding(invoice),
    }
