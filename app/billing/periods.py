"""Billing periods: calendar arithmetic for day, week, month and year intervals."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta


def add_interval(start: datetime, interval: str, count: int = 1) -> datetime:
    """``start`` moved on by ``count`` intervals; month ends clamp (31 Jan + 1 month = 28/29 Feb)."""
    if interval == "day":
        return start + timedelta(days=count)
    if interval == "week":
        return start + timedelta(weeks=count)
    months = count * (12 if interval == "year" else 1)
    if interval not in ("month", "year"):
        raise ValueError(f"unknown interval {interval!r}")
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)
