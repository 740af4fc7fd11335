"""A plan's billing terms and their versions, which make grandfathering work.

A subscription copies its plan's terms (price, setup fee, currency, interval)
when it starts, together with the terms' *version*, a digest of them. Editing
a price in the YAML makes a new version: new sign-ups get it, existing
subscriptions keep billing their copy until the merchant migrates them
(:func:`app.billing.subscriptions.migrate_plan`), which takes effect at their
next renewal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from app.config.models import Plan
from app.core.money import parse_amount

# Average lengths, only to compare prices of different intervals (upgrade or downgrade?).
INTERVAL_DAYS = {
    "day": Fraction(1),
    "week": Fraction(7),
    "month": Fraction(3652425, 120000),  # 365.2425 / 12
    "year": Fraction(3652425, 10000),
}


@dataclass(frozen=True)
class Terms:
    price: int
    setup_fee: int
    currency: str
    interval: str
    interval_count: int

    @property
    def version(self) -> str:
        key = f"{self.price}|{self.setup_fee}|{self.currency}|{self.interval}|{self.interval_count}"
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    @property
    def per_day(self) -> Fraction:
        return Fraction(self.price) / (INTERVAL_DAYS[self.interval] * self.interval_count)

    def snapshot(self) -> dict[str, Any]:
        """The fields a subscription stores (it keeps them as its own price)."""
        return {
            "price": self.price,
            "setup_fee": self.setup_fee,
            "currency": self.currency,
            "interval": self.interval,
            "interval_count": self.interval_count,
            "plan_version": self.version,
        }

    @classmethod
    def of_plan(cls, plan: Plan, currency: str) -> Terms:
        """The plan's current terms, as its YAML says now."""
        return cls(
            price=parse_amount(plan.price, currency),
            setup_fee=parse_amount(plan.setup_fee, currency),
            currency=currency,
            interval=plan.interval,
            interval_count=plan.interval_count,
        )

    @classmethod
    def of_subscription(cls, subscription: Mapping[str, Any]) -> Terms:
        """The terms a subscription bills, whatever the YAML says now."""
        return cls(
            price=subscription["price"],
            setup_fee=subscription["setup_fee"],
            currency=subscription["currency"],
            interval=subscription["interval"],
            interval_count=subscription["interval_count"],
        )


def is_downgrade(current: Terms, new: Terms) -> bool:
    """A cheaper plan, comparing prices per day so monthly and yearly plans compare."""
    return new.per_day < current.per_day
