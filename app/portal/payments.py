"""What a customer may do to their payment methods and open invoices, each change audited.

A thin layer over :class:`~app.billing.service.BillingService`: billing
tokenizes, stores, charges (and emits its events); this service adds the audit
entry (who, when, what, before → after) in the same write transaction. An
entry holds what pages may show of a method (brand, last four, masked IBAN,
mandate reference), never a card number, IBAN or gateway token.
"""

from __future__ import annotations

from typing import Any

from app.billing.base import NotFoundError
from app.billing.collecting import ChangeHook
from app.billing.gateways import PaymentDetails
from app.billing.service import BillingService
from app.config.models import MerchantConfig
from app.portal.documents import audit
from app.store import WriteTransaction


class DefaultMethodKept(ValueError):
    """The default method is not removed: the customer chooses another default first."""


class PaymentActions:
    """The portal's payment actions on one signed-in customer's documents.

    ``actor`` is the audit actor (:func:`app.portal.documents.customer_actor`).
    A method id or invoice number that is not the customer's raises
    :class:`~app.billing.service.NotFoundError`; nothing is written then.
    """

    def __init__(self, billing: BillingService) -> None:
        self.billing = billing

    def add_method(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        kind: str,
        details: PaymentDetails | None,
        *,
        actor: str,
    ) -> dict[str, Any]:
        """A new card or mandate, made the default (billing's
        :class:`~app.billing.gateways.InvalidPaymentDetails` and
        :class:`~app.billing.gateways.PaymentDeclined` pass through)."""
        return self.billing.add_payment_method(
            merchant,
            config,
            customer_id,
            kind,
            details,
            then=self._audited("payment_method.add", customer_id, actor),
        )

    def set_default(self, merchant: str, customer_id: str, method_id: str, *, actor: str) -> None:
        self.billing.set_default_payment_method(
            merchant,
            customer_id,
            method_id,
            then=self._audited("payment_method.set_default", customer_id, actor),
        )

    def remove_method(self, merchant: str, customer_id: str, method_id: str, *, actor: str) -> None:
        """Remove a method other than the default (else :class:`DefaultMethodKept`)."""
        shown = self.billing.payment_methods(merchant, customer_id)
        method = next((m for m in shown if m["id"] == method_id), None)
        if method is None:
            raise NotFoundError(method_id)
        if method["default"]:
            raise DefaultMethodKept(method_id)
        self.billing.remove_payment_method(
            merchant,
            customer_id,
            method_id,
            then=self._audited("payment_method.remove", customer_id, actor),
        )

    def set_auto_pay(self, merchant: str, customer_id: str, enabled: bool, *, actor: str) -> None:
        self.billing.set_auto_pay(
            merchant,
            customer_id,
            enabled,
            then=self._audited("customer.auto_pay", customer_id, actor),
        )

    def pay_invoice(
        self, merchant: str, config: MerchantConfig, customer_id: str, number: str, *, actor: str
    ) -> dict[str, Any]:
        """Pay an open invoice with the default method; a declined attempt is recorded
        and audited too, then :class:`~app.billing.gateways.PaymentDeclined` is raised."""
        return self.billing.pay_invoice(
            merchant,
            config,
            customer_id,
            number,
            then=self._audited("invoice.pay", customer_id, actor),
        )

    def _audited(self, action: str, customer_id: str, actor: str) -> ChangeHook:
        def record(
            tx: WriteTransaction, before: dict[str, Any] | None, after: dict[str, Any] | None
        ) -> None:
            audit(
                tx,
                self.billing.clock(),
                action,
                actor=actor,
                customer_id=customer_id,
                before=before,
                after=after,
            )

        return record
