"""A receipt (``payment_succeeded``) after every payment the customer makes, in their
language: paying from the portal, a transfer recorded or imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.banking.reconcile import BankTransfers
from app.store import TinyDBStore
from tests.helpers.billing import GOOD_CARD, Shop, make_config
from tests.helpers.clock import Clock


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(TinyDBStore(tmp_path / "data"), Clock(), make_config(), "shop")


def receipts(shop: Shop) -> list[dict]:
    return shop.docs("outbox", template="payment_succeeded")


def test_paying_from_the_portal_sends_a_receipt(shop: Shop) -> None:
    result = shop.sign_up("basic", "invoice", None, language="sv")
    method = shop.billing.add_payment_method(
        "shop", shop.config, result.customer_id, "card", GOOD_CARD
    )
    number = shop.get("invoices", result.invoice_id or "")["number"]
    payment = shop.billing.pay_invoice(
        "shop", shop.config, result.customer_id, number, method["id"]
    )
    [receipt] = receipts(shop)
    assert receipt["language"] == "sv" and receipt["data"]["number"] == number
    assert receipt["key"] == f"payment_succeeded:{payment['id']}"


def test_partly_paid_receipt_says_what_is_still_open(shop: Shop) -> None:
    result = shop.sign_up("basic", "invoice", None, language="de")
    invoice = shop.get("invoices", result.invoice_id or "")
    BankTransfers(shop.store, shop.clock).record("shop", shop.config, invoice["number"], 500, "R-1")
    [receipt] = receipts(shop)
    assert receipt["language"] == "de"
    assert receipt["data"]["amount_due"] == invoice["gross"] - 500
