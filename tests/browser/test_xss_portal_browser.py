"""The portal's XSS sweep in Chromium: every page full of payloads opens, is sent and
focused; no dialog, no CSP violation, no script error, no injected element.

Merchant ``xss-all`` (:mod:`tests.helpers.xss_portal`) has every payload in
every portal text at once; its customer has them in every field, types them
into the details form, the feedback comment, the cancellation comment and the
help search. The server-side twin is ``tests/reliability/test_xss_portal.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask

from app.outbox.mails import render_mail
from app.portal.tokens import DIRECT
from tests.helpers.app import DEMO_CONFIG, make_app
from tests.helpers.browser import LiveServer, assert_nothing_ran
from tests.helpers.orders import stored
from tests.helpers.xss import ALL_AT_ONCE, EMAIL
from tests.helpers.xss_portal import join_with_payloads, write_portal_merchants

pytestmark = pytest.mark.browser

SLUG = "xss-all"
EDITABLE = ("full_name", "company", "notes")
TEMPLATE = "cancellation_confirmation"


@pytest.fixture(scope="module")
def xss_portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, LiveServer]]:
    config = tmp_path_factory.mktemp("config")
    write_portal_merchants(config, DEMO_CONFIG)
    app = make_app(tmp_path_factory.mktemp("instance"), config)
    join_with_payloads(app, SLUG, ALL_AT_ONCE)
    with LiveServer(app) as server:
        yield app, server


def submit(page, values: dict[str, str], form: str = "main form[method=post]") -> None:
    """Set the inputs through the DOM and send the form past any inline checks."""
    with page.expect_navigation():
        page.evaluate(
            """([selector, values]) => {
              const form = document.querySelector(selector);
              for (const [name, value] of Object.entries(values)) form.elements[name].value = value;
              form.submit();
            }""",
            [form, values],
        )


def test_public_help_with_every_payload_runs_nothing(xss_portal, watched) -> None:
    _, server = xss_portal
    watched.goto(f"{server.url}/{SLUG}/portal?lang=en")
    assert_nothing_ran(watched)
    watched.goto(f"{server.url}/{SLUG}/portal/help?lang=en&q={quote(ALL_AT_ONCE)}")
    assert_nothing_ran(watched)


def test_every_portal_page_and_the_mail_run_nothing(xss_portal, watched, tmp_path: Path) -> None:
    app, server = xss_portal
    page, portal = watched, f"{server.url}/{SLUG}/portal"
    issued = app.extensions["portico"].portal.tokens.issue(SLUG, EMAIL, channel=DIRECT)
    page.goto(f"{portal}/verify/{issued.token}?lang=en")
    assert_nothing_ran(page)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal\?lang=en$"))
    assert_nothing_ran(page)

    page.goto(f"{portal}/subscription/change?lang=en")
    assert_nothing_ran(page)
    page.locator("input[name=plan]").first.check()
    page.get_by_role("button", name="Review the change").click()
    page.get_by_role("heading", name="Confirm your plan change").wait_for()
    assert_nothing_ran(page)

    for path in ("/invoices?lang=en", "/payment-methods?lang=en", "/details?lang=en"):
        page.goto(portal + path)
        assert_nothing_ran(page)
    submit(page, dict.fromkeys(EDITABLE, ALL_AT_ONCE), "form[data-order-form]")
    page.get_by_text("Your details have been saved.").wait_for()
    assert "<script>alert(1)</script>" in page.locator("[name=full_name]").input_value()
    assert_nothing_ran(page)  # with the feedback prompt
    submit(page, {"code": ALL_AT_ONCE}, "form[data-order-form]")
    assert page.locator("#error-summary").is_visible()  # the pattern message, a payload
    assert_nothing_ran(page)

    page.goto(f"{portal}/details?lang=en&saved=1")
    page.locator("#feedback-comment").fill(ALL_AT_ONCE)
    page.locator("#feedback-rating-2").click()
    page.get_by_role("heading", name="Thank you for your feedback").wait_for()
    assert_nothing_ran(page)
    page.goto(f"{portal}/help?lang=en&q={quote(ALL_AT_ONCE)}")
    assert_nothing_ran(page)

    page.goto(f"{portal}/subscription/cancel?lang=en")
    assert_nothing_ran(page)  # reasons and the retention offer
    page.locator("input[name=reason]").first.check()
    page.locator("#comment").fill(ALL_AT_ONCE)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Confirm your cancellation").wait_for()
    assert_nothing_ran(page)
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("button", name="Keep my subscription").wait_for()
    assert_nothing_ran(page)  # the overview with the pending cancellation
    open_cancellation_mail(app, page, tmp_path)


def open_cancellation_mail(app: Flask, page, folder: Path) -> None:
    """The mail's HTML part opened as a page, the way a webmail shows it (scripts allowed)."""
    entries = [e for e in stored(app, SLUG, "outbox") if e.get("template") == TEMPLATE]
    assert len(entries) == 1
    loaded = app.extensions["portico"].merchants.get(SLUG)
    with app.test_request_context():
        mail = render_mail(
            loaded, entries[0], "http://portico.test", app.extensions["portico"].billing
        )
    page_file = folder / "mail.html"
    page_file.write_text(mail.get_body(("html",)).get_content(), encoding="utf-8")
    page.goto(page_file.as_uri())
    assert_nothing_ran(page)
