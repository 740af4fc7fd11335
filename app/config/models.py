"""The merchant YAML as immutable pydantic models: one option object per key.

Every key carries a description; ``portico schema`` turns these models into a
JSON Schema for editors. Checks that need more than one key (plan references,
field conditions, currency decimals, installed themes) live in
``app/config/checks.py`` so that they can report every problem with its
position, not only the first.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, StringConstraints, model_validator
from stdnum import iban as stdnum_iban

from app.config.html import LocalizedHtml
from app.core.money import KNOWN_CURRENCIES
from forms import AnyFieldSpec, LocalizedText
from forms.specs import FieldName, Spec

Language = Literal["de", "en", "sv"]
LANGUAGES = get_args(Language)
"""Languages whose built-in strings Portico ships (``locales/``)."""

COUNTRIES = frozenset(
    code
    for code in Locale("en").territories
    if len(code) == 2 and code.isalpha() and code not in {"EU", "EZ", "UN", "QO", "ZZ"}
)

Interval = Literal["day", "week", "month", "year"]
PaymentMethod = Literal["card", "sepa_debit", "invoice"]
WebhookEvent = Literal[
    "signup.completed",
    "customer.updated",
    "subscription.created",
    "subscription.updated",
    "subscription.paused",
    "subscription.canceled",
    "invoice.issued",
    "invoice.paid",
    "invoice.payment_failed",
    "portal.feedback",
]
_LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if parts.scheme != "https" and not loopback:
        raise ValueError(f"expected an https:// URL, received '{value}'")
    if not parts.hostname:
        raise ValueError(f"expected a URL with a host name, received '{value}'")
    return value


def _origin(value: str) -> str:
    _https_url(value)
    parts = urlsplit(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        origin = f"{parts.scheme}://{parts.netloc}"
        raise ValueError(f"expected an origin without a path, like '{origin}', received '{value}'")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"'{value}' is not a valid email address: {error}") from None


def _one_line(value: str) -> str:
    """Names that reach mail headers (``From``, ``Subject``) must not break a line there."""
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
        raise ValueError(
            f"expected one line without control characters or line breaks, received {value!r}"
        )
    return value


def _country(value: str) -> str:
    if value not in COUNTRIES:
        raise ValueError(f"expected an ISO 3166 country code like 'DE', received '{value}'")
    return value


def _currency(value: str) -> str:
    if value not in KNOWN_CURRENCIES:
        raise ValueError(f"expected an ISO 4217 currency code like 'EUR', received '{value}'")
    return value


@cache
def _time_zones() -> frozenset[str]:
    """Every IANA zone name; reading them walks the tz database, so once per process."""
    return frozenset(zoneinfo.available_timezones())


def _timezone(value: str) -> str:
    if value not in _time_zones():
        raise ValueError(f"expected an IANA time zone like 'Europe/Berlin', received '{value}'")
    return value


def _iban(value: str) -> str:
    if not stdnum_iban.is_valid(value):
        raise ValueError(f"'{value}' is not a valid IBAN")
    return stdnum_iban.format(value)


def _amount(value: Decimal) -> Decimal:
    if not value.is_finite() or value < 0:
        raise ValueError(f"expected a non-negative amount, received '{value}'")
    return value


HttpsUrl = Annotated[str, AfterValidator(_https_url)]
Origin = Annotated[str, AfterValidator(_origin)]
Email = Annotated[str, AfterValidator(_email)]
Country = Annotated[str, AfterValidator(_country)]
Color = Annotated[str, StringConstraints(pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$")]
Amount = Annotated[
    Decimal,
    AfterValidator(_amount),
    Field(description='A decimal string in the merchant currency, e.g. "9.00".'),
]
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class Address(Spec):
    street: str = Field(description="Street and house number.")
    street2: str | None = Field(None, description="A second address line.")
    postal_code: str
    city: str
    region: str | None = None
    country: Country = Field(description="ISO 3166 alpha-2 code, e.g. DE.")


class Links(Spec):
    terms: HttpsUrl | None = Field(None, description="Terms and conditions.")
    privacy: HttpsUrl | None = Field(None, description="Privacy policy.")
    imprint: HttpsUrl | None = Field(None, description="Legal notice (Impressum).")
    withdrawal: HttpsUrl | None = Field(None, description="Right of withdrawal.")


class Merchant(Spec):
    name: Annotated[str, AfterValidator(_one_line)] = Field(
        description="The legal name shown on pages and invoices."
    )
    email: Email = Field(description="Where customers' replies go; the sender of mails.")
    phone: str | None = None
    address: Address
    vat_id: str | None = Field(None, description="The merchant's VAT ID, printed on invoices.")
    registration: str | None = Field(
        None, description="Commercial register entry, e.g. 'HRB 12345, Amtsgericht Berlin'."
    )
    currency: Annotated[str, AfterValidator(_currency)] = Field(description="ISO 4217 code.")
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    links: Links = Links()


class Colors(Spec):
    primary: Color = Field("#0b5fff", description="Buttons and highlights, as #rrggbb.")
    background: Color = "#ffffff"
    text: Color = "#1a1a1a"
    accent: Color | None = Field(None, description="Secondary highlights; defaults to primary.")


class Branding(Spec):
    theme: str = Field("default", description="A folder under themes/.")
    logo: str | None = Field(None, description="PNG, JPEG or SVG, relative to config/merchants/.")
    favicon: str | None = Field(None, description="PNG or SVG, relative to config/merchants/.")
    colors: Colors = Colors()


class Embed(Spec):
    allowed_origins: tuple[Annotated[str, AfterValidator(_origin)], ...] = Field(
        (), description="Sites that may show the order page in an iframe."
    )
    success: Literal["frame", "top"] = Field(
        "frame",
        description="After a sign-up inside a frame: show the success page in the frame, "
        "or send the whole window to order_page.success.redirect_url.",
    )


class Plan(Spec):
    id: Identifier = Field(description="Stable id used in links (?plan=) and stored data.")
    name: LocalizedText
    description: LocalizedText | None = None
    features: tuple[LocalizedText, ...] = ()
    price: Amount
    interval: Interval = "month"
    interval_count: int = Field(1, ge=1, le=36, description="Bill every N intervals.")
    trial_days: int = Field(0, ge=0, le=730)
    setup_fee: Amount = Decimal(0)
    highlight: bool = Field(False, description="Emphasise this plan in the picker.")
    badge: LocalizedText | None = Field(None, description="A short tag such as 'Popular'.")
    available: bool = Field(
        True, description="false retires the plan: no new sign-ups, existing ones continue."
    )


class Consent(Spec):
    name: FieldName
    label: LocalizedHtml = Field(description="May contain links to the terms.")
    required: bool = False


class Success(Spec):
    message: LocalizedHtml | None = None
    redirect_url: HttpsUrl | None = Field(
        None, description="Send the customer here after signing up instead of our page."
    )


class OrderPage(Spec):
    title: LocalizedText | None = None
    intro: LocalizedHtml | None = None
    plans: tuple[Identifier, ...] | None = Field(
        None, description="Plans offered on the page, in this order; default: all available."
    )
    default_plan: Identifier | None = None
    fields: tuple[AnyFieldSpec, ...] = Field(min_length=1)
    consents: tuple[Consent, ...] = ()
    submit_label: LocalizedText | None = None
    success: Success = Success()


class Payments(Spec):
    methods: tuple[PaymentMethod, ...] = Field(
        ("invoice",), min_length=1, description="Offered on the order page, in this order."
    )
    gateway: Literal["sandbox"] = Field("sandbox", description="The card/SEPA gateway.")
    sepa_creditor_id: str | None = Field(
        None,
        description="Your SEPA creditor identifier (e.g. DE98ZZZ09999999999), printed with "
        "the mandate reference on invoices paid by direct debit.",
    )


class Tax(Spec):
    rate: Decimal = Field(Decimal(0), ge=0, le=100, description="VAT percent for domestic sales.")
    reverse_charge: bool = Field(False, description="0 % for EU businesses with a valid VAT ID.")
    prices_include_tax: bool = False
    eu_oss: bool = Field(False, description="B2C in other EU countries: their VAT rate (OSS).")


class BankAccount(Spec):
    iban: Annotated[str, AfterValidator(_iban)] = Field(description="IBAN customers transfer to.")
    bic: str | None = Field(None, description="BIC (SWIFT code) of the bank.")
    bank: str | None = Field(None, description="The bank's name.")
    holder: str | None = Field(None, description="Account holder; default: the merchant's name.")


class Billing(Spec):
    invoice_prefix: Annotated[str, StringConstraints(max_length=30)] = Field(
        "INV-{year}-", description="Placeholders: {year}."
    )
    payment_terms_days: int = Field(14, ge=0, le=120)
    tax: Tax = Tax()
    retry_days: tuple[Annotated[int, Field(ge=1, le=60)], ...] = Field(
        (1, 3, 7),
        description="Card and SEPA: retry a failed collection this many days after the "
        "invoice date; after the last failure the subscription is past_due.",
    )
    cancel_unpaid_after_days: int | None = Field(
        None,
        ge=1,
        le=365,
        description="Cancel a subscription whose invoice is this many days past its due "
        "date; null: never cancel for non-payment.",
    )
    bank_account: BankAccount | None = Field(
        None, description="Printed on invoices that customers pay by bank transfer."
    )

    @model_validator(mode="after")
    def _prefix_placeholders(self) -> Billing:
        unknown = set(re.findall(r"\{([^}]*)\}", self.invoice_prefix)) - {"year"}
        if unknown:
            raise ValueError(f"invoice_prefix may only use {{year}}, found {{{unknown.pop()}}}")
        return self


class Repeating(Spec):
    repeating: int = Field(ge=1, le=120, description="The number of billing cycles.")


class Coupon(Spec):
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,40}$")]
    name: LocalizedText | None = None
    percent_off: Decimal | None = Field(None, gt=0, le=100)
    amount_off: Amount | None = None
    duration: Literal["once", "forever"] | Repeating = "once"
    plans: tuple[Identifier, ...] | None = Field(None, description="Only for these plans.")
    expires: date | None = None
    max_redemptions: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _one_discount(self) -> Coupon:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give exactly one of 'percent_off' or 'amount_off'")
        return self


class ChangePlan(Spec):
    enabled: bool = False
    plans: tuple[Identifier, ...] = ()
    proration: Literal["immediate", "none"] = "immediate"
    downgrade: Literal["immediately", "at_period_end"] = "at_period_end"


class Cancel(Spec):
    enabled: bool = True
    mode: Literal["at_period_end", "immediately"] = "at_period_end"
    reasons: dict[Identifier, LocalizedText] = {}
    comment: bool = Field(True, description="Offer a free-text comment.")
    retention_coupon: str | None = Field(None, description="A coupon code offered first.")


class Pause(Spec):
    enabled: bool = False
    max_cycles: int = Field(3, ge=1, le=12)


class Support(Spec):
    email: Email | None = None
    phone: str | None = None
    url: HttpsUrl | None = None


class Faq(Spec):
    question: LocalizedText
    answer: LocalizedHtml


class Portal(Spec):
    enabled: bool = True
    return_url: HttpsUrl | None = None
    invoices: bool = True
    payment_methods: bool = True
    change_plan: ChangePlan = ChangePlan()
    cancel: Cancel = Cancel()
    pause: Pause = Pause()
    support: Support = Support()
    faq: tuple[Faq, ...] = ()
    feedback: bool = Field(True, description="Ask for a 1-5 rating after an action.")


class Webhook(Spec):
    url: HttpsUrl
    events: tuple[WebhookEvent, ...] = Field(min_length=1)
    secret_env: Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")] = Field(
        description="The environment variable holding the signing secret."
    )


class MerchantConfig(Spec):
    """One merchant's whole file. The slug is the file name, not a key."""

    merchant: Merchant
    languages: tuple[Language, ...] = Field(min_length=1, description="The first is the default.")
    branding: Branding = Branding()
    embed: Embed = Embed()
    plans: tuple[Plan, ...] = Field(min_length=1)
    order_page: OrderPage
    payments: Payments = Payments()
    billing: Billing = Billing()
    coupons: tuple[Coupon, ...] = ()
    portal: Portal = Portal()
    webhooks: tuple[Webhook, ...] = ()

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def plan(self, plan_id: str) -> Plan | None:
        return next((plan for plan in self.plans if plan.id == plan_id), None)

    @property
    def offered_plans(self) -> tuple[Plan, ...]:
        """Plans shown on the order page, in page order."""
        if self.order_page.plans is None:
            return tuple(plan for plan in self.plans if plan.available)
        chosen = (self.plan(plan_id) for plan_id in self.order_page.plans)
        return tuple(plan for plan in chosen if plan and plan.available)

    def coupon(self, code: str) -> Coupon | None:
        wanted = code.strip().upper()
        return next((c for c in self.coupons if c.code.upper() == wanted), None)
