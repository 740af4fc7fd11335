"""The payment gateway interface, and the types that cross it.

Portico never sees more of a card than it needs to show: the raw number and
CVC go into :meth:`Gateway.tokenize` and only the returned
:class:`Tokenized` (a token, brand, last four, expiry; or a masked IBAN) is
stored. Adding a real provider (Stripe, Mollie, Adyen, GoCardless, ...):

1. Implement :class:`Gateway` for each payment kind it handles. ``tokenize``
   exchanges details for the provider's reusable token (for cards, prefer the
   provider's client-side tokenization and pass the token through a
   ``details`` type of your own); ``verify`` is a zero-amount authorisation;
   ``charge`` and ``refund`` must be idempotent for the ``key`` they are given
   (send it as the provider's idempotency key): billing retries with the same
   key after a crash, and must not charge twice.
2. Report declines as ``ChargeResult(succeeded=False, failure_code=...)``
   with one of :data:`FAILURE_CODES` where one fits; raise only for errors
   that are nobody's decision (network down): the billing run then leaves the
   invoice as it was and tries again on its next run.
3. Add its name to ``Payments.gateway`` in ``app/config/models.py`` and build
   it in :func:`app.billing.gateways.gateways_for`.

Charges happen inside the billing transaction of the invoice they pay, so a
provider call should time out within a few seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from babel.support import NullTranslations

from app.core.money import Money

PaymentKind = Literal["card", "sepa_debit", "invoice"]

FAILURE_CODES = (
    "card_declined",
    "insufficient_funds",
    "expired_card",
    "debit_failed",
    "no_payment_method",
    "authentication_required",  # the bank wants the customer to confirm (3-D Secure)
    "authentication_failed",
)


@dataclass(frozen=True, repr=False)
class CardDetails:
    """A card as typed into the order page. Never stored, never logged."""

    number: str
    exp_month: int
    exp_year: int  # 2026 or 26
    cvc: str
    holder: str = ""

    def __repr__(self) -> str:
        return f"CardDetails(number='…{self.number[-4:]}', exp={self.exp_month}/{self.exp_year})"


@dataclass(frozen=True, repr=False)
class SepaDetails:
    """A bank account for SEPA direct debit. Only the masked IBAN is stored."""

    iban: str
    holder: str

    def __repr__(self) -> str:
        return f"SepaDetails(iban='{self.iban[:4]}…{self.iban[-4:]}')"


@dataclass(frozen=True)
class StripeCardDetails:
    """What the browser sends after Stripe.js confirmed a card: intent ids, no card data.

    ``purpose`` is what the SetupIntent was made for (``signup:<form nonce>`` or
    ``portal:<customer id>``): an intent made for another form or customer is refused.
    ``payment_intent`` is a PaymentIntent the browser confirmed after a 3-D Secure challenge.
    """

    setup_intent: str
    purpose: str
    payment_intent: str | None = None


PaymentDetails = CardDetails | SepaDetails | StripeCardDetails


@dataclass(frozen=True)
class Tokenized:
    """What may be stored of a payment method."""

    kind: PaymentKind
    gateway: str
    token: str
    details: Mapping[str, Any] = field(default_factory=dict)  # brand, last4, exp_month, ...


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str | None  # the provider's id of the charge or refund
    failure_code: str | None = None
    failure_message: str | None = None  # the provider's words, for the merchant's eyes

    @classmethod
    def failed(cls, code: str, message: str) -> ChargeResult:
        return cls(False, None, code, message)


class InvalidPaymentDetails(ValueError):
    """Details a gateway refuses before charging anything; ``field`` names the input."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class PaymentDeclined(Exception):
    """The payment method was declined; ``code`` is one of :data:`FAILURE_CODES`."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


class Gateway(Protocol):
    name: str
    kind: PaymentKind
    automatic: bool  # True: billing collects by itself; False: the customer transfers

    def tokenize(self, details: PaymentDetails | None) -> Tokenized:
        """Validate details and exchange them for a token (else :class:`InvalidPaymentDetails`)."""

    def verify(self, method: Mapping[str, Any]) -> ChargeResult:
        """Check a stored method can be charged, charging nothing."""

    def charge(self, method: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        """Take ``amount`` from a stored method; idempotent for ``key``."""

    def refund(self, payment: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        """Pay ``amount`` of an earlier successful payment back; idempotent for ``key``."""


def failure_message(code: str | None, t: NullTranslations) -> str:
    """A decline explained to the customer, in their language."""
    messages = {
        "card_declined": t.gettext("Your card was declined. Please use another card."),
        "insufficient_funds": t.gettext(
            "The payment was declined for insufficient funds. Please use another payment method."
        ),
        "expired_card": t.gettext("Your card has expired. Please use another card."),
        "debit_failed": t.gettext("The direct debit failed. Please check your bank details."),
        "no_payment_method": t.gettext("Please add a payment method."),
        "authentication_required": t.gettext(
            "Your bank asks you to confirm this payment. Please pay it in your account."
        ),
        "authentication_failed": t.gettext(
            "Your bank could not confirm the payment. Please try again or use another card."
        ),
    }
    return messages.get(code or "", t.gettext("The payment failed. Please try again."))


def details_message(error: InvalidPaymentDetails, t: NullTranslations) -> str:
    """A refused card or IBAN explained to the customer, for the field ``error.field``."""
    messages = {
        "invalid_number": t.gettext("This card number is not valid."),
        "invalid_expiry": t.gettext("Please enter a valid expiry date."),
        "expired_card": t.gettext("This card has expired."),
        "invalid_cvc": t.gettext("Please enter the 3 or 4 digit security code."),
        "invalid_iban": t.gettext("This IBAN is not valid."),
        "missing_holder": t.gettext("Please enter the account holder's name."),
        "details_required": t.gettext("Please enter your payment details."),
        "card_needs_javascript": t.gettext(
            "Card payment needs JavaScript. Please turn it on or choose another payment method."
        ),
        "card_not_confirmed": t.gettext("Your card was not confirmed. Please enter it again."),
    }
    return messages.get(error.code, t.gettext("Please check your payment details."))
