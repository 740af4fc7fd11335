"""What the order page asks billing before a sign-up: whether a coupon applies, and the
price summary (due now, with VAT for what the customer typed, and what follows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.billing.base import NotFoundError
from app.billing.coupons import CouponInvalid
from app.config.models import Coupon, MerchantConfig
from app.core.clock import Clock
from app.signup import billing
from app.store import Store


class SignupQuotes:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def check_coupon(
        self, merchant: str, config: MerchantConfig, code: str, plan_id: str
    ) -> Coupon:
        """The coupon if it can be redeemed for ``plan_id`` now, else
        :class:`~app.billing.coupons.CouponInvalid` (``coupons.message`` words it)."""
        with self.store.read(merchant) as tx:
            coupon = billing.redeemable(tx, config, code, plan_id, self.clock())
        if coupon is None:
            raise CouponInvalid(code, "unknown")
        return coupon

    def quote_signup(
        self,
        merchant: str,
        config: MerchantConfig,
        plan_id: str,
        fields: Mapping[str, Any],
        language: str,
        coupon_code: str | None = None,
    ) -> billing.SignupQuote:
        """The order page's price summary: due now (with VAT for these ``fields``) and next."""
        plan = config.plan(plan_id)
        if plan is None:
            raise NotFoundError(plan_id)
        now = self.clock()
        with self.store.read(merchant) as tx:
            coupon = billing.redeemable(tx, config, coupon_code, plan_id, now)
            customer = billing.provisional_customer(fields, language)
            return billing.quote(tx, config, customer, plan, coupon, now)
