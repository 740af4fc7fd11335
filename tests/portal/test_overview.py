"""The portal overview: next bill, frequency, balance and credit, payment method and
auto-pay, trial end, pending cancellation, each subscription's features and actions,
and the notice (with the feedback prompt) after an action."""

from __future__ import annotations

from flask import Flask

from app.money import Money
from tests.portal.helpers import Mailbox, sign_in, signed_in_client, stored
from tests.portal.subscription_helpers import hidden, page, post, subscription_of, text
from tests.web.test_order_page import VALID, open_form

ACME = "jana@example.com"
THISTLE = "ops@example.co.uk"


def test_invoice_payer_sees_arrears_next_bill_features_and_actions(
    app: Flask, mailbox: Mailbox
) -> None:
    client = signed_in_client(app, mailbox, "acme", ACME)
    subscription = subscription_of(app, "acme", ACME)
    (first,) = [
        i
        for i in stored(app, "acme", "invoices")
        if i["customer_id"] == subscription["customer_id"]
    ]
    html = page(client, "/acme/portal?lang=en")
    words = text(html)
    assert "Subscription: Business" in words
    assert "Status Active" in words
    assert "Price €49.00" in words
    assert "Billing frequency Monthly" in words
    for feature in ("50 users", "1 TB storage", "Phone support"):
        assert feature in words
    # The first invoice (setup fee and first month, 19 % VAT) is unpaid: arrears.
    assert f"Outstanding balance {Money(first['gross'], 'EUR').format('en')}" in words
    assert "Payment method Invoice" in words
    assert "Automatic payment" not in words  # nothing to collect automatically
    # The next month: €49.00 plus 19 % VAT.
    assert "Next bill €58.31 on" in words
    assert f"/acme/portal/subscription/change?lang=en&amp;subscription={subscription['id']}" in html
    assert f"/acme/portal/subscription/cancel?lang=en&amp;subscription={subscription['id']}" in html
    assert "Pause for" not in words  # acme does not offer pausing


def test_card_payer_sees_card_auto_pay_and_credit(app: Flask, mailbox: Mailbox) -> None:
    client = signed_in_client(app, mailbox, "thistle", THISTLE)
    subscription = subscription_of(app, "thistle", THISTLE)
    words = text(page(client, "/thistle/portal?lang=en"))
    assert "Payment method Visa ending in 4242" in words
    assert "Automatic payment On" in words
    assert "Outstanding balance Nothing outstanding" in words
    assert "Credit" not in words.split("Subscription:")[0]

    container = app.extensions["portico"]
    config = container.merchants.get("thistle").config
    container.billing.grant_credit("thistle", config, subscription["customer_id"], 1000, "Goodwill")
    words = text(page(client, "/thistle/portal?lang=en"))
    assert "Credit £12.00" in words  # £10.00 net plus 20 % VAT


def test_trial_shows_its_end_and_the_first_bill(app: Flask, mailbox: Mailbox) -> None:
    client = app.test_client()
    token = open_form(client, "acme", "?lang=en&plan=starter")
    signed_up = client.post(
        "/acme/order?lang=en",
        data={**VALID["acme"], "plan": "starter", "email": ACME, "form_token": token},
    )
    assert signed_up.status_code == 303
    sign_in(client, mailbox, "acme", ACME)
    subscription = subscription_of(app, "acme", ACME)
    words = text(page(client, "/acme/portal?lang=en"))
    assert "Status Free trial" in words
    assert "Free trial until" in words
    assert "Next bill €10.71 on" in words  # €9.00 plus 19 % VAT, when the trial ends
    assert subscription["trial_end"] == subscription["current_period_end"]


def test_pending_cancellation_and_the_notice_with_feedback_prompt(
    app: Flask, mailbox: Mailbox
) -> None:
    client = signed_in_client(app, mailbox, "acme", ACME)
    subscription = subscription_of(app, "acme", ACME)
    start = "/acme/portal/subscription/cancel?lang=en"
    preview = post(
        client, start, {"subscription": subscription["id"], "reason": "switching"}, start
    )
    html = preview.get_data(as_text=True)
    done = client.post(
        start,
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "subscription": subscription["id"],
            "reason": "switching",
            "at": hidden(html, "at"),
            "step": "confirm",
        },
    )
    overview = page(client, done.headers["Location"])
    words = text(overview)
    assert 'id="done-notice"' in overview
    assert "Your cancellation has been received." in words
    assert "Canceled, ends on" in words
    assert "Next bill" not in words  # no further bill
    assert "Keep my subscription" in words
    assert f"cancel?lang=en&amp;subscription={subscription['id']}" not in overview  # canceled
    # The feedback prompt asks about the cancellation.
    assert "How did that go?" in words
    assert 'name="action" value="cancel"' in overview

    plain = page(client, "/acme/portal?lang=en&done=unknown")
    assert "How did that go?" not in text(plain)
    assert 'id="done-notice"' not in plain
