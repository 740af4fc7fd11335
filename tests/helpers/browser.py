"""Real-browser pieces: Debian's Chromium, Portico served on a loopback port, the portal
steps a customer takes in the browser, and the XSS watch (dialogs, CSP violations,
injected elements).

Playwright's own browser download cannot work here, so the tests drive the
system Chromium. Where it is missing they skip and say why; CI sets
``PORTICO_REQUIRE_BROWSER=1`` and there a missing browser fails instead (the
fixtures are in ``tests/browser/conftest.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from app.portal.tokens import DIRECT
from tests.helpers.app import ROOT, make_app, stop_background_work
from tests.helpers.mail import Mailbox
from tests.helpers.net import free_port
from tests.helpers.portal import sign_up

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BROWSER_REQUIRED = os.environ.get("PORTICO_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


class LiveServer:
    """A Flask app served by werkzeug on a free loopback port, in a thread."""

    def __init__(self, app: Flask, host: str = "127.0.0.1") -> None:
        self.server = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class PortalServer:
    """Portico on a loopback port whose PORTICO_BASE_URL is its own address, so the
    links in its mails lead back to it; its mail goes to ``mailbox``'s SMTP server,
    or to the file outbox without one."""

    def __init__(self, instance_dir: Path, mailbox: Mailbox | None = None) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.app: Flask = make_app(
            instance_dir,
            PORTICO_SECRET_KEY="browser-portal-secret-0123456789",
            PORTICO_BASE_URL=self.url,
            PORTICO_SMTP_URL=mailbox.smtp_url if mailbox else "",
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
        stop_background_work(self.app)


def customer(portal: PortalServer, email: str = "jana@example.com", merchant: str = "acme") -> str:
    """A customer signed up through the order page (not in the browser); the number."""
    return sign_up(portal.app.test_client(), merchant, email)


def ask_for_link(page, portal: PortalServer, email: str, merchant: str = "acme") -> None:
    """Ask for a sign-in mail on the sign-in page, as the customer does."""
    page.goto(f"{portal.url}/{merchant}/portal?lang=en")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.get_by_role("heading", name="Check your email").wait_for()


def sign_in_browser(page, portal: PortalServer, email: str) -> None:
    """Sign the browser in at acme with a link as ``portico portal-link`` prints it."""
    issued = portal.app.extensions["portico"].portal.tokens.issue("acme", email, channel=DIRECT)
    page.goto(f"{portal.url}/acme/portal/verify/{issued.token}?lang=en")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/acme/portal\?lang=en$"))


# The XSS watch: the ``watched`` fixture's page records dialogs, CSP violations and errors.
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__violations.push(e.violatedDirective + ' ' + (e.sample || e.blockedURI)));
"""
INJECTED = """() => {
  const own = (el) => el.src && new URL(el.src).origin === location.origin;
  const found = [...document.querySelectorAll('*')].flatMap((el) => {
    const tag = el.tagName.toLowerCase();
    const events = [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name);
    const bad = [];
    if (events.length) bad.push(`${tag}[${events}]`);
    if (['iframe', 'svg', 'math', 'object', 'embed', 'base', 'style'].includes(tag)) bad.push(tag);
    if (tag === 'script' && !own(el)) bad.push('inline script');
    for (const name of ['href', 'src', 'action', 'formaction']) {
      const value = (el.getAttribute(name) || '').replace(/\\s/g, '').toLowerCase();
      if (value.startsWith('javascript:')) bad.push(`${tag}[${name}=javascript:]`);
    }
    return bad;
  });
  return found;
}"""


def assert_nothing_ran(page) -> None:
    # Give focus to everything (autofocus/onfocus payloads) and let handlers fire.
    page.evaluate("() => document.querySelectorAll('*').forEach((el) => el.focus && el.focus())")
    page.wait_for_timeout(150)
    assert page.evaluate(INJECTED) == [], page.url
    assert page.evaluate("() => window.__violations") == [], page.url
    assert page.seen == {"dialogs": [], "errors": [], "console": []}, page.url
