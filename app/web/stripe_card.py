"""Stripe.js on the order page: what the page needs, and the SetupIntent it confirms.

A Stripe merchant's order page has no card inputs: Stripe's Card Element takes the
card, ``POST /<merchant>/order/card-setup`` (same origin, with the page's signed form
token) makes a SetupIntent for that form, Stripe.js confirms it (3-D Secure
included) and the form is sent with the SetupIntent's id only. The server reads it
back from Stripe before anything is stored (``app/billing/gateways/stripe.py``).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for
from flask_babel import gettext

from app.billing import keys
from app.billing.gateways.providers import StripeNotConfigured
from app.billing.gateways.stripe import IntentSecret, StripeCardGateway, StripeUnavailable
from app.signup.formtoken import InvalidFormToken
from app.web.merchant import MerchantPage, open_merchant
from app.web.security import allow_stripe, is_same_origin_post
from app.web.services import portico

log = logging.getLogger(__name__)
blueprint = Blueprint("stripe_card", __name__)


def uses_stripe_card(page: MerchantPage) -> bool:
    payments = page.config.payments
    return "card" in payments.stripe_methods and payments.stripe is not None


def stripe_card_context(
    page: MerchantPage, action: IntentSecret | None = None, setup_url: str | None = None
) -> dict[str, Any] | None:
    """What a page with a Stripe Card Element needs (and its CSP), or None."""
    if not uses_stripe_card(page):
        return None
    settings = portico().settings
    allow_stripe(settings.stripe_js_url, settings.stripe_api_base)
    keys_ = page.config.payments.stripe
    assert keys_ is not None
    return {
        "publishable_key": keys_.publishable_key,
        "js_url": settings.stripe_js_url,
        "setup_url": setup_url
        or url_for("stripe_card.order_card_setup", merchant=page.slug, **page.url_args()),
        "action_secret": action.client_secret if action else "",
        "action_method": (action.payment_method or "") if action else "",
    }


def card_gateway(page: MerchantPage) -> StripeCardGateway:
    gateway = portico().gateways(page.config).card
    if not isinstance(gateway, StripeCardGateway):
        abort(404)
    return gateway


def json_error(status: int, message: str) -> Response:
    response = jsonify({"error": message})
    response.status_code = status
    return response


@blueprint.post("/<merchant>/order/card-setup")
def order_card_setup(merchant: str) -> Response:
    page = open_merchant(merchant)
    if not uses_stripe_card(page):
        abort(404)
    if not is_same_origin_post():
        return json_error(403, gettext("This form can only be sent from its own page."))
    try:
        token = portico().form_tokens.verify(request.form.get("form_token"), page.slug)
    except InvalidFormToken:
        return json_error(
            400, gettext("This form is not valid for this page. Please reload the page.")
        )
    try:
        intent = card_gateway(page).setup_intent(keys.signup(token.nonce))
    except (StripeUnavailable, StripeNotConfigured):
        log.exception("no SetupIntent for %s's order page", page.slug)
        return json_error(
            503, gettext("The payment provider could not be reached. Please try again.")
        )
    return jsonify({"client_secret": intent.client_secret})
