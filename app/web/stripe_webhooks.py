"""``POST /<merchant>/webhooks/stripe``: Stripe's events for one merchant, signature-checked.

The signature is checked with the merchant's endpoint secret (the variable named by
``payments.stripe.webhook_secret_env``) and Stripe's timestamp tolerance (5 minutes),
which refuses an old delivery replayed; the billing service applies each event id once.
Stripe only needs a 2xx to stop retrying: the answer says no more than the outcome.
"""

from __future__ import annotations

import json
import logging

import stripe
from flask import Blueprint, Response, abort, jsonify, request

from app.billing.gateways.providers import StripeNotConfigured
from app.web.merchant import open_merchant
from app.web.services import portico

log = logging.getLogger(__name__)
blueprint = Blueprint("stripe_webhooks", __name__)

MAX_EVENT_BYTES = 512 * 1024


@blueprint.post("/<merchant>/webhooks/stripe")
def receive(merchant: str) -> Response:
    page = open_merchant(merchant)
    if page.config.payments.stripe is None or not page.config.payments.stripe_methods:
        abort(404)
    container = portico()
    try:
        secret = container.gateways.webhook_secret(page.config)
    except StripeNotConfigured:
        abort(503)
    payload = request.get_data(cache=False)
    if len(payload) > MAX_EVENT_BYTES:
        abort(413)
    try:
        stripe.Webhook.construct_event(payload, request.headers.get("Stripe-Signature"), secret)
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError):
        log.warning("a Stripe event for %s had no valid signature", page.slug)
        return Response("bad signature\n", status=400, mimetype="text/plain")
    if not isinstance(event, dict):
        return Response("bad event\n", status=400, mimetype="text/plain")
    outcome = container.stripe_events.apply(page.slug, page.config, event)
    log.info(
        "Stripe event %s (%s) for %s: %s", event.get("id"), event.get("type"), page.slug, outcome
    )
    return jsonify({"received": True, "outcome": outcome})
