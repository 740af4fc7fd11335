"""The order page as a customer fills it: valid answers per demo merchant, its form token,
what a sign-up stored and the mails written to the file outbox."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12 / 30", "card_cvc": "123"}
# A valid sign-up of each demo merchant, field by field.
VALID = {
    "acme": {
        "plan": "business",
        "payment_method": "invoice",
        "email": "Jana@Example.COM",
        "customer_type": "business",
        "company": "Kunde GmbH",
        "vat_id": "DE 136 695 976",
        "first_name": "Jana",
        "last_name": "Schmidt",
        "street": "Unter den Linden 5",
        "country": "DE",
        "postal_code": "10117",
        "city": "Berlin",
        "phone": "030 1234567",
        "terms": "y",
    },
    "stromma": {
        "plan": "premium",
        "email": "sven@example.se",
        "name": "Sven Svensson",
        "marketing": "y",
        "terms": "y",
        **CARD,
    },
    "thistle": {
        "plan": "office-small",
        "payment_method": "card",
        "email": "ops@example.co.uk",
        "full_name": "Morag Campbell",
        "company": "Campbell & Sons",
        "po_number": "PO-2026/7",
        "phone": "0131 496 0000",
        "shipping_street": "1 Princes St",
        "shipping_city": "Edinburgh",
        "shipping_country": "GB",
        "shipping_postcode": "eh2 2ey",
        "terms": "y",
        **CARD,
    },
}


def form_token(html: str) -> str:
    """The page's order-form token (the hidden ``form_token`` input, attributes in any order)."""
    match = re.search(r'name="form_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="form_token"', html
    )
    assert match, "the page has no form token"
    return match.group(1)


def open_form(client: FlaskClient, merchant: str, query: str = "") -> str:
    """GET the order page; returns its form token."""
    response = client.get(f"/{merchant}/order{query}")
    assert response.status_code == 200
    return form_token(response.get_data(as_text=True))


def stored(app: Flask, merchant: str, collection: str, **equals: Any) -> list[dict]:
    """The documents of ``collection`` (those whose fields equal ``equals``), oldest first."""
    with app.extensions["portico"].store.read(merchant) as tx:
        found = tx.collection(collection)
        return found.find(**equals) if equals else list(found.all())


def outbox(instance_dir: Path) -> list[Message]:
    """The mails written to the file outbox (no SMTP configured), in file-name order."""
    folder = instance_dir / "outbox"
    return (
        [message_from_bytes(p.read_bytes()) for p in sorted(folder.glob("*.eml"))]
        if folder.exists()
        else []
    )


def mail_text(message: Message) -> str:
    """Every text part of a mail, decoded."""
    parts = message.walk() if message.is_multipart() else [message]
    texts = []
    for part in parts:
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            texts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(texts)
