"""The portal's payment methods: add a card or SEPA mandate, default, remove, auto-pay.

Card numbers and IBANs reach the gateway only: they are never stored, never
written into an audit entry and never echoed into a re-rendered form.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.helpers.app import make_app, stop_background_work
from tests.helpers.portal import audits, csrf_token, customer_of, edited_config
from tests.helpers.portal_billing import (
    CARD,
    DECLINED_CARD,
    IBAN,
    add_card,
    customer_signed_in,
    methods_of,
    post_methods,
)

PAGE = "/acme/portal/payment-methods?lang=en"
RAW_CARD = "4242424242424242"
RAW_IBAN = "DE89370400440532013000"


def data_file(instance_dir: Path, merchant: str = "acme") -> str:
    return (instance_dir / "data" / f"{merchant}.json").read_text(encoding="utf-8")


def add_sepa(client, iban: str = IBAN, holder: str = "Jana Schmidt"):
    return post_methods(
        client,
        "acme",
        action="add",
        payment_method="sepa_debit",
        sepa_holder=holder,
        sepa_iban=iban,
    )


def test_adds_a_card_keeping_only_token_brand_and_last_four(app: Flask, instance_dir: Path) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")

    response = add_card(client, "acme")

    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "Your payment method has been added." in html
    assert 'name="action" value="add_payment_method"' in html  # the feedback prompt
    assert "Visa ending in 4242" in html and "Expires 12/2030" in html
    (card,) = [m for m in methods_of(app, "acme", customer) if m["kind"] == "card"]
    assert card["token"].startswith("tok_sandbox_") and card["last4"] == "4242"
    assert customer_of(app, "acme", "jana@example.com")["default_payment_method_id"] == card["id"]
    assert RAW_CARD not in data_file(instance_dir) and "4242 4242" not in data_file(instance_dir)
    (entry,) = audits(app, "acme", "payment_method.add")
    assert entry["actor"] == "portal:jana@example.com" and entry["before"] is None
    assert entry["after"]["last4"] == "4242" and entry["after"]["default"] is True
    assert "token" not in entry["after"]


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({**CARD, "card_number": "4242 4242 4242 4241"}, "This card number is not valid."),
        ({**CARD, "card_expiry": "13 / 30"}, "Please enter a valid expiry date."),
        ({**CARD, "card_cvc": "12"}, "Please enter the 3 or 4 digit security code."),
        ({**CARD, "card_number": ""}, "This field is required."),
        (DECLINED_CARD, "Your card was declined."),
    ],
)
def test_a_refused_card_is_explained_stored_nowhere_and_not_echoed(
    app: Flask, instance_dir: Path, card: dict[str, str], message: str
) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")

    response = add_card(client, "acme", card)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    digits = card["card_number"].replace(" ", "")
    for typed in (card["card_number"], digits, card["card_cvc"]):
        assert not typed or f'value="{typed}"' not in html
    assert [m["kind"] for m in methods_of(app, "acme", customer)] == ["invoice"]
    assert audits(app, "acme", "payment_method.add") == []
    if digits:
        assert digits not in data_file(instance_dir)


def test_adds_a_sepa_mandate_with_a_masked_iban_and_shows_the_mandate(
    app: Flask, instance_dir: Path
) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    form = client.get(PAGE).get_data(as_text=True)
    assert "SEPA Direct Debit mandate" in form and "within 8 weeks" in form

    response = add_sepa(client)

    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "SEPA Direct Debit DE89 **** 3000" in html
    assert f"Mandate reference {customer['number']}-001" in html
    (sepa,) = [m for m in methods_of(app, "acme", customer) if m["kind"] == "sepa_debit"]
    assert sepa["iban_masked"] == "DE89 **** 3000"
    assert RAW_IBAN not in data_file(instance_dir) and IBAN not in data_file(instance_dir)
    (entry,) = audits(app, "acme", "payment_method.add")
    assert entry["after"]["iban_masked"] == "DE89 **** 3000"
    assert RAW_IBAN not in str(entry)


@pytest.mark.parametrize("iban", ["DE89 3704 0044 0532 0130 01", "not an iban"])
def test_an_invalid_iban_is_refused_and_not_echoed(
    app: Flask, instance_dir: Path, iban: str
) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")

    response = add_sepa(client, iban)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'href="#sepa_iban"' in html  # the error summary links to the field
    assert f'value="{iban}"' not in html and iban.replace(" ", "") not in html
    assert [m["kind"] for m in methods_of(app, "acme", customer)] == ["invoice"]
    assert iban.replace(" ", "") not in data_file(instance_dir)


def test_sets_the_default_and_removes_only_a_method_that_is_not_the_default(
    app: Flask,
) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    add_card(client, "acme")
    add_sepa(client)  # the newest method becomes the default
    by_kind = {m["kind"]: m for m in methods_of(app, "acme", customer)}
    card, sepa = by_kind["card"], by_kind["sepa_debit"]

    response = post_methods(client, "acme", action="default", method=card["id"])

    assert response.status_code == 303
    assert "Your default payment method has been changed." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert customer_of(app, "acme", "jana@example.com")["default_payment_method_id"] == card["id"]
    (entry,) = audits(app, "acme", "payment_method.set_default")
    assert entry["before"]["default"]["id"] == sepa["id"]
    assert entry["after"]["default"]["id"] == card["id"]

    refused = post_methods(client, "acme", action="remove", method=card["id"])
    assert refused.status_code == 409
    assert "This is your default payment method" in refused.get_data(as_text=True)
    assert card["id"] in {m["id"] for m in methods_of(app, "acme", customer)}

    removed = post_methods(client, "acme", action="remove", method=sepa["id"])
    assert removed.status_code == 303
    assert sepa["id"] not in {m["id"] for m in methods_of(app, "acme", customer)}
    assert "DE89 **** 3000" not in client.get(PAGE).get_data(as_text=True)
    (entry,) = audits(app, "acme", "payment_method.remove")
    assert entry["before"]["id"] == sepa["id"] and entry["after"]["removed_at"]


def test_another_customers_method_is_not_found(app: Flask) -> None:
    client, _ = customer_signed_in(app, "acme", "jana@example.com")
    other_client, other = customer_signed_in(app, "acme", "otto@example.com")
    add_card(other_client, "acme")
    (theirs,) = [m for m in methods_of(app, "acme", other) if m["kind"] == "card"]

    for action in ("default", "remove"):
        assert post_methods(client, "acme", action=action, method=theirs["id"]).status_code == 404
    assert post_methods(client, "acme", action="remove", method="pm_madeup").status_code == 404
    assert theirs["id"] in {m["id"] for m in methods_of(app, "acme", other)}
    assert audits(app, "acme", "payment_method.remove") == []


def test_turns_automatic_payment_off_and_on(app: Flask) -> None:
    client, _ = customer_signed_in(app, "acme", "jana@example.com")

    off = post_methods(client, "acme", action="auto_pay", auto_pay="off")

    assert off.status_code == 303
    html = client.get(off.headers["Location"]).get_data(as_text=True)
    assert "Automatic payment is off" in html and "Turn automatic payment on" in html
    assert customer_of(app, "acme", "jana@example.com")["auto_pay"] is False
    assert post_methods(client, "acme", action="auto_pay", auto_pay="on").status_code == 303
    assert customer_of(app, "acme", "jana@example.com")["auto_pay"] is True
    entries = audits(app, "acme", "customer.auto_pay")
    assert [(e["before"], e["after"]) for e in entries] == [
        ({"auto_pay": True}, {"auto_pay": False}),
        ({"auto_pay": False}, {"auto_pay": True}),
    ]
    # Sent again (a retry after a lost answer): answered as done, nothing changed or audited.
    assert post_methods(client, "acme", action="auto_pay", auto_pay="on").status_code == 303
    assert post_methods(client, "acme", action="auto_pay", auto_pay="maybe").status_code == 422
    assert post_methods(client, "acme", action="unknown").status_code == 422
    assert len(audits(app, "acme", "customer.auto_pay")) == 2


def test_a_post_without_the_form_token_is_refused(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")

    for data in ({"action": "add", "payment_method": "card", **CARD}, {"action": "auto_pay"}):
        response = client.post(PAGE, data=data)
        assert response.status_code == 400
    response = client.post(PAGE, data={"action": "add", "csrf_token": "forged", **CARD})
    assert response.status_code == 400
    assert [m["kind"] for m in methods_of(app, "acme", customer)] == ["invoice"]
    assert audits(app, "acme", "payment_method.add") == []


def test_only_the_methods_the_merchant_offers_can_be_added(app: Flask) -> None:
    client, customer = customer_signed_in(app, "stromma", "sven@example.se")  # card only
    html = client.get("/stromma/portal/payment-methods?lang=en").get_data(as_text=True)
    assert 'name="card_number"' in html
    assert 'name="sepa_iban"' not in html and "SEPA Direct Debit mandate" not in html

    before = methods_of(app, "stromma", customer)

    response = post_methods(
        client, "stromma", action="add", payment_method="sepa_debit", sepa_iban=IBAN
    )

    assert response.status_code == 422  # the card inputs are required: no SEPA here
    assert methods_of(app, "stromma", customer) == before


@pytest.fixture
def methods_off(tmp_path: Path):
    config = edited_config(tmp_path, "acme", "  payment_methods: true", "  payment_methods: false")
    app = make_app(tmp_path / "instance-off", config)
    yield app
    stop_background_work(app)


def test_switched_off_by_the_merchant_the_page_is_not_found(methods_off: Flask) -> None:
    client, customer = customer_signed_in(methods_off, "acme", "jana@example.com")
    home = client.get("/acme/portal?lang=en").get_data(as_text=True)
    assert "/acme/portal/payment-methods" not in home

    assert client.get(PAGE).status_code == 404
    response = client.post(
        PAGE,
        data={"csrf_token": csrf_token(home), "action": "add", "payment_method": "card", **CARD},
    )
    assert response.status_code == 404
    assert [m["kind"] for m in methods_of(methods_off, "acme", customer)] == ["invoice"]
