"""What every billing service shares: the store, the clock, the gateways, and look-ups
scoped to one customer.

Every portal method takes the signed-in ``customer_id`` and only ever returns or
changes that customer's documents: an invoice number or subscription id of
another customer is treated as unknown (:class:`NotFoundError`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.billing.gateways import Gateways, gateways_for
from app.config.models import MerchantConfig
from app.core.clock import Clock
from app.store import ReadTransaction, Store

PREVIEW_VALIDITY = timedelta(minutes=30)
GatewayFactory = Callable[[MerchantConfig], Gateways]


class NotFoundError(LookupError):
    """No such document for this customer."""


class PreviewExpired(ValueError):
    """A confirmed action's ``at`` is older than :data:`PREVIEW_VALIDITY` (or in the future)."""


class BillingBase:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        gateways: GatewayFactory | None = None,
        assets_dir: Path | None = None,
    ) -> None:
        """``assets_dir`` is the merchants folder that logos are relative to."""
        self.store = store
        self.clock = clock
        self.gateways = gateways or (lambda config: gateways_for(config.payments.gateway, clock))
        self.assets_dir = assets_dir

    def _moment(self, at: datetime | None) -> datetime:
        now = self.clock()
        if at is None:
            return now
        if not now - PREVIEW_VALIDITY <= at <= now:
            raise PreviewExpired("the preview is out of date; please review the change again")
        return at

    @staticmethod
    def _customer(tx: ReadTransaction, customer_id: str) -> dict[str, Any]:
        customer = tx.collection("customers").get(customer_id)
        if customer is None:
            raise NotFoundError(customer_id)
        return customer

    @staticmethod
    def _subscription(
        tx: ReadTransaction, customer_id: str, subscription_id: str
    ) -> dict[str, Any]:
        subscription = tx.collection("subscriptions").get(subscription_id)
        if subscription is None or subscription["customer_id"] != customer_id:
            raise NotFoundError(subscription_id)
        return subscription

    @staticmethod
    def _invoice(tx: ReadTransaction, customer_id: str, number: str) -> dict[str, Any]:
        invoice = tx.collection("invoices").first(number=number)
        if invoice is None or invoice["customer_id"] != customer_id:
            raise NotFoundError(number)
        return invoice

    @staticmethod
    def _method(tx: ReadTransaction, customer_id: str, method_id: str) -> dict[str, Any]:
        method = tx.collection("payment_methods").get(method_id)
        if method is None or method["customer_id"] != customer_id or method["removed_at"]:
            raise NotFoundError(method_id)
        return method
