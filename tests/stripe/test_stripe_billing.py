"""Stripe cards outside the browser, against localstripe: renewals by ``portico bill``,
authentication_required, signed webhooks, and a merchant whose key is not set."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from app.billing import keys
from app.billing.gateways import StripeCardDetails
from app.cli.main import main
from app.signup.service import SignupRequest, SignupResult
from tests.helpers.app import app_from
from tests.helpers.stripe import (
    SECRET_ENV,
    WEBHOOK_SECRET,
    authenticate_payment,
    confirm_setup,
    signed,
    stripe_config_dir,
    stripe_overrides,
)

CUSTOMER = {
    "email": "jana@example.com",
    "customer_type": "private",
    "first_name": "Jana",
    "last_name": "Schmidt",
    "street": "Unter den Linden 5",
    "country": "DE",
    "postal_code": "10117",
    "city": "Berlin",
}


@pytest.fixture
def overrides(tmp_path: Path, localstripe: str, stripe_env: None) -> dict[str, str]:
    config = stripe_config_dir(tmp_path / "config")
    return stripe_overrides(tmp_path / "instance", config, localstripe)


@pytest.fixture
def stripe_app(overrides: dict[str, str]) -> Flask:
    return app_from(overrides)


def sign_up(app: Flask, localstripe: str, plan: str, number: str, nonce: str) -> SignupResult:
    container = app.extensions["portico"]
    config = container.merchants.get("acme").config
    intent = container.gateways(config).card.setup_intent(keys.signup(nonce))
    assert confirm_setup(localstripe, intent.client_secret, number)["status"] == "succeeded"
    request = SignupRequest(
        nonce=nonce,
        plan_id=plan,
        values=CUSTOMER,
        language="en",
        payment_method="card",
        payment_details=StripeCardDetails(intent.id, keys.signup(nonce)),
    )
    return container.signups.sign_up("acme", config, request)


def docs(app: Flask, collection: str, **equals: Any) -> list[dict[str, Any]]:
    with app.extensions["portico"].store.read("acme") as tx:
        return tx.collection(collection).find(**equals)


def bill(overrides: dict[str, str], until: date) -> None:
    result = CliRunner().invoke(
        main, ["bill", "--no-mail", "--until", until.isoformat()], env=overrides
    )
    assert result.exit_code == 0, result.output


def test_renewal_is_charged_off_session_once(
    stripe_app: Flask, localstripe: str, overrides
) -> None:
    signup = sign_up(stripe_app, localstripe, "business", "4242424242424242", "renew-1")
    until = date.today() + timedelta(days=40)
    bill(overrides, until)
    bill(overrides, until)  # the same run again charges nobody twice
    charges = docs(stripe_app, "payments", customer_id=signup.customer_id, type="charge")
    assert [p["status"] for p in charges] == ["succeeded", "succeeded"]
    assert len({p["reference"] for p in charges}) == 2
    container = stripe_app.extensions["portico"]
    client = container.gateways.stripe_client(container.merchants.get("acme").config)
    intent = client.v1.payment_intents.retrieve(charges[1]["reference"])
    assert intent.status == "succeeded" and intent.metadata["portico_key"] == charges[1]["key"]
    assert all(i["status"] == "paid" for i in docs(stripe_app, "invoices"))


def test_authentication_required_renewal_leaves_the_invoice_open_and_mails(
    stripe_app: Flask, localstripe: str, overrides
) -> None:
    signup = sign_up(stripe_app, localstripe, "starter", "4000002760003184", "renew-3ds")
    bill(overrides, date.today() + timedelta(days=14))  # the 14-day trial ends
    (payment,) = docs(stripe_app, "payments", customer_id=signup.customer_id)
    assert payment["status"] == "failed" and payment["failure_code"] == "authentication_required"
    (invoice,) = docs(stripe_app, "invoices")
    assert invoice["status"] == "open"
    (mail,) = docs(stripe_app, "outbox", template="payment_failed")
    assert mail["data"]["failure_code"] == "authentication_required"
    # The customer passes the challenge (portal); Stripe reports it by webhook: booked once.
    container = stripe_app.extensions["portico"]
    client = container.gateways.stripe_client(container.merchants.get("acme").config)
    intent = client.v1.payment_intents.retrieve(payment["reference"])
    succeeded = authenticate_payment(localstripe, intent.id, intent.client_secret)
    assert succeeded["status"] == "succeeded"
    event = {"id": "evt_3ds_1", "type": "payment_intent.succeeded", "data": {"object": succeeded}}
    web = stripe_app.test_client()
    for _ in range(2):
        body = json.dumps(event).encode()
        answer = web.post(
            "/acme/webhooks/stripe", data=body, headers={"Stripe-Signature": signed(body)}
        )
        assert answer.status_code == 200
    assert [i["status"] for i in docs(stripe_app, "invoices")] == ["paid"]
    booked = docs(stripe_app, "payments", reference=intent.id, status="succeeded")
    assert len(booked) == 1
    assert docs(stripe_app, "audit", action="payment.stripe_succeeded")


def test_webhook_refund_and_dispute_apply_once_and_bad_signatures_are_refused(
    stripe_app: Flask, localstripe: str
) -> None:
    signup = sign_up(stripe_app, localstripe, "business", "4242424242424242", "hook-1")
    (payment,) = docs(stripe_app, "payments", customer_id=signup.customer_id)
    container = stripe_app.extensions["portico"]
    client = container.gateways.stripe_client(container.merchants.get("acme").config)
    intent = client.v1.payment_intents.retrieve(payment["reference"])
    refund = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1000})
    charge = {
        "id": "ch_hook_1",
        "object": "charge",
        "payment_intent": intent.id,
        "amount": intent.amount,
        "amount_refunded": 1000,
        "refunds": {"data": [{"id": refund.id}]},
    }
    web = stripe_app.test_client()

    def deliver(event: dict, signature: str | None = None) -> Any:
        body = json.dumps(event).encode()
        header = signature or signed(body)
        return web.post("/acme/webhooks/stripe", data=body, headers={"Stripe-Signature": header})

    refunded = {"id": "evt_refund_1", "type": "charge.refunded", "data": {"object": charge}}
    assert deliver(refunded).json["outcome"] == "applied"
    assert deliver(refunded).json["outcome"] == "duplicate"
    (recorded,) = docs(stripe_app, "payments", type="refund")
    assert recorded["amount"] == -1000 and recorded["reference"] == refund.id
    assert len(docs(stripe_app, "audit", action="payment.stripe_refunded")) == 1
    # The same refund reported under a new event id finds nothing left to record.
    assert deliver(refunded | {"id": "evt_refund_2"}).json["outcome"] == "ignored"
    assert len(docs(stripe_app, "payments", type="refund")) == 1

    dispute = {"id": "dp_1", "object": "dispute", "charge": "ch_hook_1",
               "payment_intent": intent.id, "amount": 1000, "reason": "fraudulent"}  # fmt: skip
    event = {"id": "evt_dispute_1", "type": "charge.dispute.created", "data": {"object": dispute}}
    assert deliver(event).json["outcome"] == "applied"
    assert docs(stripe_app, "payments", dispute_id="dp_1")

    body = json.dumps(refunded | {"id": "evt_forged"}).encode()
    assert (
        deliver(refunded | {"id": "evt_forged"}, signed(body, secret="whsec_wrong")).status_code
        == 400
    )
    old = signed(body, at=1_000_000_000)  # a replay of an old delivery
    assert deliver(refunded | {"id": "evt_forged"}, old).status_code == 400
    assert web.post("/acme/webhooks/stripe", data=body).status_code == 400
    assert WEBHOOK_SECRET not in str(docs(stripe_app, "provider_events"))


def test_unset_secret_takes_only_that_merchant_offline(
    stripe_app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    web = stripe_app.test_client()
    answer = web.get("/acme/order?lang=en")
    assert answer.status_code == 503
    assert b"<html" in answer.data  # the branded error page
    assert SECRET_ENV in caplog.text
    assert web.get("/stromma/order").status_code == 200
