"""The order page's payment inputs, described as form-engine field specs.

The payment choice is a radio field and the card and bank inputs are text and
IBAN fields that are visible and required only for their method, so the one
engine validates them, renders them, and mirrors the rules in the browser.
Their values are turned into gateway details and never stored: only merchant
fields reach the customer record, and card inputs are never echoed back.
"""

from __future__ import annotations

import re

from babel.support import NullTranslations

from app.billing.gateways import CardDetails, PaymentDetails, SepaDetails, StripeCardDetails
from app.config.models import MerchantConfig
from app.signup.view import payment_method_label
from forms import Choice, Condition, FieldSpec
from forms.types.hidden import HiddenSpec
from forms.types.iban import IbanSpec
from forms.types.radio import RadioSpec
from forms.types.text import TextSpec

CARD_INPUTS = ("card_number", "card_expiry", "card_cvc", "card_holder")
SEPA_INPUTS = ("sepa_holder", "sepa_iban")
# A Stripe merchant's page has no card inputs: Stripe.js confirms the card and the page
# sends the intents' ids (see app/billing/gateways/stripe.py).
STRIPE_INPUTS = ("stripe_setup_intent", "stripe_payment_intent")
PAYMENT_INPUTS = frozenset({"payment_method", *CARD_INPUTS, *SEPA_INPUTS, *STRIPE_INPUTS})
NEVER_ECHOED = frozenset({"card_number", "card_expiry", "card_cvc"})
_EXPIRY = re.compile(r"^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$")


def payment_specs(config: MerchantConfig, t: NullTranslations) -> tuple[FieldSpec, ...]:
    """Specs for the payment choice (when there is one) and each method's inputs."""
    methods = config.payments.methods
    specs: list[FieldSpec] = []
    section: str | None = t.gettext("Payment")
    if len(methods) > 1:
        specs.append(
            RadioSpec(
                type="radio",
                name="payment_method",
                label=t.gettext("Payment method"),
                choices=tuple(Choice(value=m, label=payment_method_label(m, t)) for m in methods),
                default=methods[0],
                required=True,
                section=section,
            )
        )
        section = None

    def only_for(method: str) -> dict:
        if len(methods) == 1:
            return {"required": True}
        condition = Condition(field="payment_method", equals=method)
        return {"visible_if": condition, "required_if": condition}

    if "card" in methods and config.payments.providers.card == "stripe":
        specs += [
            HiddenSpec(type="hidden", name=name, label=t.gettext("Card")) for name in STRIPE_INPUTS
        ]
    elif "card" in methods:
        card = only_for("card")
        specs += [
            TextSpec(type="text", name="card_number", label=t.gettext("Card number"),
                     autocomplete="cc-number", max_length=23, section=section, **card),
            TextSpec(type="text", name="card_expiry", label=t.gettext("Expiry date (MM / YY)"),
                     placeholder=t.gettext("MM / YY"), autocomplete="cc-exp", max_length=7,
                     pattern=_EXPIRY.pattern,
                     pattern_message=t.gettext("Enter the expiry date like 08 / 29."), **card),
            TextSpec(type="text", name="card_cvc", label=t.gettext("Security code (CVC)"),
                     autocomplete="cc-csc", max_length=4, **card),
            TextSpec(type="text", name="card_holder", label=t.gettext("Name on the card"),
                     autocomplete="cc-name", max_length=100, visible_if=card.get("visible_if")),
        ]  # fmt: skip
        section = None
    if "sepa_debit" in methods:
        sepa = only_for("sepa_debit")
        specs += [
            TextSpec(type="text", name="sepa_holder", label=t.gettext("Account holder"),
                     autocomplete="name", max_length=100, section=section, **sepa),
            IbanSpec(type="iban", name="sepa_iban", label=t.gettext("IBAN"),
                     help=t.gettext("By giving your IBAN you authorise us to collect payments "
                                    "by SEPA Direct Debit."), **sepa),
        ]  # fmt: skip
    return tuple(specs)


def chosen_method(config: MerchantConfig, data: dict) -> str:
    methods = config.payments.methods
    if len(methods) == 1:
        return methods[0]
    return data.get("payment_method") or methods[0]


def input_for(gateway_field: str) -> str:
    """The page input a gateway's refusal is about (gateways name bank fields their own way)."""
    return {
        "iban": "sepa_iban",
        "account_holder": "sepa_holder",
        "stripe_card": "stripe_setup_intent",
    }.get(gateway_field, gateway_field)


def payment_details(
    method: str, data: dict, config: MerchantConfig | None = None, purpose: str = ""
) -> PaymentDetails | None:
    """What the gateway needs for the chosen method, from validated form data.

    A Stripe card always gets details, empty when the page could not confirm the card
    (no JavaScript), so that the gateway refuses it with a message instead of signing up
    without a card."""
    if method == "card" and config is not None and config.payments.providers.card == "stripe":
        return StripeCardDetails(
            setup_intent=data.get("stripe_setup_intent") or "",
            purpose=purpose,
            payment_intent=data.get("stripe_payment_intent") or None,
        )
    if method == "card" and data.get("card_number"):
        month, year = _EXPIRY.match(data["card_expiry"]).groups()  # type: ignore[union-attr]
        return CardDetails(
            number=re.sub(r"[\s-]", "", data["card_number"]),
            exp_month=int(month),
            exp_year=int(year),
            cvc=data["card_cvc"].strip(),
            holder=data.get("card_holder") or "",
        )
    if method == "sepa_debit" and data.get("sepa_iban"):
        return SepaDetails(iban=data["sepa_iban"], holder=data["sepa_holder"])
    return None
