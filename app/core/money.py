"""Money as an integer count of minor units in an ISO 4217 currency; never a float."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from babel import Locale
from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, list_currencies


class Money(NamedTuple):
    minor: int
    currency: str

    def format(self, locale: str) -> str:
        """The amount as Babel writes it for ``locale``: ``9,00 €``, ``£39.00``, ``99 kr``.

        Whole amounts in currencies that CLDR says are paid without minor units
        in cash (SEK, NOK, HUF, ...) drop the decimals, as prices there are written.
        """
        amount = to_decimal(self.minor, self.currency)
        if amount == amount.to_integral_value() and _cash_digits(self.currency) == 0:
            pattern = Locale.parse(locale).currency_formats["standard"].pattern
            whole = re.sub(r"\.0+", "", pattern.split(";")[0])
            return format_currency(
                amount, self.currency, whole, locale=locale, currency_digits=False
            )
        return format_currency(amount, self.currency, locale=locale)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money) or other.currency != self.currency:
            return NotImplemented
        return Money(self.minor + other.minor, self.currency)


KNOWN_CURRENCIES = frozenset(list_currencies())


class MoneyError(ValueError):
    pass


# Far above any price, and small enough that formatting and tax arithmetic stay exact
# within Decimal's default 28 significant digits (10**30 made Babel's quantize fail).
MAX_AMOUNT = Decimal(10) ** 12


def _cash_digits(currency: str) -> int:
    fractions = get_global("currency_fractions")
    return fractions.get(currency, fractions["DEFAULT"])[2]


def minor_units(currency: str) -> int:
    return get_currency_precision(currency)


def parse_amount(value: object, currency: str) -> int:
    """``"9.90"`` in EUR → ``990``. Refuses floats' cousins: more decimals than the
    currency has (``"9.999"`` EUR, ``"10.5"`` JPY), negative amounts, non-numbers."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise MoneyError('expected an amount written as a decimal string, like "9.00"')
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise MoneyError(f"'{value}' is not a number") from None
    if not amount.is_finite():
        raise MoneyError(f"'{value}' is not a number")
    if amount < 0:
        raise MoneyError(f"'{value}' is negative")
    if amount >= MAX_AMOUNT:
        raise MoneyError(f"'{value}' is too large: amounts must stay below 1000000000000")
    digits = minor_units(currency)
    scaled = amount.scaleb(digits)
    if scaled != scaled.to_integral_value():
        places = "no decimal places" if digits == 0 else f"at most {digits} decimal places"
        raise MoneyError(f"'{value}' has more decimals than {currency} allows ({places})")
    return int(scaled)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_units(currency))
