"""Every portal page of every demo merchant, in every state that matters, through axe-core.

One browser context per merchant walks the portal the way a customer does:
signed out (sign-in, code entry, check-your-email, the link's confirmation,
the account chooser, help), then signed in (overview, change plan, the
feedback prompt and its thanks, invoices, payment methods, details,
preferences, help, cancel) — error states included. The walk also proves the
keyboard paths: the details page's error summary takes focus and its links
move focus to the fields; the feedback rating is chosen and sent by keyboard.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.portal.tokens import DIRECT
from tests.helpers.app import DEMO_MERCHANTS, make_app, stop_background_work
from tests.helpers.browser import LiveServer, PortalServer, ask_for_link, customer
from tests.helpers.orders import stored
from tests.helpers.portal import NEWSLETTER, edited_config, sign_up

pytestmark = pytest.mark.browser

EMAIL = "anna@corp.example"
COLLEAGUE = "billing@other.example"
REQUIRED_DETAIL = {"acme": "first_name", "stromma": "name", "thistle": "full_name"}


class Walk:
    """The page of one merchant's customer and the axe verdicts gathered on the way."""

    def __init__(self, page, portal: PortalServer, merchant: str, axe) -> None:
        self.page, self.portal, self.merchant, self._axe = page, portal, merchant, axe
        self.violations: dict[str, list[dict]] = {}
        self.audited: list[str] = []

    def url(self, path: str = "") -> str:
        return f"{self.portal.url}/{self.merchant}/portal{path}"

    def audit(self, state: str) -> None:
        self.audited.append(state)
        found = self._axe(self.page)
        if found:
            self.violations[state] = found

    def nav(self, name: str) -> bool:
        """Follow the portal navigation's link ``name``; False if the merchant has none."""
        link = self.page.get_by_role("navigation").get_by_role("link", name=name, exact=True)
        if not link.count():
            return False
        link.click()
        self.page.wait_for_load_state()
        return True


def signed_out_pages(walk: Walk, colleague_number: str) -> None:
    page, url = walk.page, walk.url
    page.goto(url("?lang=en"))
    walk.audit("sign-in")
    page.get_by_role("button", name="Email me a sign-in link").click()
    page.locator("#error-summary").wait_for()
    walk.audit("sign-in with an error")

    page.goto(url("/code?lang=en"))
    walk.audit("code entry")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Code").fill("0000 0000")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#error-summary").wait_for()
    walk.audit("code entry with an error")

    page.goto(url("/help?lang=en&q=cancel"))
    walk.audit("help, signed out, with a search")

    ask_for_link(page, walk.portal, EMAIL, walk.merchant)
    walk.audit("check your email")
    page.goto(url(f"/verify/{'A' * 43}?lang=en"))
    walk.audit("invalid sign-in link")

    issued = walk.portal.app.extensions["portico"].portal.tokens.issue(
        walk.merchant, EMAIL, channel=DIRECT
    )
    page.goto(url(f"/verify/{issued.token}?lang=en"))
    walk.audit("sign-in confirmation")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/portal/accounts"))
    walk.audit("account chooser")
    assert page.get_by_role("button", name=re.compile(colleague_number)).count() == 1
    page.locator("button[name=account]").first.click()
    page.wait_for_url(re.compile(r"/portal\?lang=en$"))


def change_plan(walk: Walk) -> None:
    page = walk.page
    walk.audit("overview")
    if not walk.nav("Change plan"):
        return
    walk.audit("change plan: choose")
    page.get_by_role("button", name="Review the change").click()
    page.locator("#error-summary").wait_for()
    walk.audit("change plan: choose, with an error")
    page.locator("#plan-0").check()
    page.get_by_role("button", name="Review the change").click()
    page.get_by_role("heading", name="Confirm your plan change").wait_for()
    walk.audit("change plan: confirm")
    page.get_by_role("button", name="Confirm plan change").click()
    page.get_by_role("heading", name="How did that go?").wait_for()
    walk.audit("overview after a plan change, with the feedback prompt")


def rate_by_keyboard(walk: Walk) -> None:
    """The rating buttons follow the comment in tab order; Enter on one sends it."""
    page = walk.page
    page.locator("#feedback-comment").focus()
    page.keyboard.type("Quick and clear.")
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement.id"))
    assert focused == [f"feedback-rating-{n}" for n in range(1, 5)]
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Thank you for your feedback").wait_for()
    walk.audit("feedback thanks")
    given = stored(walk.portal.app, walk.merchant, "feedback")
    assert [(f["rating"], f["comment"]) for f in given] == [(4, "Quick and clear.")]


def money_pages(walk: Walk) -> None:
    page = walk.page
    page.goto(walk.url("?lang=en"))
    if walk.nav("Invoices"):
        page.get_by_role("heading", name="Invoices").wait_for()
        walk.audit("invoices")
    if walk.nav("Payment methods"):
        walk.audit("payment methods")
        page.get_by_role("button", name="Add payment method").click()
        page.locator("#error-summary").wait_for()
        walk.audit("payment methods, add form with an error")


def details(walk: Walk) -> None:
    """The details page, its 422 state, and the keyboard path of its error summary."""
    page = walk.page
    page.goto(walk.url("?lang=en"))
    assert walk.nav("Your details")
    walk.audit("details")
    name = REQUIRED_DETAIL[walk.merchant]
    field = page.locator(f"form [name={name}]")
    kept = field.input_value()
    field.fill("")
    with page.expect_navigation():  # past the inline checks, as a browser without JS sends it
        page.evaluate("() => document.querySelector('form[data-order-form]').submit()")
    assert page.evaluate("() => document.documentElement.dataset.status") == "422"
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    walk.audit("details with an error")

    assert page.evaluate("() => document.activeElement.id") == "error-summary"
    page.keyboard.press("Tab")
    link = page.evaluate("() => document.activeElement.closest('#error-summary') !== null")
    assert link, "the first Tab from the summary lands on its first link"
    target = page.evaluate("() => document.activeElement.hash.slice(1)")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == target
    assert page.evaluate("() => document.activeElement.name") == name

    page.locator(f"form [name={name}]").fill(kept)
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Your details have been saved.").wait_for()
    walk.audit("details saved, with the feedback prompt")

    if walk.nav("Preferences"):
        walk.audit("preferences")
    page.goto(walk.url("/help?lang=en&q=cancel"))
    walk.audit("help, signed in, with a search")


def cancel(walk: Walk) -> None:
    page = walk.page
    page.goto(walk.url("?lang=en"))
    assert walk.nav("Cancel subscription")
    walk.audit("cancel: reasons (and the retention offer)")
    page.get_by_role("button", name="Continue").click()
    page.locator("#error-summary").wait_for()
    walk.audit("cancel: reasons, with an error")
    page.locator("#reason-0").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Confirm your cancellation").wait_for()
    walk.audit("cancel: confirm")
    page.get_by_role("button", name="Cancel subscription").click()
    page.get_by_role("button", name="Keep my subscription").wait_for()
    walk.audit("overview with a pending cancellation")


@pytest.mark.parametrize("merchant", DEMO_MERCHANTS)
def test_every_portal_page_passes_axe(portal: PortalServer, audit_page, axe, merchant) -> None:
    number = customer(portal, EMAIL, merchant)
    colleague = customer(portal, COLLEAGUE, merchant)
    portal.app.extensions["portico"].portal.access.add(merchant, colleague, domain="corp.example")
    walk = Walk(audit_page, portal, merchant, axe)

    signed_out_pages(walk, colleague)
    assert number in audit_page.content()
    change_plan(walk)
    rate_by_keyboard(walk)
    money_pages(walk)
    details(walk)
    cancel(walk)
    assert walk.violations == {}
    assert len(walk.audited) == 26, walk.audited  # no demo merchant has preferences


@pytest.fixture
def opt_in_server(tmp_path: Path) -> Iterator[LiveServer]:
    """acme with an optional consent, the only thing that gives the portal a preferences page."""
    anchor = "      required: true\n  success:\n"
    config = edited_config(
        tmp_path, "acme", anchor, "      required: true\n" + NEWSLETTER + "  success:\n"
    )
    app = make_app(tmp_path / "instance", config)
    with LiveServer(app) as server:
        yield server
    stop_background_work(app)


def test_preferences_page_passes_axe(opt_in_server: LiveServer, audit_page, axe) -> None:
    app, page = opt_in_server.server.app, audit_page
    sign_up(app.test_client(), "acme", EMAIL)
    issued = app.extensions["portico"].portal.tokens.issue("acme", EMAIL, channel=DIRECT)
    page.goto(f"{opt_in_server.url}/acme/portal/verify/{issued.token}?lang=en")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation").get_by_role("link", name="Preferences").click()
    assert axe(page) == [], "preferences"
    page.locator("input[name=newsletter]").check()
    page.get_by_role("button", name="Save preferences").click()
    page.wait_for_url(re.compile(r"saved=1"))
    assert page.locator("input[name=newsletter]").is_checked()
    assert axe(page) == [], "preferences saved"
