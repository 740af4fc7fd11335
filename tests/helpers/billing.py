"""Sign-up and billing over a real store without the web: a test merchant whose config
the test changes, the demo merchants, test cards and a shop of services.

The time is a :class:`~tests.helpers.clock.Clock` the test moves.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.billing.gateways import CardDetails, PaymentDetails, SepaDetails
from app.billing.service import BillingService
from app.config.loader import load_merchant
from app.config.models import MerchantConfig
from app.signup.service import SignupRequest, SignupResult, SignupService
from app.store import TinyDBStore
from tests.helpers.app import DEMO_CONFIG
from tests.helpers.clock import Clock

MERCHANTS_DIR = DEMO_CONFIG / "merchants"
GOOD_CARD = CardDetails("4242 4242 4242 4242", 12, 2030, "123", "Jana Schmidt")
DECLINED_CARD = CardDetails("4000 0000 0000 0002", 12, 2030, "123")
NO_FUNDS_CARD = CardDetails("4000 0000 0000 9995", 12, 2030, "123")
IBAN = SepaDetails("DE89 3704 0044 0532 0130 00", "Jana Schmidt")

BASE: dict[str, Any] = {
    "merchant": {
        "name": "Grüße & Söhne GmbH",
        "email": "billing@gruesse.example",
        "address": {
            "street": "Straße 1",
            "postal_code": "10115",
            "city": "Berlin",
            "country": "DE",
        },
        "vat_id": "DE136695976",
        "registration": "HRB 1, Amtsgericht Berlin",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
    },
    "languages": ["de", "en", "sv"],
    "plans": [
        {"id": "basic", "name": "Basic", "price": "10.00"},
        {"id": "pro", "name": "Pro", "price": "30.00"},
        {"id": "yearly", "name": "Yearly", "price": "300.00", "interval": "year"},
        {"id": "trial", "name": "Trial", "price": "20.00", "trial_days": 14, "setup_fee": "50.00"},
        {"id": "setup", "name": "Setup", "price": "20.00", "setup_fee": "50.00"},
    ],
    "order_page": {"fields": [{"name": "email", "type": "email", "label": "Email"}]},
    "payments": {"methods": ["card", "sepa_debit", "invoice"]},
    "billing": {
        "invoice_prefix": "GS-{year}-",
        "payment_terms_days": 14,
        "tax": {"rate": "19", "reverse_charge": True},
        "retry_days": [1, 3, 7],
        "cancel_unpaid_after_days": 21,
        "bank_account": {
            "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX",
            "bank": "Testbank",
        },
    },
    "coupons": [
        {"code": "HALF", "percent_off": 50, "duration": {"repeating": 2}},
        {"code": "FIVE", "amount_off": "5.00", "duration": "forever", "plans": ["basic", "pro"]},
        {"code": "ONCE", "percent_off": 10, "max_redemptions": 1},
        {"code": "OLD", "percent_off": 10, "expires": "2025-12-31"},
    ],
    "portal": {
        "change_plan": {
            "enabled": True,
            "plans": ["basic", "pro", "yearly"],
            "proration": "immediate",
            "downgrade": "immediately",
        },
        "cancel": {"enabled": True, "mode": "at_period_end"},
        "pause": {"enabled": True, "max_cycles": 3},
    },
}

CUSTOMER_FIELDS = {
    "email": "jana@example.de",
    "first_name": "Jana",
    "last_name": "Schmidt",
    "street": "Unter den Linden 5",
    "postal_code": "10117",
    "city": "Berlin",
    "country": "DE",
}


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(base))
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def make_config(**changes: Any) -> MerchantConfig:
    """The test merchant, with top-level sections deep-merged from ``changes``."""
    return MerchantConfig.model_validate(merged(BASE, changes))


def demo_config(slug: str) -> MerchantConfig:
    loaded = load_merchant(MERCHANTS_DIR / f"{slug}.yaml", frozenset({"default", "nordic"}))
    assert loaded.config is not None, loaded.report()
    return loaded.config


class Shop:
    """One merchant's sign-up and billing services over a real store."""

    def __init__(self, store: TinyDBStore, clock: Clock, config: MerchantConfig, slug: str) -> None:
        self.store = store
        self.clock = clock
        self.config = config
        self.slug = slug
        self.signups = SignupService(store, clock)
        self.billing = BillingService(store, clock, assets_dir=MERCHANTS_DIR)
        self._nonce = 0

    def sign_up(
        self,
        plan_id: str = "basic",
        method: str = "card",
        details: PaymentDetails | None = GOOD_CARD,
        *,
        fields: Mapping[str, Any] | None = None,
        language: str = "de",
        coupon: str | None = None,
    ) -> SignupResult:
        self._nonce += 1
        request = SignupRequest(
            nonce=f"nonce-{self._nonce}",
            plan_id=plan_id,
            values=dict(fields or CUSTOMER_FIELDS),
            language=language,
            payment_method=method,
            coupon=coupon,
            payment_details=details,
        )
        return self.signups.sign_up(self.slug, self.config, request)

    def docs(self, collection: str, **equals: Any) -> list[dict[str, Any]]:
        with self.store.read(self.slug) as tx:
            return tx.collection(collection).find(**equals)

    def get(self, collection: str, id: str) -> dict[str, Any]:
        with self.store.read(self.slug) as tx:
            document = tx.collection(collection).get(id)
        assert document is not None
        return document

    def bill(self, until: datetime | None = None):
        run = self.billing.bill_until(self.slug, self.config, until or self.clock())
        assert run.errors == []
        return run
