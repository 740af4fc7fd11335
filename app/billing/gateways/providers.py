"""The gateways of a merchant as its YAML names them (``payments.providers``).

Secrets come from the environment variables the YAML names (never from YAML);
:func:`missing_secrets` says which are unset so that such a merchant is taken
offline (503) instead of failing at its first payment. One Stripe client is
kept per secret key and API base.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import replace

import stripe as stripe_lib

from app.billing.gateways import Gateways, gateways_for
from app.billing.gateways.stripe import StripeCardGateway, client
from app.config.models import MerchantConfig
from app.core.clock import Clock

STRIPE_API_BASE = "https://api.stripe.com"


class StripeNotConfigured(RuntimeError):
    """A merchant uses Stripe but a variable its YAML names is unset (the message names it)."""


def missing_secrets(config: MerchantConfig, environ: Mapping[str, str] | None = None) -> list[str]:
    """The names of the unset environment variables this merchant's providers need."""
    env = os.environ if environ is None else environ
    keys = config.payments.stripe
    if not config.payments.stripe_methods or keys is None:
        return []
    return [name for name in (keys.secret_key_env, keys.webhook_secret_env) if not env.get(name)]


class ProviderGateways:
    """``config -> Gateways``: the sandbox unless ``payments.providers`` names another."""

    def __init__(
        self,
        clock: Clock,
        stripe_api_base: str = STRIPE_API_BASE,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.clock = clock
        self.stripe_api_base = stripe_api_base
        self.environ = os.environ if environ is None else environ
        self._clients: dict[tuple[str, str], stripe_lib.StripeClient] = {}
        self._lock = threading.Lock()

    def __call__(self, config: MerchantConfig) -> Gateways:
        gateways = gateways_for(config.payments.gateway, self.clock)
        if config.payments.providers.card == "stripe" and config.payments.stripe is not None:
            gateways = replace(gateways, card=self.stripe_card(config))
        return gateways

    def stripe_card(self, config: MerchantConfig) -> StripeCardGateway:
        keys = config.payments.stripe
        if keys is None:
            raise StripeNotConfigured("payments.stripe is missing")
        return StripeCardGateway(self.stripe_client(config), keys.publishable_key)

    def stripe_client(self, config: MerchantConfig) -> stripe_lib.StripeClient:
        keys = config.payments.stripe
        if keys is None:
            raise StripeNotConfigured("payments.stripe is missing")
        secret = self.environ.get(keys.secret_key_env)
        if not secret:
            raise StripeNotConfigured(f"{keys.secret_key_env} is not set")
        with self._lock:
            found = self._clients.get((secret, self.stripe_api_base))
            if found is None:
                found = client(secret, self.stripe_api_base)
                self._clients[(secret, self.stripe_api_base)] = found
            return found

    def webhook_secret(self, config: MerchantConfig) -> str:
        keys = config.payments.stripe
        secret = self.environ.get(keys.webhook_secret_env) if keys else None
        if not secret:
            raise StripeNotConfigured(
                f"{keys.webhook_secret_env if keys else 'payments.stripe'} is not set"
            )
        return secret
