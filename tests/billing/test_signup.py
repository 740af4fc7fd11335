"""The sign-up creates the first invoice and the first payment, or refuses before writing."""

from __future__ import annotations

import pytest

from app.billing.coupons import CouponInvalid
from app.billing.gateways import InvalidPaymentDetails, PaymentDeclined
from app.signup.quotes import SignupQuotes
from tests.helpers.billing import CUSTOMER_FIELDS, DECLINED_CARD, GOOD_CARD, IBAN, Shop, demo_config
from tests.helpers.stores import raw_data


def test_card_sign_up_issues_the_first_invoice_and_pays_it(shop: Shop) -> None:
    result = shop.sign_up("setup", coupon="HALF")
    invoice = shop.get("invoices", result.invoice_id)
    assert invoice["number"] == "GS-2026-000001"
    assert [(line["kind"], line["amount"]) for line in invoice["lines"]] == [
        ("plan", 2000),
        ("setup_fee", 5000),
        ("discount", -1000),
    ]
    assert (invoice["net"], invoice["tax"], invoice["gross"]) == (6000, 1140, 7140)
    assert invoice["status"] == "paid"
    [payment] = shop.docs("payments")
    assert (payment["amount"], payment["status"], payment["key"]) == (
        7140,
        "succeeded",
        "signup:nonce-1",
    )
    assert shop.billing.account("shop", shop.config, result.customer_id).balance == 0
    subscription = shop.get("subscriptions", result.subscription_id)
    assert subscription["status"] == "active"
    assert subscription["current_period_end"] == "2026-02-15T09:30:00+00:00"
    assert subscription["coupon"]["cycles_left"] == 1
    [mail] = shop.docs("outbox", kind="mail")
    assert mail["template"] == "signup_confirmation"
    assert mail["attachments"] == [
        {"kind": "invoice_pdf", "invoice_id": invoice["id"], "number": invoice["number"]}
    ]


def test_a_trial_has_no_invoice_and_its_setup_fee_comes_with_the_first_one(shop: Shop) -> None:
    result = shop.sign_up("trial")
    assert result.invoice_id is None
    assert shop.docs("invoices") == [] and shop.docs("payments") == []
    assert shop.get("subscriptions", result.subscription_id)["status"] == "trialing"
    shop.clock.advance(days=14)
    shop.bill()
    [invoice] = shop.docs("invoices")
    assert [line["kind"] for line in invoice["lines"]] == ["plan", "setup_fee"]
    assert invoice["status"] == "paid"


def test_a_declined_card_refuses_the_sign_up_and_writes_nothing(shop: Shop) -> None:
    with pytest.raises(PaymentDeclined) as caught:
        shop.sign_up("basic", details=DECLINED_CARD)
    assert caught.value.code == "card_declined"
    with pytest.raises(PaymentDeclined):
        shop.sign_up("trial", details=DECLINED_CARD)  # verified even when nothing is due
    for collection in ("customers", "subscriptions", "invoices", "payments", "outbox"):
        assert shop.docs(collection) == []


def test_bad_card_details_refuse_the_sign_up(shop: Shop) -> None:
    bad = GOOD_CARD.__class__("4242 4242 4242 4241", 12, 2030, "123")
    with pytest.raises(InvalidPaymentDetails):
        shop.sign_up("basic", details=bad)
    assert shop.docs("customers") == []


def test_card_numbers_and_cvcs_are_never_stored(shop: Shop) -> None:
    shop.sign_up("basic")
    raw = raw_data(shop.store, "shop").decode()
    assert "4242424242424242" not in raw and "4242 4242 4242 4242" not in raw
    assert '"cvc"' not in raw
    [method] = shop.docs("payment_methods")
    assert (method["brand"], method["last4"], method["exp_year"]) == ("visa", "4242", 2030)


def test_sepa_sign_up_keeps_a_masked_iban_with_a_mandate(shop: Shop) -> None:
    result = shop.sign_up("basic", "sepa_debit", IBAN)
    [method] = shop.docs("payment_methods")
    assert method["iban_masked"] == "DE89 **** 3000"
    assert method["mandate_reference"] == f"{result.customer_number}-001"
    assert method["mandate_date"] == "2026-01-15T09:30:00+00:00"
    assert "370400440532013000" not in raw_data(shop.store, "shop").decode()
    assert shop.get("invoices", result.invoice_id)["status"] == "paid"


def test_pay_by_invoice_leaves_the_invoice_open_until_its_due_date(shop: Shop) -> None:
    result = shop.sign_up("basic", "invoice", None)
    invoice = shop.get("invoices", result.invoice_id)
    assert (invoice["status"], invoice["collection"]) == ("open", "manual")
    assert invoice["due_at"] == "2026-01-29T09:30:00+00:00"
    assert shop.docs("payments") == []
    assert shop.billing.account("shop", shop.config, result.customer_id).balance == 1190


def test_card_without_details_waits_for_a_method(shop: Shop) -> None:
    result = shop.sign_up("basic", "card", None)
    assert shop.get("invoices", result.invoice_id)["collection"] == "manual"
    assert shop.docs("payment_methods") == []


def test_repeating_a_form_creates_nothing_new(shop: Shop) -> None:
    first = shop.sign_up("basic")
    shop._nonce -= 1
    again = shop.sign_up("basic")
    assert again.created is False and again.invoice_id == first.invoice_id
    assert len(shop.docs("payments")) == 1


def test_a_used_up_coupon_refuses_the_sign_up(shop: Shop) -> None:
    shop.sign_up("basic", coupon="ONCE")
    with pytest.raises(CouponInvalid) as caught:
        shop.sign_up("basic", coupon="ONCE", fields={**CUSTOMER_FIELDS, "email": "b@example.de"})
    assert caught.value.reason == "exhausted"
    assert len(shop.docs("customers")) == 1


def test_the_quote_matches_the_first_invoice(shop: Shop) -> None:
    fields = {**CUSTOMER_FIELDS, "country": "AT", "vat_id": "ATU13585627"}
    quote = SignupQuotes(shop.store, shop.clock).quote_signup(
        "shop", shop.config, "setup", fields, "en", "HALF"
    )
    result = shop.sign_up("setup", fields=fields, coupon="HALF", language="en")
    invoice = shop.get("invoices", result.invoice_id)
    assert quote.invoice is not None and quote.invoice.totals.gross == invoice["gross"] == 6000
    assert invoice["tax_scheme"] == "reverse_charge"
    assert quote.next_invoice is not None and quote.next_invoice.totals.gross == 1000


def test_demo_merchant_swedish_trial_prices_include_vat(store, clock) -> None:
    shop = Shop(store, clock, demo_config("stromma"), "stromma")
    quote = SignupQuotes(shop.store, shop.clock).quote_signup(
        "stromma", shop.config, "premium", {"email": "a@b.se"}, "sv"
    )
    assert quote.invoice is None and quote.trial_end is not None
    assert quote.next_invoice is not None
    totals = quote.next_invoice.totals
    assert (totals.gross, totals.net, totals.tax) == (14900, 11920, 2980)
