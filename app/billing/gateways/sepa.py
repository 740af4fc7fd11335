"""SEPA direct debit in the sandbox: the IBAN is validated and stored only masked.

The mandate (its reference and date) is created by billing when the method is
stored (:mod:`app.billing.methods`). Debits succeed at once in the sandbox,
except for the test IBAN ``DE62 3704 0044 0532 0130 01``, whose debits fail
as if the account lacked funds. A real provider settles SEPA debits days
later; its gateway reports the charge as succeeded when submitted and the
merchant records a later return with a refund.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from stdnum import iban as stdnum_iban

from app.billing.gateways.base import (
    ChargeResult,
    InvalidPaymentDetails,
    PaymentDetails,
    PaymentKind,
    SepaDetails,
    Tokenized,
)
from app.billing.gateways.sandbox import reference
from app.core.money import Money

FAILING_IBAN = "DE62370400440532013001"


def mask_iban(iban: str) -> str:
    """``DE89 **** 3000``: country, check digits and the last four, nothing else."""
    compact = stdnum_iban.compact(iban)
    return f"{compact[:4]} **** {compact[-4:]}"


class SepaGateway:
    name = "sandbox"
    kind: PaymentKind = "sepa_debit"
    automatic = True

    def tokenize(self, details: PaymentDetails | None) -> Tokenized:
        if not isinstance(details, SepaDetails):
            raise InvalidPaymentDetails("details_required", "iban", "bank details needed")
        if not stdnum_iban.is_valid(details.iban):
            raise InvalidPaymentDetails("invalid_iban", "iban", "invalid IBAN")
        if not details.holder.strip():
            raise InvalidPaymentDetails("missing_holder", "account_holder", "holder missing")
        compact = stdnum_iban.compact(details.iban)
        outcome = "nofunds" if compact == FAILING_IBAN else "ok"
        return Tokenized(
            kind="sepa_debit",
            gateway=self.name,
            token=f"sepa_sandbox_{outcome}_{secrets.token_hex(8)}",
            details={
                "iban_masked": mask_iban(compact),
                "last4": compact[-4:],
                "country": compact[:2],
                "holder": details.holder.strip(),
            },
        )

    def verify(self, method: Mapping[str, Any]) -> ChargeResult:
        return ChargeResult(True, None)

    def charge(self, method: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        if str(method.get("token", "")).startswith("sepa_sandbox_nofunds_"):
            return ChargeResult.failed("insufficient_funds", "Debit returned: insufficient funds.")
        return ChargeResult(True, reference("dd_sandbox", key))

    def refund(self, payment: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        return ChargeResult(True, reference("re_sandbox", key))
