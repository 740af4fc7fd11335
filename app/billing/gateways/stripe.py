"""Cards through Stripe: SetupIntents, PaymentIntents, off-session renewals.

The card number, expiry and CVC never reach Portico: the browser confirms a
SetupIntent with Stripe.js (3-D Secure included) and sends only its id, which
:meth:`StripeCardGateway.tokenize` reads back from Stripe. The stored method's
token is the PaymentMethod id; the Stripe Customer it is attached to is kept
beside it as ``stripe_customer``.

Charges are PaymentIntents confirmed at once, with ``key`` (and the
PaymentMethod) as Stripe's idempotency key and in the intent's metadata:

- with the customer present (``customer_present`` in the method: sign-up,
  portal) a 3-D Secure challenge comes back as ``authentication_required`` and
  the intent's id as ``reference``; the page runs the challenge with
  ``confirmCardPayment`` and sends the intent's id back (``payment_intent`` in
  the method), which is then only read back and checked;
- without (renewals) the intent is ``off_session``; a bank that insists on a
  challenge makes it fail with ``authentication_required`` as well, and the
  customer pays that invoice in the portal.

Keys and secrets are never logged; errors that are nobody's decision (network,
a wrong key) raise :class:`StripeUnavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import stripe

from app.billing import keys
from app.billing.gateways.base import (
    ChargeResult,
    InvalidPaymentDetails,
    PaymentDeclined,
    PaymentDetails,
    PaymentKind,
    StripeCardDetails,
    Tokenized,
)
from app.core.money import Money

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10
DECLINE_CODES = {
    "insufficient_funds": "insufficient_funds",
    "expired_card": "expired_card",
    "authentication_required": "authentication_required",
}


class ActionRequired(PaymentDeclined):
    """The bank asks the customer, who is present, to confirm: ``secret`` lets Stripe.js ask."""

    def __init__(self, secret: IntentSecret) -> None:
        super().__init__("authentication_required")
        self.secret = secret


class StripeUnavailable(RuntimeError):
    """Stripe could not be asked (network, wrong key): nobody's decision, try again later."""


@dataclass(frozen=True)
class IntentSecret:
    """What Stripe.js needs to confirm an intent in the browser."""

    id: str
    client_secret: str
    payment_method: str | None = None


def client(secret_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base},
        http_client=stripe.RequestsClient(timeout=TIMEOUT_SECONDS),
        max_network_retries=1,
    )


def _id(value: Any) -> str | None:
    """An expandable field as an id (Stripe sends ids, localstripe sometimes objects)."""
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def _plain(value: Any) -> dict[str, Any]:
    """A Stripe object (or None) as a plain dict."""
    if value is None:
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def _failure(error: stripe.StripeError) -> ChargeResult:
    body = error.json_body or {}
    details = body.get("error", {}) if isinstance(body, dict) else {}
    code = details.get("decline_code") or details.get("code") or error.code or "card_declined"
    intent = _id(details.get("payment_intent"))
    return ChargeResult(
        False, intent, DECLINE_CODES.get(code, "card_declined"), error.user_message or str(code)
    )


class StripeCardGateway:
    name = "stripe"
    kind: PaymentKind = "card"
    automatic = True

    def __init__(self, client: stripe.StripeClient, publishable_key: str) -> None:
        self.client = client
        self.publishable_key = publishable_key

    def setup_intent(self, purpose: str, customer: str | None = None) -> IntentSecret:
        """A SetupIntent for the browser to confirm a card with (``usage=off_session``)."""
        params: dict[str, Any] = {
            "usage": "off_session",
            "payment_method_types": ["card"],
            "metadata": {"portico_purpose": purpose},
        }
        if customer:
            params["customer"] = customer
        intent = self._call(lambda: self.client.v1.setup_intents.create(params=params))  # type: ignore[arg-type]
        return IntentSecret(intent.id, str(intent.client_secret))

    def intent_secret(self, payment_intent: str) -> IntentSecret | None:
        """The client secret of a PaymentIntent still waiting for the customer, else None."""
        intent = self._call(lambda: self.client.v1.payment_intents.retrieve(payment_intent))
        if intent.status not in (
            "requires_action",
            "requires_payment_method",
            "requires_confirmation",
        ):
            return None
        return IntentSecret(intent.id, str(intent.client_secret), _id(intent.payment_method))

    def tokenize(self, details: PaymentDetails | None) -> Tokenized:
        if not isinstance(details, StripeCardDetails) or not details.setup_intent:
            raise InvalidPaymentDetails("card_needs_javascript", "stripe_card", "no SetupIntent")
        setup_intent = details.setup_intent
        try:
            intent = self.client.v1.setup_intents.retrieve(setup_intent)
        except stripe.InvalidRequestError as error:
            raise InvalidPaymentDetails("details_required", "stripe_card", "unknown") from error
        except stripe.StripeError as error:
            raise StripeUnavailable(type(error).__name__) from error
        metadata = _plain(intent.metadata)
        if metadata.get("portico_purpose") != details.purpose:
            raise InvalidPaymentDetails("details_required", "stripe_card", "not for this form")
        if intent.status != "succeeded" or not intent.payment_method:
            raise InvalidPaymentDetails("card_not_confirmed", "stripe_card", intent.status)
        method_id = _id(intent.payment_method)
        assert method_id is not None
        method = self._call(lambda: self.client.v1.payment_methods.retrieve(method_id))
        customer = _id(method.customer) or _id(intent.customer)
        if customer is None:
            created = self._call(
                lambda: self.client.v1.customers.create(
                    params={"metadata": {"portico_purpose": details.purpose}},
                    options={"idempotency_key": f"customer:{setup_intent}"},
                )
            )
            customer = created.id
        if _id(method.customer) is None:
            self._call(
                lambda: self.client.v1.payment_methods.attach(
                    method_id, params={"customer": customer}
                )
            )
        card = _plain(method).get("card") or {}
        details_out: dict[str, Any] = {
            "brand": card.get("brand") or "card",
            "last4": card.get("last4") or "",
            "exp_month": card.get("exp_month"),
            "exp_year": card.get("exp_year"),
            "holder": "",
            "stripe_customer": customer,
        }
        return Tokenized(kind="card", gateway=self.name, token=method_id, details=details_out)

    def verify(self, method: Mapping[str, Any]) -> ChargeResult:
        """The SetupIntent confirmed the card (3-D Secure included): nothing left to check."""
        return ChargeResult(True, None)

    def charge(self, method: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        confirmed = method.get("payment_intent")
        if confirmed:
            return self._confirmed(str(confirmed), method, amount, key)
        present = bool(method.get("customer_present"))
        params: dict[str, Any] = {
            "amount": amount.minor,
            "currency": amount.currency.lower(),
            "customer": method.get("stripe_customer"),
            "payment_method": method["token"],
            "payment_method_types": ["card"],
            "confirm": True,
            "metadata": {"portico_key": key},
        }
        if not present:
            params["off_session"] = True
        try:
            intent = self.client.v1.payment_intents.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": keys.stripe_request(key, method["token"])},
            )
        except stripe.CardError as error:
            return _failure(error)
        except stripe.StripeError as error:
            raise StripeUnavailable(type(error).__name__) from error
        if intent.status == "succeeded":
            return ChargeResult(True, intent.id)
        if intent.status in ("requires_action", "requires_confirmation"):
            return ChargeResult(
                False, intent.id, "authentication_required", "The bank asks for authentication."
            )
        if intent.status == "processing":
            return ChargeResult(True, intent.id)
        return ChargeResult(False, intent.id, "card_declined", f"PaymentIntent {intent.status}")

    def _confirmed(
        self, intent_id: str, method: Mapping[str, Any], amount: Money, key: str
    ) -> ChargeResult:
        """A PaymentIntent the browser confirmed: only read back, never trusted on its word."""
        intent = self._call(lambda: self.client.v1.payment_intents.retrieve(intent_id))
        metadata = _plain(intent.metadata)
        if (
            metadata.get("portico_key") != key
            or intent.amount != amount.minor
            or str(intent.currency).upper() != amount.currency
        ):
            return ChargeResult.failed("card_declined", "the PaymentIntent is not for this charge")
        if intent.status == "succeeded":
            return ChargeResult(True, intent.id)
        error = _plain(intent.last_payment_error)
        code = error.get("code") or "card_declined"
        if code == "payment_intent_authentication_failure":
            code = "authentication_failed"
        return ChargeResult(False, intent.id, code, error.get("message") or code)

    def refund(self, payment: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        reference = str(payment.get("reference") or "")
        target = (
            {"payment_intent": reference} if reference.startswith("pi_") else {"charge": reference}
        )
        try:
            refund = self.client.v1.refunds.create(
                params={"amount": amount.minor, "metadata": {"portico_key": key}, **target},  # type: ignore[typeddict-item]
                options={"idempotency_key": key},
            )
        except stripe.InvalidRequestError as error:
            return ChargeResult.failed("refund_failed", error.user_message or "refused")
        except stripe.StripeError as error:
            raise StripeUnavailable(type(error).__name__) from error
        return ChargeResult(refund.status in ("succeeded", "pending"), refund.id)

    def _call(self, request: Any) -> Any:
        try:
            return request()
        except stripe.StripeError as error:
            # The type and Stripe's request id only: messages may quote what was sent.
            log.warning("Stripe refused a request: %s (%s)", type(error).__name__, error.request_id)
            raise StripeUnavailable(type(error).__name__) from error
