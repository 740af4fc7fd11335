"""Helpers of the overview and subscription tests: a signed-in browser, its subscription."""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import DEMO_CONFIG
from tests.portal.helpers import Mailbox, csrf_token, sign_in, sign_up, stored


def signed_in_client(app: Flask, mailbox: Mailbox, merchant: str, email: str) -> FlaskClient:
    """A new browser that signed up at ``merchant`` with ``email`` (in English) and signed in."""
    client = app.test_client()
    sign_up(client, merchant, email)
    sign_in(client, mailbox, merchant, email)
    return client


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


def audits(app: Flask, merchant: str, action: str) -> list[dict]:
    return [a for a in stored(app, merchant, "audit") if a["action"] == action]


def edited_config(tmp_path: Path, merchant: str, old: str, new: str) -> Path:
    """A copy of the demo config whose ``merchant`` YAML has ``old`` replaced by ``new``."""
    target = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, target)
    path = target / "merchants" / f"{merchant}.yaml"
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, old
    path.write_text(source.replace(old, new), encoding="utf-8")
    return target
