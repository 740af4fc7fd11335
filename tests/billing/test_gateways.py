"""The sandbox card gateway, SEPA and bank transfer behind the gateway interface."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.billing.gateways import (
    CardDetails,
    InvalidPaymentDetails,
    SepaDetails,
    details_message,
    failure_message,
    gateways_for,
)
from app.billing.gateways.sepa import mask_iban
from app.core.i18n import translations
from app.core.money import Money
from tests.helpers.billing import DECLINED_CARD, GOOD_CARD, IBAN, NO_FUNDS_CARD
from tests.helpers.clock import Clock

EUR = Money(1000, "EUR")


@pytest.fixture
def gateways():
    return gateways_for("sandbox", Clock(datetime(2026, 5, 1, tzinfo=UTC)))


def stored(tokenized):
    return {"kind": tokenized.kind, "token": tokenized.token, **tokenized.details}


def test_a_good_card_keeps_only_token_brand_last_four_and_expiry(gateways) -> None:
    tokenized = gateways.card.tokenize(GOOD_CARD)
    assert tokenized.details == {
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
        "holder": "Jana Schmidt",
    }
    assert "4242424242424242" not in repr(tokenized) and "123" not in tokenized.token
    assert "4242 4242 4242 4242" not in repr(GOOD_CARD)
    result = gateways.card.charge(stored(tokenized), EUR, key="k1")
    assert result.succeeded and result.reference
    assert gateways.card.charge(stored(tokenized), EUR, key="k1").reference == result.reference


def test_test_cards_decline_as_documented(gateways) -> None:
    declined = stored(gateways.card.tokenize(DECLINED_CARD))
    assert gateways.card.verify(declined).failure_code == "card_declined"
    assert gateways.card.charge(declined, EUR, key="k").failure_code == "card_declined"
    poor = stored(gateways.card.tokenize(NO_FUNDS_CARD))
    assert gateways.card.verify(poor).succeeded
    assert gateways.card.charge(poor, EUR, key="k").failure_code == "insufficient_funds"


@pytest.mark.parametrize(
    ("card", "code", "field"),
    [
        (CardDetails("4242 4242 4242 4241", 12, 2030, "123"), "invalid_number", "card_number"),
        (CardDetails("4242", 12, 2030, "123"), "invalid_number", "card_number"),
        (CardDetails("4242424242424242", 13, 2030, "123"), "invalid_expiry", "card_expiry"),
        (CardDetails("4242424242424242", 4, 26, "123"), "expired_card", "card_expiry"),
        (CardDetails("4242424242424242", 12, 2030, "12"), "invalid_cvc", "card_cvc"),
        (CardDetails("3782 822463 10005", 12, 2030, "123"), "invalid_cvc", "card_cvc"),
        (None, "details_required", "card_number"),
    ],
)
def test_bad_card_details_are_refused(gateways, card, code: str, field: str) -> None:
    with pytest.raises(InvalidPaymentDetails) as caught:
        gateways.card.tokenize(card)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert details_message(caught.value, translations("en"))


def test_a_card_expiring_this_month_is_still_valid_and_stops_working_after(gateways) -> None:
    method = stored(gateways.card.tokenize(CardDetails("5555555555554444", 5, 2026, "123")))
    assert method["brand"] == "mastercard"
    assert gateways.card.charge(method, EUR, key="a").succeeded
    gateways.card.clock.now = datetime(2026, 6, 1, tzinfo=UTC)
    assert gateways.card.charge(method, EUR, key="b").failure_code == "expired_card"


def test_sepa_stores_the_iban_masked(gateways) -> None:
    tokenized = gateways.sepa_debit.tokenize(IBAN)
    assert tokenized.details["iban_masked"] == "DE89 **** 3000"
    assert "0532013000" not in repr(tokenized)
    assert gateways.sepa_debit.charge(stored(tokenized), EUR, key="k").succeeded
    failing = stored(gateways.sepa_debit.tokenize(SepaDetails("DE62370400440532013001", "X")))
    assert gateways.sepa_debit.charge(failing, EUR, key="k").failure_code == "insufficient_funds"
    assert mask_iban("SE45 5000 0000 0583 9825 7466") == "SE45 **** 7466"


@pytest.mark.parametrize(
    ("details", "code"),
    [
        (SepaDetails("DE89 3704 0044 0532 0130 01", "Jana"), "invalid_iban"),
        (SepaDetails("DE89 3704 0044 0532 0130 00", " "), "missing_holder"),
    ],
)
def test_bad_bank_details_are_refused(gateways, details: SepaDetails, code: str) -> None:
    with pytest.raises(InvalidPaymentDetails) as caught:
        gateways.sepa_debit.tokenize(details)
    assert caught.value.code == code


def test_bank_transfer_is_never_charged(gateways) -> None:
    assert not gateways.invoice.automatic
    tokenized = gateways.invoice.tokenize(None)
    assert not gateways.invoice.charge(stored(tokenized), EUR, key="k").succeeded


def test_failures_are_explained_in_the_customers_language() -> None:
    english = translations("en")
    assert "insufficient funds" in failure_message("insufficient_funds", english)
    assert failure_message("something_new", english)
    with pytest.raises(ValueError):
        gateways_for("stripe", Clock())
