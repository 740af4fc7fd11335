"""`portico bill` over time: a year of renewals, failed payments, recovery, cancellation."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

from app.core.clock import parse_iso
from tests.helpers.billing import GOOD_CARD, NO_FUNDS_CARD, Shop, demo_config
from tests.helpers.clock import Clock
from tests.helpers.stores import raw_data

YEAR_LATER = datetime(2027, 1, 20, tzinfo=UTC)


def templates(shop: Shop) -> list[str]:
    return [mail["template"] for mail in shop.docs("outbox", kind="mail")]


def test_a_year_of_monthly_renewals(shop: Shop) -> None:
    result = shop.sign_up("basic", coupon="HALF")
    run = shop.bill(YEAR_LATER)
    assert run.invoices == 12 and run.payments_succeeded == 12 and run.payments_failed == 0
    invoices = shop.docs("invoices")
    assert [i["number"] for i in invoices] == [f"GS-2026-{n:06d}" for n in range(1, 13)] + [
        "GS-2027-000001"
    ]
    # periods follow each other without gap or overlap, anchored on the 15th
    starts = [i["service_start"] for i in invoices]
    ends = [i["service_end"] for i in invoices]
    assert starts[1:] == ends[:-1]
    assert ends[-1] == "2027-02-15T09:30:00+00:00"
    # the coupon halved the first two periods only
    assert [i["net"] for i in invoices[:4]] == [500, 500, 1000, 1000]
    assert all(i["status"] == "paid" and i["gross"] == i["net"] + i["tax"] for i in invoices)
    assert shop.billing.account("shop", shop.config, result.customer_id).balance == 0
    mails = [m for m in shop.docs("outbox", kind="mail") if m["template"] == "invoice_issued"]
    assert len(mails) == 12
    assert [m["attachments"][0]["invoice_id"] for m in mails] == [i["id"] for i in invoices[1:]]
    assert mails[0]["data"]["number"] == "GS-2026-000002" and mails[0]["language"] == "de"


def test_running_twice_for_the_same_date_changes_nothing(shop: Shop) -> None:
    shop.sign_up("basic")
    shop.sign_up("trial", "card", NO_FUNDS_CARD, fields={"email": "b@example.de"})
    shop.sign_up("basic", "invoice", None, fields={"email": "c@example.de"})
    shop.bill(YEAR_LATER)
    before = raw_data(shop.store, "shop")
    run = shop.bill(YEAR_LATER)
    assert (run.invoices, run.payments_succeeded, run.payments_failed, run.mails) == (0, 0, 0, 0)
    assert raw_data(shop.store, "shop") == before


def test_running_day_by_day_gives_what_one_run_gives(store, config) -> None:
    daily = Shop(store, Clock(), config, "daily")
    once = Shop(store, Clock(), config, "once")
    for shop in (daily, once):
        shop.sign_up("basic")
        shop.sign_up("trial", "card", NO_FUNDS_CARD, fields={"email": "b@example.de"})
    day = daily.clock.now
    while day < datetime(2026, 4, 1, tzinfo=UTC):
        day += timedelta(days=1)
        daily.bill(day)
    once.bill(day)

    def summary(shop: Shop) -> list[tuple]:
        return [
            (i["number"], i["status"], i["gross"], i["issued_at"]) for i in shop.docs("invoices")
        ]

    assert summary(daily) == summary(once)
    assert [p["status"] for p in daily.docs("payments")] == [
        p["status"] for p in once.docs("payments")
    ]


def test_a_failed_payment_is_retried_and_recovers_with_a_new_card(shop: Shop) -> None:
    result = shop.sign_up("trial", "card", NO_FUNDS_CARD)  # verified, but cannot pay
    trial_end = parse_iso(shop.get("subscriptions", result.subscription_id)["trial_end"])
    shop.bill(trial_end - timedelta(days=2))
    assert templates(shop) == ["signup_confirmation", "trial_ending"]
    shop.bill(trial_end)
    [invoice] = shop.docs("invoices")
    assert invoice["status"] == "open" and invoice["attempts"] == 1
    assert invoice["next_attempt_at"] == (trial_end + timedelta(days=1)).isoformat()
    assert shop.get("subscriptions", result.subscription_id)["status"] == "active"
    shop.bill(trial_end + timedelta(days=3, hours=1))  # retries after 1 and 3 days fail
    invoice = shop.get("invoices", invoice["id"])
    assert invoice["attempts"] == 3
    assert templates(shop).count("payment_failed") == 3
    # the customer adds a working card; the last retry (after 7 days) succeeds
    shop.clock.now = trial_end + timedelta(days=4)
    shop.billing.add_payment_method("shop", shop.config, result.customer_id, "card", GOOD_CARD)
    shop.bill(trial_end + timedelta(days=8))
    invoice = shop.get("invoices", invoice["id"])
    assert invoice["status"] == "paid"
    assert shop.get("subscriptions", result.subscription_id)["status"] == "active"
    assert "payment_succeeded" in templates(shop)
    assert shop.billing.account("shop", shop.config, result.customer_id).balance == 0


def test_unpaid_subscriptions_go_past_due_then_are_canceled(shop: Shop) -> None:
    result = shop.sign_up("trial", "card", NO_FUNDS_CARD)
    trial_end = parse_iso(shop.get("subscriptions", result.subscription_id)["trial_end"])
    shop.bill(trial_end + timedelta(days=7))
    subscription = shop.get("subscriptions", result.subscription_id)
    assert subscription["status"] == "past_due"
    [invoice] = shop.docs("invoices")
    assert (invoice["attempts"], invoice["next_attempt_at"]) == (4, None)
    shop.bill(trial_end + timedelta(days=21))
    subscription = shop.get("subscriptions", result.subscription_id)
    assert (subscription["status"], subscription["cancel_reason"]) == ("canceled", "unpaid")
    assert subscription["ended_at"] == (trial_end + timedelta(days=21)).isoformat()
    invoice = shop.get("invoices", invoice["id"])
    assert invoice["status"] == "uncollectible"
    account = shop.billing.account("shop", shop.config, result.customer_id)
    assert account.balance == invoice["gross"] == account.outstanding  # still owed
    shop.bill(YEAR_LATER)
    assert len(shop.docs("invoices")) == 1


def test_past_due_becomes_active_when_the_customer_pays_from_the_portal(shop: Shop) -> None:
    result = shop.sign_up("trial", "card", NO_FUNDS_CARD)
    trial_end = parse_iso(shop.get("subscriptions", result.subscription_id)["trial_end"])
    shop.bill(trial_end + timedelta(days=8))
    assert shop.get("subscriptions", result.subscription_id)["status"] == "past_due"
    shop.clock.now = trial_end + timedelta(days=8)
    method = shop.billing.add_payment_method(
        "shop", shop.config, result.customer_id, "card", GOOD_CARD
    )
    [invoice] = shop.docs("invoices")
    shop.billing.pay_invoice(
        "shop", shop.config, result.customer_id, invoice["number"], method["id"]
    )
    assert shop.get("subscriptions", result.subscription_id)["status"] == "active"


def test_invoice_payers_get_a_reminder_and_stay_active_without_a_cancel_rule(store, clock) -> None:
    shop = Shop(store, clock, demo_config("acme"), "acme")
    result = shop.sign_up("business", "invoice", None, fields={"email": "a@b.de", "country": "DE"})
    shop.bill(datetime(2026, 3, 20, tzinfo=UTC))
    assert templates(shop).count("payment_reminder") == 2  # the third invoice is not due yet
    assert shop.get("subscriptions", result.subscription_id)["status"] == "active"
    shop.billing.record_payment("acme", shop.docs("invoices")[0]["number"], 15000, "BANK-1")
    account = shop.billing.account("acme", shop.config, result.customer_id)
    first = shop.docs("invoices")[0]
    # 150.00 against 176.12 (148.00 + 19 %): the rest stays outstanding on the first invoice
    assert (first["status"], first["amount_paid"], first["gross"]) == ("open", 15000, 17612)
    assert account.balance == account.outstanding == 17612 - 15000 + 2 * 5831
    shop.billing.record_payment("acme", first["number"], 5000, "BANK-2")
    assert shop.get("invoices", first["id"])["status"] == "paid"
    # the 23.88 paid too much settle the next invoice in part
    second = shop.docs("invoices")[1]
    assert (second["status"], second["credit_applied"]) == ("open", 2388)


def test_billing_knows_nothing_of_flask() -> None:
    code = (
        "import sys, app.billing.service, app.billing.runner, app.signup.service;"
        "assert not [m for m in sys.modules if m.startswith('flask')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
