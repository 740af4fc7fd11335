"""Every service of one Portico instance, built once, over one store and one clock.

The web app keeps one container in ``app.extensions["portico"]``; the
``portico`` command builds its own from the same settings. Nothing here knows
Flask. Every service reads the time through :meth:`Portico.now`, so a test
that sets ``container.clock`` moves time for sign-up, billing, the portal, mail
and webhooks at once.
"""

from __future__ import annotations

import atexit
from datetime import datetime
from functools import cached_property

from app.billing.gateways.providers import ProviderGateways
from app.billing.service import BillingService
from app.billing.stripe_events import StripeEvents
from app.config.registry import MerchantRegistry
from app.core.clock import Clock, utc_now
from app.outbox.mailer import Mailer
from app.outbox.mails import MailOutbox
from app.portal import PortalServices
from app.portal.details import Details
from app.portal.feedback import FeedbackBox
from app.portal.payments import PaymentActions
from app.portal.signin_mail import SigninMails
from app.portal.subscriptions import SubscriptionActions
from app.reports.metrics import FunnelCounter
from app.settings import THEMES_DIR, Settings
from app.signup.form import OrderFormFactory
from app.signup.formtoken import FormTokens
from app.signup.service import SignupService
from app.store import Store, open_store
from forms import FormFactory


class Portico:
    """The services, each built on first use and then shared by every request."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.clock: Clock = utc_now
        self.store = store or open_store(settings.store_url, settings.data_dir)
        self.merchants = MerchantRegistry(settings.merchants_dir, THEMES_DIR)

    def now(self) -> datetime:
        return self.clock()

    @cached_property
    def order_forms(self) -> OrderFormFactory:
        return OrderFormFactory(FormFactory())

    @cached_property
    def form_tokens(self) -> FormTokens:
        return FormTokens(self.settings.secret_key)

    @cached_property
    def mailer(self) -> Mailer:
        return Mailer(self.settings.outbox_dir, self.settings.smtp_url)

    @cached_property
    def gateways(self) -> ProviderGateways:
        """Each merchant's gateways per ``payments.providers`` (Stripe's keys from the env)."""
        return ProviderGateways(self.now, self.settings.stripe_api_base)

    @cached_property
    def billing(self) -> BillingService:
        return BillingService(
            self.store, self.now, gateways=self.gateways, assets_dir=self.settings.merchants_dir
        )

    @cached_property
    def stripe_events(self) -> StripeEvents:
        return StripeEvents(self.store, self.now, gateways=self.gateways)

    @cached_property
    def signups(self) -> SignupService:
        return SignupService(self.store, self.now, self.gateways)

    @cached_property
    def portal(self) -> PortalServices:
        return PortalServices(self.store, self.settings.secret_key, self.now)

    @cached_property
    def subscription_actions(self) -> SubscriptionActions:
        return SubscriptionActions(self.billing)

    @cached_property
    def payment_actions(self) -> PaymentActions:
        return PaymentActions(self.billing)

    @cached_property
    def details(self) -> Details:
        return Details(self.store, self.now)

    @cached_property
    def feedback(self) -> FeedbackBox:
        return FeedbackBox(self.store, self.now)

    @cached_property
    def mails(self) -> MailOutbox:
        return MailOutbox(self.store, self.mailer, self.settings.base_url, self.now, self.billing)

    @cached_property
    def signin_mails(self) -> SigninMails:
        return SigninMails(
            self.merchants,
            self.portal,
            self.mailer,
            self.settings.base_url,
            log_links=not self.settings.smtp_url,
        )

    @cached_property
    def funnel(self) -> FunnelCounter:
        funnel = FunnelCounter(self.store)
        atexit.register(funnel.close)  # a gunicorn worker's graceful exit keeps its counts
        return funnel
