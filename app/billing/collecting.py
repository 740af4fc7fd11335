"""Taking money: the customer's payment methods, paying an invoice now, and what the
merchant records or gives back (transfers, refunds)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from app.billing import ledger, methods, payments
from app.billing.base import BillingBase, NotFoundError
from app.billing.gateways import PaymentDeclined, PaymentDetails
from app.billing.records import InvoiceStatus, PaymentStatus
from app.config.models import MerchantConfig
from app.core.clock import iso
from app.store import WriteTransaction

# Called inside a payment-method or payment change's write transaction with what the
# change was about as it was and as it is (as pages may show it: never a token, card
# number or IBAN), so the caller's audit entry commits or fails with the change.
ChangeHook = Callable[[WriteTransaction, dict[str, Any] | None, dict[str, Any] | None], None]


class Collections(BillingBase):
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


def _invoice_state(invoice: Mapping[str, Any]) -> dict[str, Any]:
    """What an audit entry records of an invoice a payment changes."""
    return {
        "number": invoice["number"],
        "status": invoice["status"],
        "amount_paid": invoice["amount_paid"],
        "outstanding": ledger.outstanding(invoice),
    }
