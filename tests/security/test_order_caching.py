"""Issue 15, low list: order pages and success pages are never kept by a cache.

The attack: a shared cache (or the browser's back/forward cache on a shared computer)
keeping an order page with its form token, or a success page with someone's customer
number, shows it to the next person. Every response of the order blueprint says
``Cache-Control: no-store``.
"""

from __future__ import annotations

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers.security import ACME_SIGNUP, open_order, sign_up_acme


def no_store(response: TestResponse) -> bool:
    return response.headers.get("Cache-Control") == "no-store"


def test_every_order_response_says_no_store(client: FlaskClient) -> None:
    page = client.get("/acme/order?lang=en")
    assert page.status_code == 200 and no_store(page)
    embedded = client.get("/acme/order?lang=en&embed=1")
    assert embedded.status_code == 200 and no_store(embedded)
    refused = client.post(
        "/acme/order?lang=en", data={**ACME_SIGNUP, "email": "", "form_token": open_order(client)}
    )
    assert refused.status_code == 422 and no_store(refused)
    token = open_order(client)
    sent = client.post("/acme/order?lang=en", data={**ACME_SIGNUP, "form_token": token})
    assert sent.status_code == 303 and no_store(sent)
    success = client.get(sent.headers["Location"])
    assert success.status_code == 200 and no_store(success)
    assert "C-000001" in success.get_data(as_text=True)
    assert no_store(client.get("/acme/order/complete/sig_unknown"))  # 404 too
    assert no_store(client.get("/acme/order?plan=legacy"))  # 410: a plan no longer offered


def test_a_second_sign_ups_success_page_is_not_cached_either(client: FlaskClient) -> None:
    first = client.get(sign_up_acme(client))
    second = client.get(sign_up_acme(client, email="ole@example.com"))
    assert no_store(first) and no_store(second)
    assert "C-000002" in second.get_data(as_text=True)
