"""Helpers of the overview and subscription tests: a signed-in browser, its subscription."""

from __future__ import annotations

import re
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.portal.helpers import csrf_token, stored


def subscription_of(app: Flask, merchant: str, email: str) -> dict:
    """The one subscription of the customer with this address, as stored."""
    key = email.casefold()
    customers = [c for c in stored(app, merchant, "customers") if c["email"].casefold() == key]
    assert len(customers) == 1, customers
    found = [
        s for s in stored(app, merchant, "subscriptions") if s["customer_id"] == customers[0]["id"]
    ]
    assert len(found) == 1, found
    return found[0]


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def text(html: str) -> str:
    """A page's words, tags removed and whitespace collapsed, for asserting sentences."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def post(client: FlaskClient, path: str, data: dict[str, str], token_from: str) -> TestResponse:
    """Send a form from the page at ``token_from`` (its session form token included)."""
    return client.post(path, data={"csrf_token": csrf_token(page(client, token_from)), **data})


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden input {name}"
    return unescape(match.group(1))
