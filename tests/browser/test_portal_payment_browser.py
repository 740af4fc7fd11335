"""Invoices and payment methods in a real browser: axe-core checks each state of the pages,
the add form shows the inputs of the chosen method, and an open invoice is paid."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import PortalServer, customer, sign_in_browser

pytestmark = pytest.mark.browser


def test_payment_pages_are_accessible_and_pay_an_invoice(
    portal: PortalServer, audit_page, axe
) -> None:
    page = audit_page
    customer(portal, "jana@example.com")
    sign_in_browser(page, portal, "jana@example.com")

    page.get_by_role("navigation").get_by_role("link", name="Invoices").click()
    page.get_by_role("heading", name="Invoices").wait_for()
    assert axe(page) == [], "invoices"

    page.get_by_role("navigation").get_by_role("link", name="Payment methods").click()
    page.get_by_role("heading", name="Payment methods", exact=True).wait_for()
    assert axe(page) == [], "payment methods"
    card_number, iban = page.get_by_label("Card number"), page.get_by_label("IBAN")
    assert card_number.is_visible() and not iban.is_visible()
    page.get_by_label("SEPA Direct Debit").check()
    assert iban.is_visible() and not card_number.is_visible()

    page.get_by_label("Account holder").fill("Jana Schmidt")
    iban.fill("DE89 3704 0044 0532 0130 01")
    page.get_by_role("button", name="Add payment method").click()
    page.locator("#error-summary").wait_for()
    assert page.get_by_label("IBAN").input_value() == ""
    assert axe(page) == [], "payment methods with an error"

    page.get_by_label("Credit or debit card").check()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date (MM / YY)").fill("12 / 30")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Add payment method").click()
    page.get_by_text("Your payment method has been added.").wait_for()
    assert page.get_by_text("Visa ending in 4242").is_visible()
    assert axe(page) == [], "payment methods after adding a card"

    page.get_by_role("navigation").get_by_role("link", name="Invoices").click()
    page.get_by_role("button", name=re.compile(r"^Pay .* now$")).click()
    page.get_by_text("Your payment has been received.").wait_for()
    assert axe(page) == [], "invoices after paying"
