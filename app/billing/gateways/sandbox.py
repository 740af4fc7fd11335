"""The built-in sandbox card gateway: real validation, simulated outcomes, no network.

Any card that passes the Luhn check and has not expired is accepted. Test
numbers (as in most providers' test modes):

- ``4242 4242 4242 4242`` succeeds;
- ``4000 0000 0000 0002`` is declined (``card_declined``), already when it is
  verified at sign-up;
- ``4000 0000 0000 9995`` verifies, then every charge fails with
  ``insufficient_funds``.

A real provider remembers what a token stands for; the sandbox keeps no state,
so the simulated outcome is written into the token itself.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from stdnum import luhn

from app.billing.gateways.base import (
    CardDetails,
    ChargeResult,
    InvalidPaymentDetails,
    PaymentDetails,
    PaymentKind,
    Tokenized,
)
from app.core.clock import Clock
from app.core.money import Money

OUTCOMES = {"4000000000000002": "declined", "4000000000009995": "nofunds"}


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if re.match(r"5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720)", number):
        return "mastercard"
    if re.match(r"3[47]", number):
        return "amex"
    return "card"


def reference(prefix: str, key: str) -> str:
    """A provider id derived from the idempotency key: the same key, the same charge."""
    return f"{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def _expired(month: int, year: int, now: datetime) -> bool:
    """A card is valid through the last day of its expiry month."""
    return (year, month) < (now.year, now.month)


class SandboxCardGateway:
    name = "sandbox"
    kind: PaymentKind = "card"
    automatic = True

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def tokenize(self, details: PaymentDetails | None) -> Tokenized:
        if not isinstance(details, CardDetails):
            raise InvalidPaymentDetails("details_required", "card_number", "card details needed")
        number = re.sub(r"[\s-]", "", details.number)
        if not re.fullmatch(r"\d{12,19}", number) or not luhn.is_valid(number):
            raise InvalidPaymentDetails("invalid_number", "card_number", "invalid card number")
        month, year = details.exp_month, details.exp_year
        year = year + 2000 if 0 <= year < 100 else year
        if not 1 <= month <= 12 or not 2000 <= year <= 2100:
            raise InvalidPaymentDetails("invalid_expiry", "card_expiry", "invalid expiry date")
        if _expired(month, year, self.clock()):
            raise InvalidPaymentDetails("expired_card", "card_expiry", "the card has expired")
        brand = brand_of(number)
        if not re.fullmatch(r"\d{4}" if brand == "amex" else r"\d{3}", details.cvc.strip()):
            raise InvalidPaymentDetails("invalid_cvc", "card_cvc", "invalid security code")
        outcome = OUTCOMES.get(number, "ok")
        return Tokenized(
            kind="card",
            gateway=self.name,
            token=f"tok_sandbox_{outcome}_{secrets.token_hex(8)}",
            details={
                "brand": brand,
                "last4": number[-4:],
                "exp_month": month,
                "exp_year": year,
                "holder": details.holder.strip(),
            },
        )

    def verify(self, method: Mapping[str, Any]) -> ChargeResult:
        if _outcome(method) == "declined":
            return ChargeResult.failed("card_declined", "The card was declined.")
        return ChargeResult(True, reference("seti_sandbox", method["token"]))

    def charge(self, method: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        if _expired(method["exp_month"], method["exp_year"], self.clock()):
            return ChargeResult.failed("expired_card", "The card has expired.")
        outcome = _outcome(method)
        if outcome == "declined":
            return ChargeResult.failed("card_declined", "The card was declined.")
        if outcome == "nofunds":
            return ChargeResult.failed("insufficient_funds", "Insufficient funds.")
        return ChargeResult(True, reference("ch_sandbox", key))

    def refund(self, payment: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        return ChargeResult(True, reference("re_sandbox", key))


def _outcome(method: Mapping[str, Any]) -> str:
    parts = str(method.get("token", "")).split("_")
    return parts[2] if len(parts) == 4 else "ok"
