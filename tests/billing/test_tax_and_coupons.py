"""Who pays which VAT, and what coupons take off."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.billing import coupons
from app.billing.coupons import CouponInvalid
from app.billing.parties import Party, buyer_of
from app.billing.tax import EU_VAT_RATES, decide, vat_id_country
from app.config.models import Tax
from app.core.i18n import translations
from tests.helpers.billing import make_config

GERMAN_TAX = Tax(rate=Decimal(19), reverse_charge=True, eu_oss=True)


def buyer(country: str, vat_id: str | None = None) -> Party:
    return Party(name="Buyer", country=country, vat_id=vat_id)


@pytest.mark.parametrize(
    ("party", "scheme", "rate", "country"),
    [
        (buyer("DE"), "domestic", "19", "DE"),
        (buyer("DE", "DE136695976"), "domestic", "19", "DE"),  # same member state
        (buyer("AT", "ATU13585627"), "reverse_charge", "0", "AT"),
        (buyer("DE", "ATU13585627"), "reverse_charge", "0", "AT"),  # the VAT ID decides
        (buyer("AT", "ATU13585628"), "oss", "20", "AT"),  # checksum fails: a consumer
        (buyer("GR", "EL094259216"), "reverse_charge", "0", "GR"),  # EL is Greece
        (buyer("SE"), "oss", "25", "SE"),
        (buyer("FI"), "oss", "25.5", "FI"),
        (buyer("US"), "domestic", "19", "DE"),  # outside the EU
        (buyer("GB", "GB980780684"), "domestic", "19", "DE"),
    ],
)
def test_vat_decision(party: Party, scheme: str, rate: str, country: str) -> None:
    decision = decide(GERMAN_TAX, "DE", party)
    assert (decision.scheme, decision.rate, decision.country) == (scheme, Decimal(rate), country)


def test_without_oss_foreign_consumers_pay_domestic_vat() -> None:
    tax = Tax(rate=Decimal(19), reverse_charge=True)
    assert decide(tax, "DE", buyer("SE")).scheme == "domestic"


def test_without_reverse_charge_eu_businesses_pay_domestic_vat() -> None:
    decision = decide(Tax(rate=Decimal(19)), "DE", buyer("AT", "ATU13585627"))
    assert (decision.scheme, decision.rate) == ("domestic", Decimal(19))


def test_a_merchant_outside_the_eu_never_reverse_charges() -> None:
    tax = Tax(rate=Decimal(20), reverse_charge=True, eu_oss=True)
    decision = decide(tax, "GB", buyer("DE", "DE136695976"))
    assert (decision.scheme, decision.rate) == ("domestic", Decimal(20))


def test_the_rate_table_covers_the_27_member_states() -> None:
    assert len(EU_VAT_RATES) == 27
    assert vat_id_country("XI123456782") is None  # Northern Ireland: goods only


def test_buyer_details_come_from_conventional_field_names() -> None:
    customer = {
        "email": "ops@example.co.uk",
        "number": "C-000007",
        "fields": {
            "full_name": "Morag Campbell",
            "company": "Campbell & Sons",
            "shipping_street": "1 Princes St",
            "shipping_postcode": "EH2 2EY",
            "shipping_city": "Edinburgh",
            "shipping_country": "GB",
            "vat_id": "AT U 135 856 27",
        },
    }
    party = buyer_of(customer, "DE")
    assert party.name == "Morag Campbell"
    assert party.company == "Campbell & Sons"
    assert party.address == ("1 Princes St", "EH2 2EY Edinburgh")
    assert (party.country, party.vat_id, party.customer_number) == ("GB", "ATU13585627", "C-000007")
    assert buyer_of({"email": "a@b.example", "fields": {}}, "SE").country == "SE"


# Coupons --------------------------------------------------------------------------------

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize(
    ("code", "plan", "redeemed", "reason"),
    [
        ("NOPE", "basic", 0, "unknown"),
        ("OLD", "basic", 0, "expired"),
        ("FIVE", "yearly", 0, "not_for_plan"),
        ("ONCE", "basic", 1, "exhausted"),
    ],
)
def test_coupons_that_cannot_be_redeemed(code: str, plan: str, redeemed: int, reason: str) -> None:
    with pytest.raises(CouponInvalid) as caught:
        coupons.check(make_config(), code, plan, TODAY, redeemed)
    assert caught.value.reason == reason
    assert coupons.message(caught.value.reason, translations("en"))


def test_coupon_codes_are_case_insensitive_and_expire_after_their_last_day() -> None:
    config = make_config()
    assert coupons.check(config, "half", "basic", TODAY, 0).code == "HALF"
    assert coupons.check(config, "OLD", "basic", date(2025, 12, 31), 0).code == "OLD"


def test_discounts() -> None:
    config = make_config()
    half = coupons.snapshot(config.coupon("HALF"), "EUR")
    five = coupons.snapshot(config.coupon("FIVE"), "EUR")
    assert coupons.discount(half, 999) == 500  # 499.5 rounds half away from zero
    assert coupons.discount(five, 300) == 300  # never more than the charge
    assert (half["cycles_left"], five["cycles_left"]) == (2, None)
    once_more = coupons.after_cycle(coupons.after_cycle(half))
    assert not coupons.applies(once_more, "basic")
    assert coupons.applies(coupons.after_cycle(five), "pro")
    assert not coupons.applies(five, "yearly")
