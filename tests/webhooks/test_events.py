"""The services emit webhook events in the transactions that make the changes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.billing.gateways import PaymentDeclined
from app.store import TinyDBStore
from tests.helpers.billing import DECLINED_CARD, GOOD_CARD, NO_FUNDS_CARD, Shop, make_config
from tests.helpers.clock import Clock


@pytest.fixture
def shop(tmp_path) -> Shop:
    return Shop(TinyDBStore(tmp_path / "data"), Clock(), make_config(), "shop")


def events(shop: Shop) -> list[dict]:
    return shop.docs("outbox", kind="event")


def types(shop: Shop) -> list[str]:
    return [event["type"] for event in events(shop)]


def test_a_card_sign_up_emits_created_issued_paid_and_completed(shop: Shop) -> None:
    result = shop.sign_up("basic", "card", GOOD_CARD)
    assert sorted(types(shop)) == [
        "invoice.issued",
        "invoice.paid",
        "signup.completed",
        "subscription.created",
    ]
    by_type = {event["type"]: event for event in events(shop)}
    completed = by_type["signup.completed"]
    assert completed["customer_id"] == result.customer_id
    assert completed["data"] == {
        "signup_id": result.signup_id,
        "customer_id": result.customer_id,
        "customer_number": result.customer_number,
        "subscription_id": result.subscription_id,
        "plan_id": "basic",
        "invoice_id": result.invoice_id,
        "channel": "link",
    }
    paid = by_type["invoice.paid"]["data"]
    assert (paid["invoice_id"], paid["status"], paid["amount_due"]) == (
        result.invoice_id,
        "paid",
        0,
    )
    assert paid["gross"] == 1190 and paid["currency"] == "EUR"
    created = by_type["subscription.created"]["data"]
    assert (created["subscription_id"], created["status"]) == (result.subscription_id, "active")
    # ids, numbers, amounts and statuses only: no card number, no token, no email
    text = json.dumps(events(shop))
    for secret in ("4242", "tok_", "jana@example.de"):
        assert secret not in text


def test_a_declined_card_at_sign_up_emits_nothing(shop: Shop) -> None:
    with pytest.raises(PaymentDeclined):
        shop.sign_up("basic", "card", DECLINED_CARD)
    assert types(shop) == []


def test_renewals_failed_collections_and_cancellation(shop: Shop) -> None:
    clock = shop.clock
    shop.sign_up("trial", "card", NO_FUNDS_CARD)
    assert sorted(types(shop)) == ["signup.completed", "subscription.created"]
    shop.bill(clock.now + timedelta(days=15))  # the trial ends: invoice, failed collection
    later = types(shop)[2:]
    assert later[:3] == ["subscription.updated", "invoice.issued", "invoice.payment_failed"]
    failed = next(e for e in events(shop) if e["type"] == "invoice.payment_failed")["data"]
    assert failed["failure_code"] and failed["attempt"] == 1 and failed["status"] == "open"
    shop.bill(clock.now + timedelta(days=40))  # retries fail: past_due, then canceled unpaid
    states = [(e["type"], e["data"]["status"]) for e in events(shop) if e["type"].startswith("sub")]
    assert ("subscription.updated", "past_due") in states
    assert states[-1] == ("subscription.canceled", "canceled")
    assert types(shop).count("subscription.canceled") == 1


def test_portal_cancel_and_pause_emit_updated_then_canceled_or_paused(shop: Shop) -> None:
    first = shop.sign_up("basic")
    second = shop.sign_up("basic", fields={"email": "b@example.de"})
    shop.billing.cancel(shop.slug, shop.config, first.customer_id, first.subscription_id)
    shop.billing.pause(shop.slug, shop.config, second.customer_id, second.subscription_id, 1)
    scheduled = [e for e in events(shop) if e["type"] == "subscription.updated"]
    assert [e["data"]["subscription_id"] for e in scheduled] == [
        first.subscription_id,
        second.subscription_id,
    ]
    assert scheduled[0]["data"]["cancel_at_period_end"] is True
    shop.bill(shop.clock.now + timedelta(days=32))
    ended = {
        e["data"]["subscription_id"]: e["type"]
        for e in events(shop)
        if e["type"] in ("subscription.canceled", "subscription.paused")
    }
    assert ended == {
        first.subscription_id: "subscription.canceled",
        second.subscription_id: "subscription.paused",
    }
