"""Helpers of the invoice and payment-method tests: customers signed in without a mail round trip."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.portal.tokens import DIRECT
from tests.portal.helpers import confirm, customer_of, page_token, sign_up, stored

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12 / 30", "card_cvc": "123"}
NO_FUNDS_CARD = {**CARD, "card_number": "4000 0000 0000 9995"}
DECLINED_CARD = {**CARD, "card_number": "4000 0000 0000 0002"}
IBAN = "DE89 3704 0044 0532 0130 00"


def sign_in_directly(app: Flask, client: FlaskClient, merchant: str, email: str) -> None:
    """Sign in with a link as ``portico portal-link`` prints it."""
    issued = app.extensions["portico"].portal.tokens.issue(merchant, email, channel=DIRECT)
    response = confirm(client, f"/{merchant}/portal/verify/{issued.token}?lang=en")
    assert response.status_code == 303, response.get_data(as_text=True)


def customer_signed_in(app: Flask, merchant: str, email: str) -> tuple[FlaskClient, dict]:
    """A new browser whose customer signed up at ``merchant`` and signed in, and the
    stored customer. At acme the sign-up (paid by invoice) leaves an open invoice."""
    client = app.test_client()
    sign_up(client, merchant, email)
    sign_in_directly(app, client, merchant, email)
    return client, customer_of(app, merchant, email)


def invoices_of(app: Flask, merchant: str, customer: dict) -> list[dict]:
    return [i for i in stored(app, merchant, "invoices") if i["customer_id"] == customer["id"]]


def methods_of(app: Flask, merchant: str, customer: dict) -> list[dict]:
    return [
        m
        for m in stored(app, merchant, "payment_methods")
        if m["customer_id"] == customer["id"] and m["removed_at"] is None
    ]


def post_methods(client: FlaskClient, merchant: str, **data: str) -> TestResponse:
    """A form of the payment-methods page, with the session's form token."""
    path = f"/{merchant}/portal/payment-methods?lang=en"
    return client.post(path, data={"csrf_token": page_token(client, path), **data})


def add_card(client: FlaskClient, merchant: str, card: dict[str, str] = CARD) -> TestResponse:
    choice = {"payment_method": "card"} if merchant == "acme" else {}
    return post_methods(client, merchant, action="add", **choice, **card)
