"""The portal sign-in in a real browser: a real SMTP server receives the mail, Chromium
follows its link, confirms and lands on the overview; axe-core checks every portal page."""

from __future__ import annotations

import re

import pytest

from tests.helpers.browser import PortalServer, ask_for_link, customer
from tests.helpers.mail import LINK, Mailbox, link_and_code, text_of

pytestmark = pytest.mark.browser


def test_sign_in_by_mailed_link(portal: PortalServer, mailbox: Mailbox, page) -> None:
    number = customer(portal)
    ask_for_link(page, portal, "jana@example.com")
    mail = mailbox.wait_for_signin("jana@example.com")
    link = LINK.search(text_of(mail))
    assert link and link.group(0).startswith(f"{portal.url}/acme/portal/verify/")

    page.goto(link.group(0))
    page.get_by_role("heading", name="Sign in to ACME Cloud GmbH").wait_for()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/acme/portal\?lang=en$"))
    page.get_by_role("heading", name="Your account").wait_for()
    assert number in page.content()
    assert "Signed in as jana@example.com" in page.content()

    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url(re.compile(r"signed_out=1"))
    page.get_by_text("You have signed out.").wait_for()
    page.goto(link.group(0))  # the link was used up by the sign-in
    page.get_by_role("heading", name="This sign-in link has already been used").wait_for()


def test_sign_in_by_code_with_the_keyboard(
    portal: PortalServer, mailbox: Mailbox, browser, page
) -> None:
    """The mail is read on a phone; the customer types the code on a laptop."""
    customer(portal)
    ask_for_link(page, portal, "jana@example.com")
    _, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    page.get_by_label("Code").focus()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/acme/portal\?lang=en$"))
    page.get_by_role("heading", name="Your account").wait_for()


def test_portal_pages_are_accessible(
    portal: PortalServer, mailbox: Mailbox, audit_page, axe
) -> None:
    page = audit_page
    customer(portal, "anna@corp.example")
    customer(portal, "billing@other.example")
    portal.app.extensions["portico"].portal.access.add("acme", "C-000002", domain="corp.example")

    page.goto(f"{portal.url}/acme/portal?lang=en")
    assert axe(page) == [], "sign-in page"
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.locator("#error-summary").wait_for()
    assert axe(page) == [], "sign-in page with an error"

    page.goto(f"{portal.url}/acme/portal/code?lang=en")
    assert axe(page) == [], "code page"
    page.get_by_label("Email").fill("anna@corp.example")
    page.get_by_label("Code").fill("0000 0000")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#error-summary").wait_for()
    assert axe(page) == [], "code page with an error"

    ask_for_link(page, portal, "anna@corp.example")
    assert axe(page) == [], "check-your-email page"
    mail = mailbox.wait_for_signin("anna@corp.example")
    link = LINK.search(text_of(mail))
    assert link
    page.goto(f"{portal.url}/acme/portal/verify/{'A' * 43}?lang=en")
    assert axe(page) == [], "invalid link page"
    page.goto(link.group(0))
    assert axe(page) == [], "confirmation page"
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/acme/portal/accounts"))
    assert axe(page) == [], "account chooser"
    page.get_by_role("button", name=re.compile("C-000002")).click()
    page.wait_for_url(re.compile(r"/acme/portal\?lang=en$"))
    assert axe(page) == [], "overview"
