"""Cards through Stripe in Chromium, against localstripe and its Stripe.js shim.

The shim mounts plain inputs (placeholders number, exp_month, exp_year, cvc,
postal_code) where Stripe's Card Element would be, and answers a 3-D Secure
challenge with a dialog: "Complete authentication" or "Fail authentication".
The pages run under Portico's real Content-Security-Policy (no bypass).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers.app import app_from
from tests.helpers.browser import LiveServer
from tests.helpers.stripe import stripe_config_dir, stripe_overrides

pytestmark = pytest.mark.browser

ORDER = re.compile("Order", re.I)


@pytest.fixture
def stripe_app(tmp_path: Path, localstripe: str, stripe_env: None) -> Flask:
    config = stripe_config_dir(tmp_path / "config")
    return app_from(stripe_overrides(tmp_path / "instance", config, localstripe))


@pytest.fixture
def server(stripe_app: Flask) -> Iterator[LiveServer]:
    with LiveServer(stripe_app) as live:
        yield live


@pytest.fixture
def strict_page(browser):
    """A page that enforces the CSP: Stripe's hosts must be allowed by Portico's policy."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.csp_problems = problems
    yield page
    context.close()


def stored(app: Flask, collection: str) -> list[dict]:
    with app.extensions["portico"].store.read("acme") as tx:
        return tx.collection(collection).find()


def fill_order(page) -> None:
    page.get_by_label("Email").fill("jana@example.com")
    page.get_by_label("Private", exact=True).check()
    page.get_by_label("First name").fill("Jana")
    page.get_by_label("Last name").fill("Schmidt")
    page.get_by_label("Street and number").fill("Unter den Linden 5")
    page.get_by_label("Postal code").fill("10117")
    page.get_by_label("City").fill("Berlin")
    page.locator("input[name=payment_method][value=card]").check()
    page.locator("input[name=terms]").check()


def fill_card(page, number: str) -> None:
    card = page.locator("[data-stripe-card-element]")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("10117")


def test_normal_card_pays_the_first_invoice(
    stripe_app: Flask, server: LiveServer, strict_page
) -> None:
    page = strict_page
    page.goto(f"{server.url}/acme/order?lang=en&plan=business")
    assert page.locator("input[name=card_number]").count() == 0
    fill_order(page)
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name=ORDER).click()
    page.wait_for_url(re.compile(r"/acme/order/complete/sig_"))
    assert page.csp_problems == []
    (method,) = stored(stripe_app, "payment_methods")
    assert method["gateway"] == "stripe" and method["last4"] == "4242"
    assert method["token"].startswith("pm_") and "number" not in method
    (payment,) = stored(stripe_app, "payments")
    assert payment["status"] == "succeeded" and payment["reference"].startswith("pi_")
    (invoice,) = stored(stripe_app, "invoices")
    assert invoice["status"] == "paid"


def test_trial_saves_the_card_without_charging(
    stripe_app: Flask, server: LiveServer, strict_page
) -> None:
    page = strict_page
    page.goto(f"{server.url}/acme/order?lang=en&plan=starter")
    fill_order(page)
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name=ORDER).click()
    page.wait_for_url(re.compile(r"/acme/order/complete/sig_"))
    assert len(stored(stripe_app, "payment_methods")) == 1
    assert stored(stripe_app, "payments") == []


def test_3d_secure_confirmed(stripe_app: Flask, server: LiveServer, strict_page) -> None:
    page = strict_page
    page.goto(f"{server.url}/acme/order?lang=en&plan=business")
    fill_order(page)
    fill_card(page, "4000002760003184")
    page.get_by_role("button", name=ORDER).click()
    # Once to save the card (SetupIntent), once for the first payment (PaymentIntent).
    page.get_by_role("button", name="Complete authentication").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(re.compile(r"/acme/order/complete/sig_"))
    (payment,) = stored(stripe_app, "payments")
    assert payment["status"] == "succeeded"
    (invoice,) = stored(stripe_app, "invoices")
    assert invoice["status"] == "paid"


def test_3d_secure_cancelled_stores_nothing(
    stripe_app: Flask, server: LiveServer, strict_page
) -> None:
    page = strict_page
    page.goto(f"{server.url}/acme/order?lang=en&plan=business")
    fill_order(page)
    fill_card(page, "4000002760003184")
    page.get_by_role("button", name=ORDER).click()
    page.get_by_role("button", name="Fail authentication").click()
    error = page.locator("#stripe-card-error")
    error.wait_for()
    assert "authentication" in error.inner_text()
    assert page.get_by_label("Last name").input_value() == "Schmidt"  # the rest is kept
    assert stored(stripe_app, "customers") == []
    # The customer can try again with another card on the same page.
    fill_card(page, "4242424242424242")
    page.get_by_role("button", name=ORDER).click()
    page.wait_for_url(re.compile(r"/acme/order/complete/sig_"))
    assert len(stored(stripe_app, "customers")) == 1


def test_declined_card_shows_the_error_next_to_the_card(
    stripe_app: Flask, server: LiveServer, strict_page
) -> None:
    page = strict_page
    page.goto(f"{server.url}/acme/order?lang=en&plan=business")
    fill_order(page)
    fill_card(page, "4000000000000002")
    page.get_by_role("button", name=ORDER).click()
    error = page.locator("#stripe-card-error")
    error.wait_for()
    assert "declined" in error.inner_text()
    described = page.locator("[data-stripe-card-element]").get_attribute("aria-describedby")
    assert "stripe-card-error" in described
    assert page.get_by_label("City").input_value() == "Berlin"
    assert stored(stripe_app, "customers") == []


def test_without_javascript_the_page_says_so(
    stripe_app: Flask, server: LiveServer, browser
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    page.goto(f"{server.url}/acme/order?lang=en&plan=business")
    assert "Card payment needs JavaScript" in page.content()
    fill_order(page)
    page.get_by_role("button", name=ORDER).click()
    assert page.locator("#stripe-card-error").is_visible()
    assert "needs JavaScript" in page.locator("#stripe-card-error").inner_text()
    assert stored(stripe_app, "customers") == []
    page.locator("input[name=payment_method][value=invoice]").check()  # another method works
    page.locator("input[name=terms]").check()
    page.get_by_role("button", name=ORDER).click()
    page.wait_for_url(re.compile(r"/acme/order/complete/sig_"))
    context.close()
    assert len(stored(stripe_app, "customers")) == 1
