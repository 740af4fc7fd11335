"""The portal's invoices and payment methods: a customer with a long history, signed in
without a mail round trip, and the forms of the payment-methods page."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.billing.invoices import invoice_number
from app.core.clock import iso
from app.core.ids import new_id
from tests.helpers.orders import stored
from tests.helpers.portal import customer_of, page_token, sign_in_directly, sign_up

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12 / 30", "card_cvc": "123"}
NO_FUNDS_CARD = {**CARD, "card_number": "4000 0000 0000 9995"}
DECLINED_CARD = {**CARD, "card_number": "4000 0000 0000 0002"}
IBAN = "DE89 3704 0044 0532 0130 00"


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


def add_invoices(app: Flask, merchant: str, customer_id: str, count: int) -> list[dict]:
    """``count`` more invoices like the customer's first one, issued an hour apart after
    it, each with its own id, number and ledger entry: the history years of ``portico
    bill`` leave, written in one transaction. Returns them, oldest first."""
    portico = app.extensions["portico"]
    config = portico.merchants.get(merchant).config
    added = []
    with portico.store.write(merchant) as tx:
        invoices, ledger = tx.collection("invoices"), tx.collection("ledger")
        first = invoices.first(customer_id=customer_id)
        entry = ledger.first(invoice_id=first["id"])
        issued, due = (datetime.fromisoformat(first[k]) for k in ("issued_at", "due_at"))
        for hours in range(1, count + 1):
            at = issued + timedelta(hours=hours)
            invoice = first | {
                "id": new_id("inv"),
                "number": invoice_number(tx, config, at),
                "issued_at": iso(at),
                "due_at": iso(due + timedelta(hours=hours)),
                "key": f"history:{customer_id}:{hours}",
            }
            added.append(invoices.insert(invoice))
            ledger.insert(
                entry | {"id": new_id("led"), "invoice_id": invoice["id"], "created_at": iso(at)}
            )
    return added


def newest_first(invoices: list[dict]) -> list[str]:
    """The numbers in the list's order."""
    ordered = sorted(invoices, key=lambda i: (i["issued_at"], i["number"]), reverse=True)
    return [invoice["number"] for invoice in ordered]
