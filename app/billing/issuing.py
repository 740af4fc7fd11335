"""Issuing documents outside the regular cycle, and the billing run itself:
credit notes, voiding, ``portico bill``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.billing import invoices, lifecycle, runner
from app.billing.base import BillingBase, NotFoundError
from app.config.models import MerchantConfig


class Issuing(BillingBase):
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

    def bill_until(
        self, merchant: str, config: MerchantConfig, until: datetime | None = None
    ) -> runner.BillingRun:
        """``portico bill`` for one merchant (``until`` defaults to now)."""
        moment = until or self.clock()
        return runner.bill_until(self.store, merchant, config, moment, self.gateways(config))
