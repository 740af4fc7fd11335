"""The XSS merchants of :mod:`tests.helpers.xss`, with a portal full of payloads too.

Merchant ``xss-<n>`` also carries payload ``n`` in its FAQ (questions and
answers), cancel reasons, retention coupon and support phone, lets the
customer edit the free-text fields (and keep a payload in the details error
summary through ``pattern_message``), and shows two ``portal: read`` fields:
the ``kind`` choice and a ``reference`` only the store can fill. Used by
``tests/reliability/test_xss_portal.py`` and ``tests/browser/test_xss_portal_browser.py``.
"""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import yaml
from flask import Flask
from flask.testing import FlaskClient

from app.portal.tokens import DIRECT
from tests.helpers.orders import form_token
from tests.helpers.portal import confirm
from tests.helpers.xss import CASES, EMAIL, merchant_document, signup_data, write_merchants

PORTAL_ACCESS = {"full_name": "edit", "company": "edit", "notes": "edit", "code": "edit"}
PORTAL_ACCESS |= {"kind": "read", "size": "read"}
STORE_ONLY = "reference"  # a read-only field the customer cannot fill: the store does
_SIGN_INS = count()


def portal_document(payload: str, slug: str) -> dict[str, Any]:
    p = payload
    document = merchant_document(p, slug)
    fields = document["order_page"]["fields"]
    for field in fields:
        if field["name"] in PORTAL_ACCESS:
            field["portal"] = PORTAL_ACCESS[field["name"]]
    fields.append(
        {"name": STORE_ONLY, "type": "text", "label": p, "max_length": 3000, "portal": "read"}
    )
    document["portal"] = {
        "return_url": "https://shop.example/account",
        "change_plan": {"enabled": True, "plans": ["basic", "pro"]},
        "cancel": {
            "enabled": True,
            "reasons": {"price": p, "other": {"en": p, "de": p}},
            "retention_coupon": "SAVE10",
        },
        "pause": {"enabled": True},
        "support": {"email": "support@shop.example", "phone": p},
        "faq": [
            {"question": p, "answer": f"<p>{p}</p>{p}"},
            {"question": {"en": f"{p} cancel", "de": p}, "answer": p},
        ],
    }
    return document


def write_portal_merchants(config_dir: Path, demo_config: Path) -> Path:
    """:func:`write_merchants`, each ``xss-<n>`` with the portal of :func:`portal_document`."""
    merchants = write_merchants(config_dir, demo_config)
    for slug, payload in CASES:
        text = yaml.safe_dump(portal_document(payload, slug), allow_unicode=True, sort_keys=False)
        (merchants / f"{slug}.yaml").write_text(text, encoding="utf-8")
    return merchants


def join_with_payloads(app: Flask, slug: str, payload: str) -> dict[str, Any]:
    """A sign-up with the payload in every free-text field (plan ``pro``: invoiced at once),
    the payload stored in the field only the store fills; returns the stored customer."""
    client = app.test_client()
    token = form_token(client.get(f"/{slug}/order").get_data(as_text=True))
    data = {**signup_data(payload, valid=True), "plan": "pro", "form_token": token}
    assert client.post(f"/{slug}/order", data=data).status_code == 303
    with app.extensions["portico"].store.write(slug) as tx:
        customers = tx.collection("customers")
        customer = customers.find(email=EMAIL)[-1]
        fields = {**customer["fields"], STORE_ONLY: payload}
        return customers.update(customer["id"], {"fields": fields})


def signed_in(app: Flask, slug: str) -> FlaskClient:
    """A browser signed in as the customer :data:`EMAIL`, by a direct link."""
    client = app.test_client()
    issued = app.extensions["portico"].portal.tokens.issue(slug, EMAIL, channel=DIRECT)
    address = f"10.9.{next(_SIGN_INS) % 250}.1"  # each from its own address: under the limit
    path = f"/{slug}/portal/verify/{issued.token}?lang=en"
    response = confirm(client, path, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client
