"""Proration: the share of a period's charge that belongs to the time left in it.

Time is measured in microseconds and the share is an exact fraction; the
single rounding happens in :func:`app.billing.rounding.scale` (half away from
zero). Because the share of the whole period is exactly 1, crediting a
segment that was just charged gives back exactly what was charged, which is
why a plan change followed by its reverse at the same moment nets to zero.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction

from app.billing.rounding import scale

_TICK = timedelta(microseconds=1)


def remaining_share(start: datetime, end: datetime, at: datetime) -> Fraction:
    """The part of ``[start, end)`` still ahead at ``at``, between 0 and 1 (0 for an
    empty period: a change at the very end of a period leaves nothing to prorate)."""
    if end <= start:
        return Fraction(0)
    left = min(max(end - at, timedelta(0)), end - start)
    return Fraction(left // _TICK, (end - start) // _TICK)


def prorate(amount: int, start: datetime, end: datetime, at: datetime) -> int:
    """The part of ``amount``, charged for ``[start, end)``, that covers the time after ``at``."""
    return scale(amount, remaining_share(start, end, at))
