"""What the portal calls: account, next bill, payment methods, paying, refunds, credit."""

from __future__ import annotations

import pytest

from app.billing.base import NotFoundError
from app.billing.gateways import PaymentDeclined
from tests.helpers.billing import GOOD_CARD, IBAN, NO_FUNDS_CARD, Shop, make_config


def test_the_next_bill_uses_credit_on_the_account(shop: Shop) -> None:
    result = shop.sign_up("pro")
    ids = (result.customer_id, result.subscription_id)
    next_bill = shop.billing.next_bill("shop", shop.config, *ids)
    assert next_bill is not None and next_bill.totals.gross == 3570 and next_bill.amount_due == 3570
    note = shop.billing.grant_credit(
        "shop", shop.config, result.customer_id, 1000, "Sorry for the outage"
    )
    assert (note["kind"], note["gross"]) == ("credit_note", -1190)
    account = shop.billing.account("shop", shop.config, result.customer_id)
    assert (account.balance, account.credit, account.outstanding) == (-1190, 1190, 0)
    next_bill = shop.billing.next_bill("shop", shop.config, *ids)
    assert next_bill.credit_applied == 1190 and next_bill.amount_due == 2380
    shop.clock.advance(days=31)
    shop.bill()
    renewal = shop.docs("invoices")[-1]
    assert (renewal["credit_applied"], renewal["amount_paid"], renewal["status"]) == (
        1190,
        2380,
        "paid",
    )
    assert shop.docs("payments")[-1]["amount"] == 2380
    assert shop.billing.account("shop", shop.config, result.customer_id).balance == 0


def test_invoices_newest_first_and_only_ones_own(shop: Shop) -> None:
    mine = shop.sign_up("basic")
    other = shop.sign_up("basic", fields={"email": "other@example.de"})
    shop.clock.advance(days=31)
    shop.bill()
    numbers = [i.number for i in shop.billing.invoices("shop", mine.customer_id)]
    assert numbers == ["GS-2026-000003", "GS-2026-000001"]
    with pytest.raises(NotFoundError):
        shop.billing.cancel("shop", shop.config, mine.customer_id, other.subscription_id)
    with pytest.raises(NotFoundError):
        shop.billing.next_bill("shop", shop.config, other.customer_id, mine.subscription_id)


def test_payment_methods_are_managed_by_the_customer(shop: Shop) -> None:
    result = shop.sign_up("basic")
    customer = result.customer_id
    [card] = shop.billing.payment_methods("shop", customer)
    assert card["default"] and card["last4"] == "4242" and "token" not in card
    sepa = shop.billing.add_payment_method("shop", shop.config, customer, "sepa_debit", IBAN)
    methods = {m["id"]: m for m in shop.billing.payment_methods("shop", customer)}
    assert methods[sepa["id"]]["default"] and not methods[card["id"]]["default"]
    assert methods[sepa["id"]]["mandate_reference"] == f"{result.customer_number}-001"
    shop.billing.set_default_payment_method("shop", customer, card["id"])
    shop.billing.remove_payment_method("shop", customer, sepa["id"])
    assert [m["id"] for m in shop.billing.payment_methods("shop", customer)] == [card["id"]]
    with pytest.raises(PaymentDeclined):
        shop.billing.add_payment_method(
            "shop",
            shop.config,
            customer,
            "card",
            GOOD_CARD.__class__("4000000000000002", 1, 2031, "123"),
        )
    with pytest.raises(NotFoundError):
        shop.billing.set_default_payment_method("shop", customer, sepa["id"])


def test_without_auto_pay_renewals_wait_for_the_customer(shop: Shop) -> None:
    result = shop.sign_up("basic")
    shop.billing.set_auto_pay("shop", result.customer_id, False)
    shop.clock.advance(days=31)
    shop.bill()
    renewal = shop.docs("invoices")[-1]
    assert (renewal["status"], renewal["collection"]) == ("open", "manual")
    payment = shop.billing.pay_invoice("shop", shop.config, result.customer_id, renewal["number"])
    assert payment["status"] == "succeeded"
    assert shop.get("invoices", renewal["id"])["status"] == "paid"
    with pytest.raises(ValueError):
        shop.billing.pay_invoice("shop", shop.config, result.customer_id, renewal["number"])


def test_a_declined_payment_from_the_portal_is_recorded(shop: Shop) -> None:
    result = shop.sign_up("basic", "invoice", None)
    method = shop.billing.add_payment_method(
        "shop", shop.config, result.customer_id, "card", NO_FUNDS_CARD
    )
    number = shop.get("invoices", result.invoice_id)["number"]
    with pytest.raises(PaymentDeclined) as caught:
        shop.billing.pay_invoice("shop", shop.config, result.customer_id, number, method["id"])
    assert caught.value.code == "insufficient_funds"
    assert [p["status"] for p in shop.docs("payments")] == ["failed"]
    assert shop.get("invoices", result.invoice_id)["status"] == "open"


def test_refunds_correct_the_invoice_with_a_credit_note(shop: Shop) -> None:
    result = shop.sign_up("pro")
    [payment] = shop.docs("payments")
    note, refund = shop.billing.refund_payment("shop", shop.config, payment["id"], 1190)
    assert note is not None and note["gross"] == -1190 and note["tax"] == -190
    assert note["related_invoice_id"] == result.invoice_id
    assert refund["amount"] == -1190
    note, refund = shop.billing.refund_payment("shop", shop.config, payment["id"])
    assert note["gross"] == -2380  # the rest
    assert shop.billing.account("shop", shop.config, result.customer_id).balance == 0
    with pytest.raises(ValueError):
        shop.billing.refund_payment("shop", shop.config, payment["id"], 1)


def test_credit_after_an_immediate_cancellation_is_paid_back_without_a_second_note(
    store, clock
) -> None:
    config = make_config(portal={"cancel": {"mode": "immediately"}})
    shop = Shop(store, clock, config, "shop")
    result = shop.sign_up("pro")
    clock.advance(days=10)
    shop.billing.cancel("shop", config, result.customer_id, result.subscription_id)
    [payment] = shop.docs("payments")
    credit = shop.billing.account("shop", config, result.customer_id).credit
    note, refund = shop.billing.refund_payment("shop", config, payment["id"], credit)
    assert note is None and refund["amount"] == -credit == -2418
    assert shop.billing.account("shop", config, result.customer_id).balance == 0


def test_an_unpaid_invoice_can_be_voided(shop: Shop) -> None:
    result = shop.sign_up("basic", "invoice", None)
    number = shop.get("invoices", result.invoice_id)["number"]
    voided = shop.billing.void_invoice("shop", number)
    assert voided["status"] == "void"
    assert shop.billing.account("shop", shop.config, result.customer_id).balance == 0
    with pytest.raises(ValueError):
        shop.billing.void_invoice("shop", number)
