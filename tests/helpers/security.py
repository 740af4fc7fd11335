"""What the security tests share: a writable copy of demo merchants, YAML edits, a sign-up.

Every security test is written as the attack: a hostile merchant folder or YAML in
``tmp_path``, served by the app from the factory (``tests/conftest.py``'s ``app``).
The mails a test reads are in the file outbox: :func:`tests.helpers.orders.outbox`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient

from tests.helpers.app import DEMO_CONFIG
from tests.helpers.orders import form_token

ACME_SIGNUP = {
    "plan": "business",  # no trial: the first invoice is issued at once
    "payment_method": "invoice",
    "email": "jana@example.com",
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
}


def copy_demo(config_dir: Path, *slugs: str) -> Path:
    """``config_dir/merchants`` with the demo merchants' files and folders; returns it."""
    merchants = config_dir / "merchants"
    merchants.mkdir(parents=True, exist_ok=True)
    for slug in slugs:
        shutil.copy(DEMO_CONFIG / "merchants" / f"{slug}.yaml", merchants)
        if (DEMO_CONFIG / "merchants" / slug).is_dir():
            shutil.copytree(DEMO_CONFIG / "merchants" / slug, merchants / slug)
    return merchants


def edit_yaml(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Load a merchant file, let ``change`` edit its data, write it back."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def open_order(client: FlaskClient, merchant: str = "acme", query: str = "?lang=en") -> str:
    """GET the order page; returns its form token."""
    response = client.get(f"/{merchant}/order{query}")
    assert response.status_code == 200, response.status_code
    return form_token(response.get_data(as_text=True))


def sign_up_acme(client: FlaskClient, **changes: str) -> str:
    """A sign-up through acme's real order page; returns the success page's URL."""
    token = open_order(client)
    data = {**ACME_SIGNUP, **changes, "form_token": token}
    response = client.post("/acme/order?lang=en", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]
