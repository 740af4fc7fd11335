"""Pay by invoice: the customer transfers the money; nothing is ever charged.

Billing issues the invoice with a due date and the merchant's bank account;
the merchant records the transfer when it arrives
(:meth:`app.billing.service.BillingService.record_payment`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.billing.gateways.base import ChargeResult, PaymentDetails, PaymentKind, Tokenized
from app.core.money import Money


class BankTransferGateway:
    name = "bank_transfer"
    kind: PaymentKind = "invoice"
    automatic = False

    def tokenize(self, details: PaymentDetails | None) -> Tokenized:
        return Tokenized(kind="invoice", gateway=self.name, token="")

    def verify(self, method: Mapping[str, Any]) -> ChargeResult:
        return ChargeResult(True, None)

    def charge(self, method: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        return ChargeResult.failed("manual_payment", "Invoices are paid by bank transfer.")

    def refund(self, payment: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        """Recorded as owed: the merchant transfers the money back by hand."""
        return ChargeResult(True, None)
