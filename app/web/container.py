"""What the blueprints need, built once per app and reached through ``portico()``."""

from __future__ import annotations

import atexit
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from app.billing.service import BillingService
from app.config.registry import MerchantRegistry
from app.documents import utc_now
from app.mail import Mailer
from app.metrics import FunnelCounter
from app.orderpage.form import OrderFormFactory
from app.portal import PortalServices
from app.services.formtoken import FormTokens
from app.services.signup import SignupService
from app.settings import THEMES_DIR, Settings
from app.store import Store, open_store
from forms import FormFactory


@dataclass
class Portico:
    settings: Settings
    merchants: MerchantRegistry
    store: Store
    order_forms: OrderFormFactory
    mailer: Mailer
    form_tokens: FormTokens
    signups: SignupService
    portal: PortalServices
    billing: BillingService
    funnel: FunnelCounter
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_settings(cls, settings: Settings) -> Portico:
        store = open_store(settings.store_url, settings.data_dir)
        funnel = FunnelCounter(store)
        atexit.register(funnel.close)  # a gunicorn worker's graceful exit keeps its counts
        return cls(
            settings=settings,
            merchants=MerchantRegistry(settings.merchants_dir, THEMES_DIR),
            store=store,
            order_forms=OrderFormFactory(FormFactory()),
            mailer=Mailer(settings.outbox_dir, settings.smtp_url),
            form_tokens=FormTokens(settings.secret_key),
            signups=SignupService(store, utc_now),
            portal=PortalServices(store, settings.secret_key, utc_now),
            billing=BillingService(store, utc_now, assets_dir=settings.merchants_dir),
            funnel=funnel,
        )


def portico() -> Portico:
    return current_app.extensions["portico"]
