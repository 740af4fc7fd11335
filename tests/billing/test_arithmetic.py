"""Rounding, proration and VAT: exact integers, one rounding rule, checked as properties."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.billing.proration import prorate, remaining_share
from app.billing.rounding import divide, percent_of, scale
from app.billing.tax import TaxDecision, totals
from tests.helpers.clock import START

amounts = st.integers(min_value=-(10**9), max_value=10**9)
rates = st.sampled_from(["0", "5", "7", "19", "20", "25", "25.5", "8.1"]).map(Decimal)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 3), (-5, 2, -3), (7, 3, 2), (8, 3, 3), (1, 3, 0), (-1, 2, -1), (0, 9, 0)],
)
def test_divide_rounds_half_away_from_zero(numerator: int, denominator: int, expected: int) -> None:
    assert divide(numerator, denominator) == expected


@given(amounts, st.integers(min_value=1, max_value=10**6))
def test_divide_is_symmetric_and_within_half_a_unit(numerator: int, denominator: int) -> None:
    result = divide(numerator, denominator)
    assert divide(-numerator, denominator) == -result
    assert abs(Fraction(numerator, denominator) - result) <= Fraction(1, 2)


@given(amounts, st.fractions(min_value=0, max_value=1))
def test_scale_never_leaves_the_amount(amount: int, ratio: Fraction) -> None:
    assert abs(scale(amount, ratio)) <= abs(amount)


def test_percent_of_takes_decimal_percentages() -> None:
    assert percent_of(1000, "12.5") == 125
    assert percent_of(999, Decimal("19")) == 190  # 189.81


@given(
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=1, max_value=400 * 86400),
    st.integers(min_value=0, max_value=400 * 86400),
)
def test_prorated_parts_of_a_period_add_up_to_the_whole(amount: int, length: int, at: int) -> None:
    start = START
    end = start + timedelta(seconds=length)
    moment = start + timedelta(seconds=min(at, length))
    unused = prorate(amount, start, end, moment)
    # the used part, prorated from the other end of the period
    used = scale(amount, 1 - remaining_share(start, end, moment))
    assert 0 <= unused <= amount
    assert prorate(amount, start, end, start) == amount
    assert prorate(amount, start, end, end) == 0
    assert abs(used + unused - amount) <= 1


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_remaining_share_is_clamped(length: int, offset: int) -> None:
    end = START + timedelta(seconds=length)
    assert remaining_share(START, end, START - timedelta(seconds=offset)) == 1
    assert remaining_share(START, end, end + timedelta(seconds=offset)) == 0


@given(st.lists(st.integers(min_value=-(10**7), max_value=10**7), max_size=8), rates, st.booleans())
def test_invoice_totals_are_lines_plus_tax(
    lines: list[int], rate: Decimal, inclusive: bool
) -> None:
    result = totals(sum(lines), TaxDecision(rate, inclusive, "domestic", "DE"))
    assert result.net + result.tax == result.gross
    assert (result.gross if inclusive else result.net) == sum(lines)
    rate_ = Fraction(rate)
    exact = result.gross * rate_ / (100 + rate_) if inclusive else result.net * rate_ / 100
    assert abs(result.tax - exact) <= Fraction(1, 2)


@given(st.integers(min_value=0, max_value=10**7), rates, st.booleans())
def test_tax_of_a_credit_mirrors_the_charge(amount: int, rate: Decimal, inclusive: bool) -> None:
    decision = TaxDecision(rate, inclusive, "domestic", "DE")
    charge, credit = totals(amount, decision), totals(-amount, decision)
    assert (credit.net, credit.tax, credit.gross) == (-charge.net, -charge.tax, -charge.gross)


def test_tax_included_in_prices_is_taken_out() -> None:
    result = totals(9900, TaxDecision(Decimal(25), True, "domestic", "SE"))
    assert (result.net, result.tax, result.gross) == (7920, 1980, 9900)
    result = totals(4900, TaxDecision(Decimal(19), False, "domestic", "DE"))
    assert (result.net, result.tax, result.gross) == (4900, 931, 5831)
