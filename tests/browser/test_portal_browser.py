"""The portal sign-in in a real browser: a real SMTP server receives the mail, Chromium
follows its link, confirms and lands on the overview; axe-core checks every portal page."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from werkzeug.serving import make_server

from app.factory import create_app
from tests.conftest import DEMO_CONFIG
from tests.portal.helpers import LINK, Mailbox, free_port, link_and_code, sign_up, text_of

pytestmark = pytest.mark.browser


class PortalServer:
    """Portico on a loopback port whose PORTICO_BASE_URL is its own address, so the
    links in its mails lead back to it; its mail goes to a real SMTP server."""

    def __init__(self, instance_dir: Path, mailbox: Mailbox, smtp_port: int) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.app: Flask = create_app(
            {
                "PORTICO_INSTANCE_DIR": str(instance_dir),
                "PORTICO_CONFIG_DIR": str(DEMO_CONFIG),
                "PORTICO_SECRET_KEY": "browser-portal-secret-0123456789",
                "PORTICO_BASE_URL": self.url,
                "PORTICO_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
                "PORTICO_MIN_FILL_SECONDS": "0",
            }
        )
        self.server = make_server("127.0.0.1", port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.mailbox = mailbox

    def __enter__(self) -> PortalServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.app.extensions["portico.signin_mailer"].shutdown()
        self.app.extensions["portico.mail_sender"].shutdown()


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[PortalServer]:
    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with PortalServer(tmp_path / "instance", mailbox, smtp.port) as server:
            yield server
    finally:
        smtp.stop()


@pytest.fixture
def audit_page(browser):
    """A page for axe-core: it is injected as a script, which the pages' CSP forbids."""
    context = browser.new_context(locale="en-GB", bypass_csp=True)
    yield context.new_page()
    context.close()


def customer(portal: PortalServer, email: str = "jana@example.com", merchant: str = "acme") -> str:
    return sign_up(portal.app.test_client(), merchant, email)


def ask_for_link(page, portal: PortalServer, email: str, merchant: str = "acme") -> None:
    page.goto(f"{portal.url}/{merchant}/portal?lang=en")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()


def test_sign_in_by_mailed_link(portal: PortalServer, page) -> None:
    number = customer(portal)
    ask_for_link(page, portal, "jana@example.com")
    mail = portal.mailbox.wait_for_signin("jana@example.com")
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


def test_sign_in_by_code_with_the_keyboard(portal: PortalServer, browser, page) -> None:
    """The mail is read on a phone; the customer types the code on a laptop."""
    customer(portal)
    ask_for_link(page, portal, "jana@example.com")
    _, code = link_and_code(portal.mailbox.wait_for_signin("jana@example.com"))
    page.get_by_label("Code").focus()
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/acme/portal\?lang=en$"))
    page.get_by_role("heading", name="Your account").wait_for()


def test_portal_pages_are_accessible(portal: PortalServer, audit_page, axe) -> None:
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
    mail = portal.mailbox.wait_for_signin("anna@corp.example")
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
