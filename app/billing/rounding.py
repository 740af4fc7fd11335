"""The one rounding rule of billing: exact fractions, rounded half away from zero.

Every amount that is not a whole number of minor units (a prorated price, a
percentage discount, VAT) passes through :func:`divide`, so rounding happens
in exactly one place. Rounding half *away from zero* (rather than half-even)
is symmetric: ``divide(-n, d) == -divide(n, d)``, so a credit and the charge
it reverses round to the same magnitude and a change followed by its reverse
nets to zero.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def divide(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to a whole number, halves away from zero."""
    if denominator <= 0:
        raise ValueError("the denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def scale(amount: int, ratio: Fraction) -> int:
    """``amount * ratio`` in whole minor units."""
    return divide(amount * ratio.numerator, ratio.denominator)


def percent_of(amount: int, percent: Decimal | int | str) -> int:
    """``percent`` % of ``amount`` in whole minor units (``percent`` may have decimals)."""
    return scale(amount, Fraction(Decimal(percent)) / 100)
