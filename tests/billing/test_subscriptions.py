"""Plan changes with proration, cancellation, pause and grandfathering; dry runs tell the truth."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.billing import lifecycle
from app.billing.base import PreviewExpired
from app.billing.lifecycle import InvalidTransition
from app.billing.subscriptions import ActionRefused
from app.core.clock import parse_iso
from app.store import TinyDBStore
from tests.helpers.billing import BASE, Shop, make_config, merged
from tests.helpers.clock import Clock


def amounts(shop: Shop, invoice_id: str) -> tuple[int, int, int]:
    invoice = shop.get("invoices", invoice_id)
    return invoice["net"], invoice["tax"], invoice["gross"]


def test_an_upgrade_credits_unused_time_and_charges_the_rest_of_the_period(shop: Shop) -> None:
    result = shop.sign_up("basic")
    shop.clock.advance(days=10)  # 21 of the period's 31 days are left
    preview = shop.billing.change_plan(
        "shop", shop.config, result.customer_id, result.subscription_id, "pro", dry_run=True
    )
    assert preview.preview is not None
    lines = [(line.kind, line.amount) for line in preview.preview.lines]
    assert lines == [("proration_credit", -677), ("proration_charge", 2032)]
    assert (preview.preview.totals.net, preview.preview.totals.tax) == (1355, 257)
    assert (
        shop.docs("invoices", kind="invoice") and len(shop.docs("invoices")) == 1
    )  # nothing written
    shop.clock.advance(minutes=5)  # the customer reads the preview, then confirms it
    done = shop.billing.change_plan(
        "shop", shop.config, result.customer_id, result.subscription_id, "pro", at=preview.at
    )
    assert done.invoice is not None
    assert [(line["kind"], line["amount"]) for line in done.invoice["lines"]] == lines
    assert done.invoice["gross"] == preview.preview.totals.gross == 1612
    assert done.invoice["status"] == "paid"
    assert done.subscription["plan_id"] == "pro" and done.subscription["price"] == 3000
    assert preview.next_invoice is not None and preview.next_invoice.totals.net == 3000


def test_a_preview_cannot_be_confirmed_much_later(shop: Shop) -> None:
    result = shop.sign_up("basic")
    preview = shop.billing.change_plan(
        "shop", shop.config, result.customer_id, result.subscription_id, "pro", dry_run=True
    )
    shop.clock.advance(hours=2)
    with pytest.raises(PreviewExpired):
        shop.billing.change_plan(
            "shop", shop.config, result.customer_id, result.subscription_id, "pro", at=preview.at
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    price_a=st.integers(min_value=0, max_value=500_000),
    price_b=st.integers(min_value=0, max_value=500_000),
    interval=st.sampled_from(["day", "week", "month", "year"]),
    elapsed=st.floats(min_value=0, max_value=1),
    rate=st.sampled_from(["0", "7", "19", "25.5"]),
    inclusive=st.booleans(),
    coupon=st.sampled_from([None, "HALF", "FIVE"]),
)
def test_a_change_and_its_reverse_create_or_lose_no_money(
    price_a: int,
    price_b: int,
    interval: str,
    elapsed: float,
    rate: str,
    inclusive: bool,
    coupon: str | None,
) -> None:
    plans = [
        {"id": "basic", "name": "A", "price": str(Decimal(price_a) / 100), "interval": interval},
        {"id": "pro", "name": "B", "price": str(Decimal(price_b) / 100), "interval": interval},
    ]
    config = make_config(
        plans=plans,
        billing={"tax": {"rate": rate, "prices_include_tax": inclusive}},
        portal={"change_plan": {"plans": ["basic", "pro"]}},
    )
    with tempfile.TemporaryDirectory() as folder:
        shop = Shop(TinyDBStore(Path(folder)), Clock(), config, "shop")
        result = shop.sign_up("basic", coupon=coupon)
        subscription = shop.get("subscriptions", result.subscription_id)
        length = parse_iso(subscription["current_period_end"]) - shop.clock.now
        shop.clock.advance(seconds=int(length.total_seconds() * elapsed))
        before = shop.billing.account("shop", config, result.customer_id)
        paid_before = sum(p["amount"] for p in shop.docs("payments", status="succeeded"))
        ids = (result.customer_id, result.subscription_id)
        there = shop.billing.change_plan("shop", config, *ids, "pro")
        back = shop.billing.change_plan("shop", config, *ids, "basic")
        grosses = [r.invoice["gross"] if r.invoice else 0 for r in (there, back)]
        assert abs(sum(grosses)) <= 1
        after = shop.billing.account("shop", config, result.customer_id)
        paid_after = sum(p["amount"] for p in shop.docs("payments", status="succeeded"))
        # what the customer paid in the meantime is exactly what they now hold as credit
        assert abs((after.balance + paid_after) - (before.balance + paid_before)) <= 1
        assert back.subscription["price"] == price_a


def test_downgrades_wait_for_the_period_end_when_the_merchant_says_so(store, clock) -> None:
    config = make_config(portal={"change_plan": {"downgrade": "at_period_end"}})
    shop = Shop(store, clock, config, "shop")
    result = shop.sign_up("pro")
    clock.advance(days=3)
    done = shop.billing.change_plan(
        "shop", config, result.customer_id, result.subscription_id, "basic"
    )
    assert done.invoice is None
    assert done.outcome.action == "schedule_change"
    assert done.subscription["plan_id"] == "pro"
    assert done.next_invoice is not None and done.next_invoice.totals.net == 1000
    # choosing the current plan again drops the scheduled change
    undo = shop.billing.change_plan(
        "shop", config, result.customer_id, result.subscription_id, "pro"
    )
    assert undo.subscription["scheduled_change"] is None
    shop.billing.change_plan("shop", config, result.customer_id, result.subscription_id, "basic")
    clock.advance(days=40)
    shop.bill()
    renewal = shop.docs("invoices")[-1]
    assert [line["plan_id"] for line in renewal["lines"]] == ["basic"]
    assert shop.get("subscriptions", result.subscription_id)["plan_id"] == "basic"


def test_a_new_interval_starts_a_new_period_at_the_change(shop: Shop) -> None:
    result = shop.sign_up("basic")
    shop.clock.advance(days=10)
    done = shop.billing.change_plan(
        "shop", shop.config, result.customer_id, result.subscription_id, "yearly"
    )
    assert [(line["kind"], line["amount"]) for line in done.invoice["lines"]] == [
        ("proration_credit", -677),
        ("proration_charge", 30000),
    ]
    assert done.subscription["current_period_start"] == "2026-01-25T09:30:00+00:00"
    assert done.subscription["current_period_end"] == "2027-01-25T09:30:00+00:00"


def test_a_plan_change_during_the_trial_only_switches_the_plan(shop: Shop) -> None:
    config = make_config(portal={"change_plan": {"plans": ["trial", "basic", "pro"]}})
    shop.config = config
    result = shop.sign_up("trial")
    done = shop.billing.change_plan(
        "shop", config, result.customer_id, result.subscription_id, "pro"
    )
    assert done.invoice is None
    assert (done.subscription["status"], done.subscription["plan_id"]) == ("trialing", "pro")
    assert done.next_invoice is not None and done.next_invoice.totals.net == 3000


@pytest.mark.parametrize(
    ("changes", "plan", "reason"),
    [
        ({"portal": {"change_plan": {"enabled": False}}}, "pro", "change_plan_disabled"),
        ({}, "setup", "plan_not_offered"),
        ({}, "basic", "same_plan"),
    ],
)
def test_refused_plan_changes(store, clock, changes, plan: str, reason: str) -> None:
    shop = Shop(store, clock, make_config(**changes), "shop")
    result = shop.sign_up("basic")
    with pytest.raises(ActionRefused) as caught:
        shop.billing.change_plan(
            "shop", shop.config, result.customer_id, result.subscription_id, plan
        )
    assert caught.value.reason == reason


def test_cancel_at_period_end_and_undo(shop: Shop) -> None:
    result = shop.sign_up("basic")
    ids = ("shop", shop.config, result.customer_id, result.subscription_id)
    done = shop.billing.cancel(*ids, reason="too_expensive")
    assert done.invoice is None and done.subscription["cancel_at_period_end"]
    assert done.outcome.effective_at.isoformat() == "2026-02-15T09:30:00+00:00"
    assert (
        shop.billing.next_bill("shop", shop.config, result.customer_id, result.subscription_id)
        is None
    )
    shop.billing.undo_cancel(*ids)
    with pytest.raises(ActionRefused):
        shop.billing.undo_cancel(*ids)
    shop.billing.cancel(*ids)
    shop.clock.advance(days=45)
    shop.bill()
    subscription = shop.get("subscriptions", result.subscription_id)
    assert (subscription["status"], subscription["ended_at"]) == (
        "canceled",
        "2026-02-15T09:30:00+00:00",
    )
    assert len(shop.docs("invoices")) == 1
    assert [m["template"] for m in shop.docs("outbox", kind="mail")][-1] == "subscription_canceled"


def test_immediate_cancellation_credits_the_unused_time(store, clock) -> None:
    config = make_config(portal={"cancel": {"mode": "immediately"}})
    shop = Shop(store, clock, config, "shop")
    result = shop.sign_up("pro")
    clock.advance(days=10)
    ids = ("shop", config, result.customer_id, result.subscription_id)
    preview = shop.billing.cancel(*ids, dry_run=True)
    done = shop.billing.cancel(*ids, at=preview.at)
    note = done.invoice
    assert note["kind"] == "credit_note" and note["status"] == "issued"
    assert note["net"] == preview.preview.totals.net == -2032
    assert note["gross"] == -2418
    assert done.subscription["status"] == "canceled"
    assert shop.billing.account("shop", config, result.customer_id).credit == 2418


def test_pause_skips_whole_periods_and_resumes_with_an_invoice(shop: Shop) -> None:
    result = shop.sign_up("basic")
    ids = ("shop", shop.config, result.customer_id, result.subscription_id)
    with pytest.raises(ActionRefused):
        shop.billing.pause(*ids, cycles=4)
    done = shop.billing.pause(*ids, cycles=2)
    assert done.next_invoice is not None
    assert done.next_invoice.issued_at.isoformat() == "2026-04-15T09:30:00+00:00"
    shop.bill(shop.clock.now + timedelta(days=40))
    assert shop.get("subscriptions", result.subscription_id)["status"] == "paused"
    assert len(shop.docs("invoices")) == 1
    shop.bill(shop.clock.now + timedelta(days=95))
    subscription = shop.get("subscriptions", result.subscription_id)
    assert subscription["status"] == "active"
    issued = [invoice["issued_at"] for invoice in shop.docs("invoices")]
    assert issued == [
        "2026-01-15T09:30:00+00:00",
        "2026-04-15T09:30:00+00:00",
    ]


def test_resume_early_starts_a_new_period_now(shop: Shop) -> None:
    result = shop.sign_up("basic")
    ids = ("shop", shop.config, result.customer_id, result.subscription_id)
    shop.billing.pause(*ids, cycles=3)
    shop.clock.advance(days=40)
    shop.bill()
    preview = shop.billing.resume(*ids, dry_run=True)
    done = shop.billing.resume(*ids, at=preview.at)
    assert done.invoice["gross"] == preview.preview.totals.gross == 1190
    assert done.subscription["current_period_start"] == "2026-02-24T09:30:00+00:00"
    assert done.subscription["status"] == "active"


def test_price_changes_are_grandfathered_until_migrated(store, clock) -> None:
    shop = Shop(store, clock, make_config(), "shop")
    old = shop.sign_up("basic")
    raised = merged(BASE, {})
    raised["plans"][0]["price"] = "12.00"
    shop.config = make_config(plans=raised["plans"])
    new = shop.sign_up("basic", fields={"email": "new@example.de"})
    assert shop.get("invoices", new.invoice_id)["net"] == 1200
    clock.advance(days=32)
    shop.bill()
    renewal = [i for i in shop.docs("invoices") if i["customer_id"] == old.customer_id][-1]
    assert renewal["net"] == 1000  # still the price signed up for
    assert shop.billing.migrate_plan("shop", shop.config, "basic") == 1
    assert shop.billing.migrate_plan("shop", shop.config, "basic") == 0
    clock.advance(days=31)
    shop.bill()
    renewal = [i for i in shop.docs("invoices") if i["customer_id"] == old.customer_id][-1]
    assert renewal["net"] == 1200


def test_allowed_transitions() -> None:
    subscription = {"status": "canceled"}
    for status in ("trialing", "active", "past_due", "paused", "canceled"):
        with pytest.raises(InvalidTransition):
            lifecycle.transition(subscription, status, Clock()())
    with pytest.raises(InvalidTransition):
        lifecycle.transition({"status": "trialing"}, "paused", Clock()())
    changes = lifecycle.transition({"status": "past_due"}, "active", Clock()())
    assert changes["status"] == "active"
