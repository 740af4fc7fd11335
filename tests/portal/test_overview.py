"""The portal overview: next bill, frequency, balance and credit, payment method and
auto-pay, trial end, pending cancellation, each subscription's features and actions,
and the notice (with the feedback prompt) after an action."""

from __future__ import annotations

from flask import Flask

from app.billing import invoices
from app.core.money import Money
from tests.helpers.orders import VALID, open_form, stored
from tests.helpers.portal import (
    hidden,
    page,
    post,
    sign_in,
    signed_in_client,
    subscription_of,
    text,
)
from tests.helpers.portal_billing import add_invoices

ACME = "jana@example.com"
THISTLE = "ops@example.co.uk"


def test_invoice_payer_sees_arrears_next_bill_features_and_actions(app: Flask) -> None:
    client = signed_in_client(app, "acme", ACME)
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


def test_card_payer_sees_card_auto_pay_and_credit(app: Flask) -> None:
    client = signed_in_client(app, "thistle", THISTLE)
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


def test_trial_shows_its_end_and_the_first_bill(app: Flask) -> None:
    client = app.test_client()
    token = open_form(client, "acme", "?lang=en&plan=starter")
    signed_up = client.post(
        "/acme/order?lang=en",
        data={**VALID["acme"], "plan": "starter", "email": ACME, "form_token": token},
    )
    assert signed_up.status_code == 303
    sign_in(app, client, "acme", ACME)
    subscription = subscription_of(app, "acme", ACME)
    words = text(page(client, "/acme/portal?lang=en"))
    assert "Status Free trial" in words
    assert "Free trial until" in words
    assert "Next bill €10.71 on" in words  # €9.00 plus 19 % VAT, when the trial ends
    assert subscription["trial_end"] == subscription["current_period_end"]


def test_pending_cancellation_and_the_notice_with_feedback_prompt(app: Flask) -> None:
    client = signed_in_client(app, "acme", ACME)
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


def test_a_long_history_shows_what_is_still_owed_and_the_credit_left(app: Flask) -> None:
    client = signed_in_client(app, "acme", ACME)
    customer_id = subscription_of(app, "acme", ACME)["customer_id"]
    container = app.extensions["portico"]
    billing, config = container.billing, container.merchants.get("acme").config
    history = add_invoices(app, "acme", customer_id, 60)  # 61 open invoices of €176.12
    gross = history[0]["gross"]
    for invoice in history[:40]:
        billing.record_payment("acme", invoice["number"], gross, "bank transfer")
    for invoice in history[40:45]:
        billing.void_invoice("acme", invoice["number"])
    with container.store.write("acme") as tx:
        for invoice in history[45:50]:  # still owed, no longer collected
            invoices.mark_uncollectible(tx, invoice)
    billing.record_payment("acme", history[50]["number"], gross // 2, "half of it")
    owed = 16 * gross - gross // 2  # the sign-up's, 10 open, 5 uncollectible, half of one

    words = text(page(client, "/acme/portal?lang=en"))

    assert f"Outstanding balance {Money(owed, 'EUR').format('en')}" in words
    assert "Next bill €58.31 on" in words

    # A credit note worth €11.90 more than is owed pays all of it; the rest is credit
    # that the next bill uses.
    note = billing.grant_credit("acme", config, customer_id, (owed + 1190) * 100 // 119, "Sorry")
    left = -note["gross"] - owed  # a credit note's amounts are negative
    assert 0 < left < 5831
    words = text(page(client, "/acme/portal?lang=en"))
    assert "Outstanding balance Nothing outstanding" in words
    assert f"Credit {Money(left, 'EUR').format('en')}" in words
    assert f"Next bill {Money(5831 - left, 'EUR').format('en')} on" in words
