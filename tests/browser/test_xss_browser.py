"""The XSS sweep in Chromium: pages full of payloads open, are sent and focused; nothing runs.

The merchant ``xss-all`` has every payload of ``tests/helpers/xss.py`` in
every text at once, and the customer types them all into every field. The
browser listens for dialogs (``alert(1)``), Content-Security-Policy
violations (an inline script or handler that made it into the DOM) and page
errors; after the browser's own parsing (mutation XSS included) the DOM holds
no element or attribute the payloads would bring.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlencode

import pytest
from flask import Flask

from tests.helpers.app import DEMO_CONFIG, mails_sent, make_app
from tests.helpers.browser import INJECTED, LiveServer, assert_nothing_ran
from tests.helpers.orders import form_token
from tests.helpers.xss import ALL_AT_ONCE, EMAIL, FIELD_VALUES, signup_data, write_merchants

pytestmark = pytest.mark.browser

SLUG = "xss-all"


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, LiveServer]]:
    config = tmp_path_factory.mktemp("config")
    write_merchants(config, DEMO_CONFIG)
    app = make_app(
        tmp_path_factory.mktemp("instance"),
        config,
        PORTICO_SIGNUP_RATE_LIMIT="1000000 per minute",
    )
    with LiveServer(app) as server:
        yield app, server


def fill_every_field(page, text: str, email: str) -> None:
    """Set values through the DOM: faster than typing 900 characters into each field."""
    page.evaluate(
        """([text, email, names]) => {
          const form = document.querySelector('form');
          form.elements.email.value = email;
          for (const name of names) form.elements[name].value = text;
          form.querySelector('input[name=kind][value=b]').click();
        }""",
        [text, email, list(FIELD_VALUES)],
    )


@pytest.mark.parametrize("query", ["?lang=en", "?lang=de", "?embed=1&origin=https://shop.example"])
def test_order_page_with_every_payload_runs_nothing(xss_server, watched, query: str) -> None:
    _, server = xss_server
    watched.goto(f"{server.url}/{SLUG}/order{query}")
    assert_nothing_ran(watched)
    # The customer's turn: every payload in every field, sent without the consent (422).
    fill_every_field(watched, ALL_AT_ONCE, ALL_AT_ONCE)
    with watched.expect_navigation():
        watched.evaluate("() => document.querySelector('form').submit()")
    assert watched.evaluate("() => document.documentElement.dataset.status") == "422"
    assert_nothing_ran(watched)


def test_prefilled_links_with_payloads_run_nothing(xss_server, watched) -> None:
    _, server = xss_server
    names = ("full_name", "notes", "company", "ref", "coupon", "plan", "lang")
    watched.goto(f"{server.url}/{SLUG}/order?{urlencode(dict.fromkeys(names, ALL_AT_ONCE))}")
    assert_nothing_ran(watched)


def test_signup_success_page_with_every_payload_runs_nothing(xss_server, watched) -> None:
    _, server = xss_server
    watched.goto(f"{server.url}/{SLUG}/order?lang=en")
    fill_every_field(watched, ALL_AT_ONCE, EMAIL)
    watched.locator("input[name=terms]").check()
    with watched.expect_navigation(url=re.compile(r"/order/complete/sig_")):
        watched.evaluate("() => document.querySelector('form').submit()")
    assert_nothing_ran(watched)
    watched.goto(watched.url + "&embed=1&origin=https://shop.example")
    assert_nothing_ran(watched)
    watched.goto(f"{server.url}/{SLUG}/order/complete/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert_nothing_ran(watched)


def test_the_confirmation_mail_runs_nothing(xss_server, watched, tmp_path: Path) -> None:
    """The mail's HTML part opened as a page, the way a webmail shows it (scripts allowed)."""
    app, _ = xss_server
    client = app.test_client()
    token = form_token(client.get(f"/{SLUG}/order").get_data(as_text=True))
    data = {**signup_data(ALL_AT_ONCE, valid=True), "form_token": token}
    assert client.post(f"/{SLUG}/order", data=data).status_code == 303
    mails_sent(app)
    folder = Path(app.extensions["portico"].settings.outbox_dir)
    newest = max(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    message = message_from_bytes(newest.read_bytes(), policy=policy.default)
    page_file = tmp_path / "mail.html"
    page_file.write_text(message.get_body(("html",)).get_content(), encoding="utf-8")
    watched.goto(page_file.as_uri())
    assert_nothing_ran(watched)


def test_the_watch_sees_a_script_that_runs(watched) -> None:
    """The sweep is only as good as its watch: an injected handler is caught."""
    watched.set_content('<p>x</p><img src="data:," onerror="alert(1)">')
    watched.wait_for_timeout(100)
    assert watched.seen["dialogs"] == ["alert: 1"]
    assert watched.evaluate(INJECTED) == ["img[onerror]"]
