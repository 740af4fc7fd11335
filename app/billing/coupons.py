"""Coupons from the YAML: checked when redeemed, then carried by the subscription.

A coupon is checked (known, not expired, for this plan, not used up) when a
customer redeems it; from then on the subscription keeps a snapshot with the
cycles left, so a coupon that expires or leaves the YAML later still honours
what was promised. The discount applies to the plan's period charge, never to
a setup fee or a proration line: ``once`` to the first billed period,
``{repeating: N}`` to the first N, ``forever`` to all. ``expires`` is the last
day (merchant time) on which the code can be redeemed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from babel.support import NullTranslations

from app.billing.rounding import percent_of
from app.config.models import Coupon, MerchantConfig
from app.core.money import parse_amount
from app.store import ReadTransaction

Reason = Literal["unknown", "expired", "not_for_plan", "exhausted"]


class CouponInvalid(ValueError):
    """A code that cannot be redeemed; ``reason`` says why (see :func:`message`)."""

    def __init__(self, code: str, reason: Reason) -> None:
        super().__init__(f"coupon {code!r} cannot be redeemed: {reason}")
        self.code = code
        self.reason = reason


def message(reason: Reason, t: NullTranslations) -> str:
    """What the order page shows under the coupon field."""
    messages = {
        "unknown": t.gettext("This code is not valid."),
        "expired": t.gettext("This code has expired."),
        "not_for_plan": t.gettext("This code does not apply to the chosen plan."),
        "exhausted": t.gettext("This code has been used up."),
    }
    return messages[reason]


def redemptions(tx: ReadTransaction, code: str) -> int:
    """How many subscriptions redeemed ``code`` so far."""
    return tx.collection("subscriptions").count(coupon_code=code.upper())


def check(config: MerchantConfig, code: str, plan_id: str, today: date, redeemed: int) -> Coupon:
    """The coupon for ``code`` if it can be redeemed for ``plan_id`` on ``today``."""
    coupon = config.coupon(code)
    if coupon is None:
        raise CouponInvalid(code, "unknown")
    if coupon.expires is not None and today > coupon.expires:
        raise CouponInvalid(code, "expired")
    if coupon.plans is not None and plan_id not in coupon.plans:
        raise CouponInvalid(code, "not_for_plan")
    if coupon.max_redemptions is not None and redeemed >= coupon.max_redemptions:
        raise CouponInvalid(code, "exhausted")
    return coupon


def snapshot(coupon: Coupon, currency: str) -> dict[str, Any]:
    """What a subscription keeps of a redeemed coupon."""
    if coupon.duration == "once":
        duration, cycles = "once", 1
    elif coupon.duration == "forever":
        duration, cycles = "forever", None
    else:
        duration, cycles = "repeating", coupon.duration.repeating
    return {
        "code": coupon.code.upper(),
        "percent_off": None if coupon.percent_off is None else str(coupon.percent_off),
        "amount_off": None
        if coupon.amount_off is None
        else parse_amount(coupon.amount_off, currency),
        "duration": duration,
        "cycles_left": cycles,
        "plans": None if coupon.plans is None else list(coupon.plans),
    }


def applies(state: Mapping[str, Any] | None, plan_id: str) -> bool:
    if not state or state["cycles_left"] == 0:
        return False
    return state["plans"] is None or plan_id in state["plans"]


def discount(state: Mapping[str, Any], amount: int) -> int:
    """The discount on a period charge of ``amount``: positive, never more than ``amount``."""
    if state["percent_off"] is not None:
        off = percent_of(amount, state["percent_off"])
    else:
        off = state["amount_off"]
    return max(0, min(off, amount))


def after_cycle(state: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot after one billed period used it."""
    cycles = state["cycles_left"]
    return {**state, "cycles_left": None if cycles is None else max(0, cycles - 1)}
