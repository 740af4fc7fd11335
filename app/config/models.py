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
    postal_code: str = Field(
        description='The postal code; quote it ("01067") so YAML keeps leading zeros.'
    )
    city: str = Field(description="The city or town.")
    region: str | None = Field(
        None, description="State, province or county, where the address needs one."
    )
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
    email: Email = Field(
        description="The sender of every mail, also printed on invoices; customers' replies "
        "go here unless portal.support.email is set."
    )
    phone: str | None = Field(None, description="A phone number printed on invoices.")
    address: Address = Field(
        description="The postal address on invoices and mails. Its country is your home "
        "country for VAT, and the one assumed for customers' phone numbers and postal codes."
    )
    vat_id: str | None = Field(None, description="The merchant's VAT ID, printed on invoices.")
    registration: str | None = Field(
        None, description="Commercial register entry, e.g. 'HRB 12345, Amtsgericht Berlin'."
    )
    currency: Annotated[str, AfterValidator(_currency)] = Field(description="ISO 4217 code.")
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(
        "UTC",
        description="An IANA time zone such as Europe/Berlin: it dates invoices and mails, "
        "and decides the year in invoice numbers and what 'today' is. Default UTC.",
    )
    links: Links = Field(
        Links(), description="Your legal pages (https URLs), linked in the footer of every page."
    )


class Colors(Spec):
    primary: Color = Field("#0b5fff", description="Buttons and highlights, as #rrggbb.")
    background: Color = Field(
        "#ffffff", description="The background of pages and mails, as #rrggbb."
    )
    text: Color = Field(
        "#1a1a1a",
        description="Body text, as #rrggbb; it needs a contrast of 4.5:1 with the background.",
    )
    accent: Color | None = Field(None, description="Secondary highlights; defaults to primary.")


class Branding(Spec):
    theme: str = Field("default", description="A folder under themes/.")
    logo: str | None = Field(
        None,
        description="PNG, JPEG, WebP, ICO or SVG (known by its content; SVG is sanitized) in "
        "your own folder, relative to config/merchants/: <slug>/logo.svg.",
    )
    favicon: str | None = Field(
        None,
        description="PNG, ICO, SVG, WebP or JPEG in your own folder, relative to "
        "config/merchants/: <slug>/favicon.png.",
    )
    colors: Colors = Field(Colors(), description="The colours of pages, mails and invoices.")


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
    name: LocalizedText = Field(
        description="The plan's name on the order page, in the portal and on invoices."
    )
    description: LocalizedText | None = Field(
        None, description="A short line under the plan's name on the order page and in the portal."
    )
    features: tuple[LocalizedText, ...] = Field(
        (), description="Bullet points listed with the plan on the order page and in the portal."
    )
    price: Amount = Field(
        description='Price per interval as a decimal string in the merchant currency, e.g. "9.00". '
        "A new price applies to new sign-ups; existing subscriptions keep theirs."
    )
    interval: Interval = Field(
        "month", description="The billing period: day, week, month or year. Default month."
    )
    interval_count: int = Field(1, ge=1, le=36, description="Bill every N intervals.")
    trial_days: int = Field(
        0,
        ge=0,
        le=730,
        description="Days of free trial before the first invoice; 0 (the default) for none.",
    )
    setup_fee: Amount = Field(
        Decimal(0),
        description='A one-time fee as a decimal string in the merchant currency, e.g. "49.00", '
        "billed with the first invoice (after the trial). Default 0.",
    )
    highlight: bool = Field(False, description="Emphasise this plan in the picker.")
    badge: LocalizedText | None = Field(None, description="A short tag such as 'Popular'.")
    available: bool = Field(
        True, description="false retires the plan: no new sign-ups, existing ones continue."
    )


class Consent(Spec):
    name: FieldName = Field(
        description="The checkbox's name in the form and in stored data; unique among the "
        "page's fields and consents."
    )
    label: LocalizedHtml = Field(description="May contain links to the terms.")
    required: bool = Field(
        False,
        description="true: the box must be ticked to order. false: an optional opt-in (e.g. "
        "marketing) that customers can give or withdraw later in the portal.",
    )


class Success(Spec):
    message: LocalizedHtml | None = Field(
        None,
        description='HTML shown on the success page; default: "Your order has been received."',
    )
    redirect_url: HttpsUrl | None = Field(
        None,
        description="Send the customer here after signing up instead of our success page. "
        "Inside an embed frame only with embed.success: top.",
    )


class OrderPage(Spec):
    title: LocalizedText | None = Field(
        None, description='The page heading; default: "Order now" in the page language.'
    )
    intro: LocalizedHtml | None = Field(None, description="HTML shown under the heading.")
    plans: tuple[Identifier, ...] | None = Field(
        None, description="Plans offered on the page, in this order; default: all available."
    )
    default_plan: Identifier | None = Field(
        None,
        description="The plan chosen at first when the link has no ?plan=; default: the first "
        "plan offered.",
    )
    fields: tuple[AnyFieldSpec, ...] = Field(
        min_length=1,
        description="The form's fields, in this order; exactly one is named email, of type email.",
    )
    consents: tuple[Consent, ...] = Field(
        (), description="Checkboxes below the fields, e.g. accepting the terms."
    )
    submit_label: LocalizedText | None = Field(
        None, description='The order button\'s text; default: "Order now" in the page language.'
    )
    success: Success = Field(Success(), description="What happens after a sign-up.")


EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")]


class Providers(Spec):
    card: Literal["sandbox", "stripe"] = Field(
        "sandbox", description="Who takes card payments: the built-in sandbox or Stripe."
    )
    sepa_debit: Literal["sandbox", "bank_file", "stripe"] = Field(
        "sandbox",
        description="Who collects SEPA direct debits: the sandbox, pain.008 files for your "
        "bank (bank_file) or Stripe.",
    )


class StripeKeys(Spec):
    publishable_key: str = Field(
        description="Your publishable key (pk_live_… or pk_test_…); it is shown to browsers."
    )
    secret_key_env: EnvName = Field(
        description="The environment variable holding your secret key (sk_… or rk_…), "
        "named PORTICO_<SLUG>_…; the key itself never sits in YAML."
    )
    webhook_secret_env: EnvName = Field(
        description="The environment variable holding the webhook endpoint's signing secret "
        "(whsec_…), named PORTICO_<SLUG>_…."
    )


class Payments(Spec):
    methods: tuple[PaymentMethod, ...] = Field(
        ("invoice",), min_length=1, description="Offered on the order page, in this order."
    )
    gateway: Literal["sandbox"] = Field(
        "sandbox", description="Deprecated: use providers. The default provider."
    )
    providers: Providers = Field(
        default_factory=Providers, description="The provider per payment method."
    )
    stripe: StripeKeys | None = Field(
        None, description="Stripe keys, needed when a provider is stripe."
    )

    @property
    def stripe_methods(self) -> tuple[str, ...]:
        """The offered methods that go through Stripe."""
        return tuple(m for m in self.methods if getattr(self.providers, m, None) == "stripe")

    sepa_creditor_id: str | None = Field(
        None,
        description="Your SEPA creditor identifier (e.g. DE98ZZZ09999999999), printed with "
        "the mandate reference on invoices paid by direct debit.",
    )


class Tax(Spec):
    rate: Decimal = Field(
        Decimal(0),
        ge=0,
        le=100,
        description='Your VAT rate in percent, e.g. "19": for every sale that is neither '
        "reverse charge nor OSS, buyers outside the EU included.",
    )
    reverse_charge: bool = Field(
        False,
        description="0 % with the reverse-charge note for businesses whose VAT ID is valid and "
        "from another EU member state.",
    )
    prices_include_tax: bool = Field(
        False,
        description="true: prices and amounts are gross and the VAT is taken out of them; "
        "false: VAT is added on top.",
    )
    eu_oss: bool = Field(False, description="B2C in other EU countries: their VAT rate (OSS).")


class BankAccount(Spec):
    iban: Annotated[str, AfterValidator(_iban)] = Field(description="IBAN customers transfer to.")
    bic: str | None = Field(None, description="BIC (SWIFT code) of the bank.")
    bank: str | None = Field(None, description="The bank's name.")
    holder: str | None = Field(None, description="Account holder; default: the merchant's name.")


class Billing(Spec):
    invoice_prefix: Annotated[str, StringConstraints(max_length=30)] = Field(
        "INV-{year}-",
        description="Invoice numbers are this prefix plus six digits, e.g. INV-2026-000042; "
        "{year}, the only placeholder, is the issue year; with it, numbers restart each year.",
    )
    payment_terms_days: int = Field(
        14,
        ge=0,
        le=120,
        description="Days after its date that an invoice the customer pays by transfer is "
        "due; invoices collected automatically (card, SEPA) are due at once.",
    )
    tax: Tax = Field(Tax(), description="VAT: your rate, reverse charge and OSS.")
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
    code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{2,40}$")] = Field(
        description="What customers enter on the order page (or pass as ?coupon=); "
        "2-40 letters, digits, _ or -, case-insensitive."
    )
    name: LocalizedText | None = Field(
        None,
        description="The offer in words, e.g. '20 % off for 3 months', shown when the portal "
        "offers it to a customer who cancels; default: the code.",
    )
    percent_off: Decimal | None = Field(
        None,
        gt=0,
        le=100,
        description="Percent off the plan price of each discounted period; give this or "
        "amount_off.",
    )
    amount_off: Amount | None = Field(
        None,
        description="An amount off the plan price of each discounted period, as a decimal "
        'string in the merchant currency, e.g. "5.00"; give this or percent_off.',
    )
    duration: Literal["once", "forever"] | Repeating = Field(
        "once",
        description="Which billed periods get the discount: once (the first), forever, or "
        "{repeating: N} (the first N). Never the setup fee.",
    )
    plans: tuple[Identifier, ...] | None = Field(None, description="Only for these plans.")
    expires: date | None = Field(
        None,
        description="The last day (YYYY-MM-DD, merchant time zone) the code can be redeemed; "
        "subscriptions that redeemed it keep their discount.",
    )
    max_redemptions: int | None = Field(
        None, ge=1, description="How many subscriptions may redeem the code; default: no limit."
    )

    @model_validator(mode="after")
    def _one_discount(self) -> Coupon:
        if (self.percent_off is None) == (self.amount_off is None):
            raise ValueError("give exactly one of 'percent_off' or 'amount_off'")
        return self


class ChangePlan(Spec):
    enabled: bool = Field(False, description="Let customers change their plan in the portal.")
    plans: tuple[Identifier, ...] = Field((), description="The plan ids customers may change to.")
    proration: Literal["immediate", "none"] = Field(
        "immediate",
        description="immediate: credit the unused time of the old plan and charge the new "
        "one's share at once (also credits an immediate cancellation); none: the new price "
        "applies from the next renewal.",
    )
    downgrade: Literal["immediately", "at_period_end"] = Field(
        "at_period_end",
        description="When a change to a cheaper plan (by price per day) takes effect; other "
        "changes take effect at once.",
    )


class Cancel(Spec):
    enabled: bool = Field(True, description="Let customers cancel in the portal.")
    mode: Literal["at_period_end", "immediately"] = Field(
        "at_period_end",
        description="at_period_end: the subscription runs until the paid period ends; "
        "immediately: it ends at once.",
    )
    reasons: dict[Identifier, LocalizedText] = Field(
        {},
        description="Reasons to choose from when canceling, as id: text; when given, "
        "customers must pick one.",
    )
    comment: bool = Field(True, description="Offer a free-text comment.")
    retention_coupon: str | None = Field(None, description="A coupon code offered first.")


class Pause(Spec):
    enabled: bool = Field(
        False, description="Let customers pause an active subscription in the portal."
    )
    max_cycles: int = Field(
        3,
        ge=1,
        le=12,
        description="The most billing periods a pause may last; it starts when the current "
        "period ends.",
    )


class Support(Spec):
    email: Email | None = Field(
        None,
        description="Shown on the portal's help page and the Reply-To of every mail; "
        "default: merchant.email.",
    )
    phone: str | None = Field(None, description="Shown on the portal's help page.")
    url: HttpsUrl | None = Field(
        None, description="A help centre link shown on the portal's help page."
    )


class Faq(Spec):
    question: LocalizedText = Field(description="The question, as plain text.")
    answer: LocalizedHtml = Field(description="The answer; HTML allowed.")


class Portal(Spec):
    enabled: bool = Field(
        True, description="false switches the whole portal off: its pages answer 404."
    )
    return_url: HttpsUrl | None = Field(
        None, description='Where the "Back to" link in the portal leads, e.g. your account page.'
    )
    invoices: bool = Field(
        True, description="The invoices pages: the list, PDFs and paying an open invoice."
    )
    payment_methods: bool = Field(
        True,
        description="The payment methods page: add a card or SEPA mandate, choose the "
        "default, turn automatic payment on or off.",
    )
    change_plan: ChangePlan = Field(ChangePlan(), description="Changing plans in the portal.")
    cancel: Cancel = Field(Cancel(), description="Canceling in the portal.")
    pause: Pause = Field(Pause(), description="Pausing in the portal.")
    support: Support = Field(Support(), description="Contact details on the portal's help page.")
    faq: tuple[Faq, ...] = Field(
        (), description="Questions and answers on the portal's help page, searchable."
    )
    feedback: bool = Field(True, description="Ask for a 1-5 rating after an action.")


class Webhook(Spec):
    url: HttpsUrl = Field(
        description="Receives each event as a signed JSON POST; https:// (http:// only for "
        "localhost)."
    )
    events: tuple[WebhookEvent, ...] = Field(
        min_length=1, description="The events sent to this URL."
    )
    secret_env: Annotated[str, StringConstraints(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")] = Field(
        description="The environment variable holding the signing secret, named "
        "PORTICO_<SLUG>_… (PORTICO_ACME_WEBHOOK_SECRET for acme)."
    )


class MerchantConfig(Spec):
    """One merchant's whole file. The slug is the file name, not a key."""

    merchant: Merchant = Field(
        description="Who sells: name, contact, address, currency and time zone."
    )
    languages: tuple[Language, ...] = Field(
        min_length=1, description="The languages of pages and mails; the first is the default."
    )
    branding: Branding = Field(
        Branding(), description="Theme, logo and colours of pages, mails and invoices."
    )
    embed: Embed = Field(Embed(), description="Showing the order page in a frame on your sites.")
    plans: tuple[Plan, ...] = Field(
        min_length=1, description="The plans customers can subscribe to."
    )
    order_page: OrderPage = Field(
        description="The order page: texts, plans offered, fields, consents, success."
    )
    payments: Payments = Field(Payments(), description="How customers pay.")
    billing: Billing = Field(
        Billing(),
        description="Invoices, VAT, payment terms, retries and cancellation for non-payment.",
    )
    coupons: tuple[Coupon, ...] = Field(
        (), description="Discount codes for the order page and the portal's retention offer."
    )
    portal: Portal = Field(
        Portal(), description="The customer portal at /<merchant>/portal and what it offers."
    )
    webhooks: tuple[Webhook, ...] = Field(
        (), description="Addresses that receive signed event notifications."
    )

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
