"""The order page in a real browser: with and without JavaScript, and for accessibility."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from tests.helpers.app import DEMO_MERCHANTS
from tests.helpers.browser import LiveServer
from tests.helpers.orders import VALID, open_form, stored

pytestmark = pytest.mark.browser


def fill_acme(page) -> None:
    page.get_by_label("Email").fill("jana@example.com")
    page.get_by_label("Business", exact=True).check()
    page.get_by_label("Company").fill("Kunde GmbH")
    page.get_by_label("First name").fill("Jana")
    page.get_by_label("Last name").fill("Schmidt")
    page.get_by_label("Street and number").fill("Unter den Linden 5")
    page.get_by_label("Postal code").fill("10117")
    page.get_by_label("City").fill("Berlin")
    page.locator("input[name=payment_method][value=card]").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date (MM / YY)").fill("12 / 30")
    page.get_by_label("Security code (CVC)").fill("123")
    page.locator("input[name=terms]").check()


def test_signup_with_javascript(app: Flask, live_server: LiveServer, page) -> None:
    page.goto(f"{live_server.url}/acme/order?lang=en")
    company = page.locator("input[name=company]")
    page.get_by_label("Private", exact=True).check()
    assert company.is_hidden()  # conditional fields follow the radio at once
    page.get_by_label("Business", exact=True).check()
    assert company.is_visible()
    page.get_by_role("button", name=re.compile("Order", re.I)).click()
    summary = page.locator("[data-error-summary]")
    summary.wait_for()
    assert summary.is_visible()
    fill_acme(page)
    page.get_by_role("button", name=re.compile("Order", re.I)).click()
    page.wait_for_url(re.compile(r"/acme/order/complete/sig_"))
    assert "C-000001" in page.content()
    assert len(stored(app, "acme", "customers")) == 1


def test_signup_without_javascript(app: Flask, live_server: LiveServer, browser) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB", bypass_csp=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/acme/order?lang=en")
    assert page.locator("input[name=company]").is_visible()  # without JS every field shows
    page.get_by_role("button", name=re.compile("Order", re.I)).click()
    assert page.locator("[data-error-summary]").is_visible()
    fill_acme(page)
    page.get_by_role("button", name=re.compile("Order", re.I)).click()
    page.wait_for_url(re.compile(r"/acme/order/complete/sig_"))
    context.close()
    assert len(stored(app, "acme", "customers")) == 1


@pytest.mark.parametrize("merchant", DEMO_MERCHANTS)
def test_no_serious_accessibility_violations(
    live_server: LiveServer, page, axe, merchant: str
) -> None:
    page.goto(f"{live_server.url}/{merchant}/order")
    assert axe(page) == [], "order page"
    page.locator("form button[type=submit]").click()
    page.locator("[data-error-summary]").wait_for()
    assert axe(page) == [], "error state"


@pytest.mark.parametrize("merchant", DEMO_MERCHANTS)
def test_success_page_is_accessible(
    app: Flask, live_server: LiveServer, page, axe, merchant: str
) -> None:
    client = app.test_client()  # the same app the browser talks to
    token = open_form(client, merchant)
    response = client.post(f"/{merchant}/order", data={**VALID[merchant], "form_token": token})
    assert response.status_code == 303
    page.goto(live_server.url + response.headers["Location"])
    assert page.locator("main h1").count() == 1
    assert axe(page) == [], "success page"


def test_no_request_leaves_for_another_host(live_server: LiveServer, page) -> None:
    hosts = set()
    page.on("request", lambda request: hosts.add(re.sub(r"^(\w+://[^/]+).*", r"\1", request.url)))
    for merchant in DEMO_MERCHANTS:
        page.goto(f"{live_server.url}/{merchant}/order")
    assert hosts == {live_server.url}
