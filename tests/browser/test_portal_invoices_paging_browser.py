"""A long invoice list in a real browser: axe-core checks the paged list, and its page
navigation is links a keyboard follows (no JavaScript needed)."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import PortalServer, customer, sign_in_browser
from tests.helpers.portal import customer_of
from tests.helpers.portal_billing import add_invoices

pytestmark = pytest.mark.browser


def test_the_paged_list_is_accessible_and_its_links_lead_through_it(
    portal: PortalServer, audit_page, axe
) -> None:
    page = audit_page
    customer(portal, "jana@example.com")
    add_invoices(portal.app, "acme", customer_of(portal.app, "acme", "jana@example.com")["id"], 60)
    sign_in_browser(page, portal, "jana@example.com")
    page.goto(f"{portal.url}/acme/portal/invoices?lang=en")
    pages = page.get_by_role("navigation", name="Pages of invoices")

    assert page.get_by_text("61 invoices").is_visible()
    assert pages.get_by_role("link", name="Page 1").get_attribute("aria-current") == "page"
    assert axe(page) == [], "the first page of invoices"

    older = pages.get_by_role("link", name="Older invoices")
    older.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/acme/portal/invoices\?lang=en&page=2$"))
    assert page.get_by_text("Page 2 of 3").is_visible()
    assert axe(page) == [], "a middle page of invoices"

    pages.get_by_role("link", name="Page 3").click()
    page.wait_for_url(re.compile(r"page=3$"))
    assert page.get_by_role("row").count() == 1 + 13  # the header and the last 13
    assert pages.get_by_role("link", name="Older invoices").count() == 0
    pages.get_by_role("link", name="Newer invoices").click()
    page.wait_for_url(re.compile(r"page=2$"))
