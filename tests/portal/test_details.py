"""The portal's details page: editable, read-only and hidden fields, checks, audit, events."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import make_app, stop_background_work
from tests.helpers.mail import Mailbox, smtp_settings
from tests.helpers.orders import VALID, open_form, stored
from tests.helpers.portal import (
    DETAILS,
    SAVED,
    audits,
    csrf_token,
    customer_of,
    edited_config,
    error_summary,
    events,
    page_token,
    sign_in,
    sign_in_by_mail,
    sign_up,
    signed_in_client,
)

JANA = "jana@example.com"


@pytest.fixture
def jana(app: Flask) -> FlaskClient:
    return signed_in_client(app, "acme", JANA)


def post_details(client: FlaskClient, **changes: str) -> object:
    data = {**SAVED, **changes}
    data.setdefault("csrf_token", page_token(client, DETAILS))
    return client.post(DETAILS, data={k: v for k, v in data.items() if v is not None})


def test_editable_fields_are_inputs_read_ones_text_and_none_ones_absent(jana: FlaskClient) -> None:
    html = jana.get(DETAILS).get_data(as_text=True)
    for name in SAVED:
        assert f'name="{name}"' in html, name
    assert 'value="Kunde GmbH"' in html
    assert '<legend class="section__title">Billing address</legend>' in html
    assert 'autocomplete="tel"' in html and 'autocomplete="postal-code"' in html
    # email is `portal: read` by default: shown, not an input
    assert "<dt>Email</dt><dd>jana@example.com</dd>" in html
    assert 'name="email"' not in html
    # customer_type is `portal: none`
    assert 'name="customer_type"' not in html and "Customer type" not in html
    # its condition is settled: no "only needed if Customer type is Business" for Jana
    assert "Only needed if" not in html
    assert 'aria-current="page">Your details<' in html


def test_a_valid_change_is_stored_audited_and_announced(app: Flask, jana: FlaskClient) -> None:
    response = post_details(jana, company="Neue Firma AG", phone="030 7654321", vat_id="")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/acme/portal/details?lang=en&saved=1")
    fields = customer_of(app, "acme", JANA)["fields"]
    assert fields["company"] == "Neue Firma AG"
    assert fields["phone"] == "+49307654321"  # as the order page stores it: E.164
    assert "vat_id" not in fields  # emptied
    assert fields["customer_type"] == "business" and fields["email"] == JANA

    [entry] = audits(app, "acme", "customer.update")
    assert entry["actor"] == f"portal:{JANA}"
    assert entry["before"] == {
        "company": "Kunde GmbH",
        "phone": "+49301234567",
        "vat_id": "DE136695976",
    }
    assert entry["after"] == {"company": "Neue Firma AG", "phone": "+49307654321", "vat_id": None}
    [event] = events(app, "acme", "customer.updated")
    assert event["customer_id"] == customer_of(app, "acme", JANA)["id"]
    assert event["data"]["changed"] == ["company", "phone", "vat_id"]
    assert event["data"]["fields"]["company"] == "Neue Firma AG"

    saved = jana.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your details have been saved." in saved
    assert 'name="rating" value="5"' in saved  # the feedback prompt
    assert 'name="action" value="details"' in saved


def test_saving_unchanged_details_records_nothing(app: Flask, jana: FlaskClient) -> None:
    assert post_details(jana).status_code == 303
    assert audits(app, "acme", "customer.update") == []
    assert events(app, "acme", "customer.updated") == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"vat_id": "DE123"},
            "VAT ID",
            "Enter a valid EU VAT ID with its country code, like DE136695976.",
        ),
        ({"postal_code": "1234"}, "Postal code", "Enter a valid postal code for Germany"),
        ({"phone": "12"}, "Phone", "Enter a valid phone number"),
        ({"last_name": ""}, "Last name", "This field is required."),
        ({"company": "x" * 121}, "Company", "Enter at most 120 characters."),
    ],
)
def test_invalid_input_is_refused_with_a_summary_and_kept(
    app: Flask, jana: FlaskClient, changes: dict[str, str], field: str, message: str
) -> None:
    before = customer_of(app, "acme", JANA)
    response = post_details(jana, city="Potsdam", **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    [problem] = error_summary(html)
    assert f"{field}: {message}" in problem
    assert 'value="Potsdam"' in html  # the input is kept
    assert 'aria-invalid="true"' in html
    assert "<title>Error: Your details" in html
    assert customer_of(app, "acme", JANA) == before
    assert audits(app, "acme", "customer.update") == []


def test_forged_read_none_and_unknown_inputs_change_nothing(app: Flask, jana: FlaskClient) -> None:
    response = post_details(
        jana,
        city="Potsdam",
        email="mallory@example.com",  # portal: read
        customer_type="private",  # portal: none
        is_admin="1",  # no such field
    )
    assert response.status_code == 303
    stored_customer = customer_of(app, "acme", JANA)
    assert stored_customer["email"] == JANA
    assert stored_customer["fields"]["email"] == JANA
    assert stored_customer["fields"]["customer_type"] == "business"
    assert "is_admin" not in stored_customer["fields"]
    assert stored_customer["fields"]["city"] == "Potsdam"
    [entry] = audits(app, "acme", "customer.update")
    assert entry["after"] == {"city": "Potsdam"}


def test_a_post_without_the_session_token_is_refused(app: Flask, jana: FlaskClient) -> None:
    before = customer_of(app, "acme", JANA)
    response = jana.post(DETAILS, data={**SAVED, "city": "Potsdam"})
    assert response.status_code == 400
    wrong = jana.post(DETAILS, data={**SAVED, "city": "Potsdam", "csrf_token": "x" * 40})
    assert wrong.status_code == 400
    assert customer_of(app, "acme", JANA) == before


def test_signed_out_visitors_are_sent_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    response = client.get(DETAILS)
    assert response.status_code == 303
    assert "/acme/portal?" in response.headers["Location"]


def test_another_merchants_urls_never_show_this_account(app: Flask, jana: FlaskClient) -> None:
    """Sessions are per merchant: at thistle, Jana's acme session is no session at all."""
    response = jana.get("/thistle/portal/details?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/thistle/portal?")
    # the acme cookie replayed under thistle's name is still nobody there
    cookie = jana.get_cookie("portico-acme")
    assert cookie is not None
    jana.set_cookie("portico-thistle", cookie.value)
    assert jana.get("/thistle/portal/details?lang=en").status_code == 303
    assert jana.get("/nosuch/portal/details?lang=en").status_code == 404
    assert stored(app, "thistle", "customers") == []


@pytest.fixture
def email_editable(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """acme with the sign-in address editable in the portal."""
    config = edited_config(
        tmp_path,
        "acme",
        "      label: {de: E-Mail, en: Email}\n      required: true\n",
        "      label: {de: E-Mail, en: Email}\n      required: true\n      portal: edit\n",
    )
    app = make_app(tmp_path / "instance", config, **smtp_settings(request))
    yield app
    stop_background_work(app)


def test_the_email_cannot_become_another_accounts(email_editable: Flask) -> None:
    app = email_editable
    jana = signed_in_client(app, "acme", JANA)
    sign_up(app.test_client(), "acme", "max@example.com")
    before = customer_of(app, "acme", JANA)
    response = post_details(jana, email="MAX@example.com")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    [problem] = error_summary(html)
    assert "Email: Another account already uses this email address." in problem
    assert 'value="MAX@example.com"' in html
    assert customer_of(app, "acme", JANA) == before
    assert events(app, "acme", "customer.updated") == []


def test_a_new_email_is_the_sign_in_address_and_the_session_goes_on(
    email_editable: Flask, mailbox: Mailbox
) -> None:
    app = email_editable
    jana = signed_in_client(app, "acme", JANA)
    response = post_details(jana, email="Jana.Schmidt@Example.com")
    assert response.status_code == 303
    updated = customer_of(app, "acme", "jana.schmidt@example.com")
    assert updated["email"] == "Jana.Schmidt@example.com"
    assert updated["email_key"] == "jana.schmidt@example.com"
    assert updated["fields"]["email"] == "Jana.Schmidt@example.com"
    # still signed in, now as the new address
    page = jana.get(response.headers["Location"])
    assert page.status_code == 200
    assert "Signed in as jana.schmidt@example.com" in page.get_data(as_text=True)
    [entry] = audits(app, "acme", "customer.update")
    assert entry["before"] == {"email": JANA}
    # the old address signs in to nothing; the new one signs in to the account (by mail:
    # the sign-in looks the address up)
    fresh = app.test_client()
    sign_in_by_mail(fresh, mailbox, "acme", "jana.schmidt@example.com")
    assert fresh.get(DETAILS).status_code == 200


@pytest.mark.parametrize(
    ("merchant", "email", "change", "stored_as"),
    [
        ("stromma", "sven@example.se", {"marketing": None}, {"marketing": False}),
        (
            "thistle",
            "ops@example.co.uk",
            {"delivery_notes": "Ring twice", "shipping_postcode": "eh1 1aa"},
            {"delivery_notes": "Ring twice", "shipping_postcode": "EH1 1AA"},
        ),
    ],
)
def test_every_demo_merchants_details_round_trip(
    app: Flask,
    merchant: str,
    email: str,
    change: dict[str, str | None],
    stored_as: dict[str, object],
) -> None:
    """Each merchant's editable fields come back as stored, and a change is kept as the
    order page would keep it (an unticked box is False, a postcode normalized)."""
    client = signed_in_client(app, merchant, email)
    path = f"/{merchant}/portal/details?lang=en"
    html = client.get(path).get_data(as_text=True)
    before = customer_of(app, merchant, email)["fields"]
    editable = re.findall(
        r'<(?:input|select|textarea) class="input[^"]*" id="[^"]+" name="(\w+)"', html
    )
    editable += re.findall(r'type="checkbox" id="\w+" name="(\w+)" value="y" checked', html)
    data = {name: before[name] for name in editable if isinstance(before.get(name), str)}
    data |= {name: "y" for name, value in before.items() if value is True}
    data |= change
    data["csrf_token"] = csrf_token(html)
    response = client.post(path, data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == 303, error_summary(response.get_data(as_text=True))
    after = customer_of(app, merchant, email)["fields"]
    assert after == {**before, **stored_as}


def test_fields_a_fixed_condition_hides_are_left_out(app: Flask) -> None:
    """A private customer cannot change customer_type (portal: none), so company and
    VAT ID never apply to them: not shown, and not taken from a forged post."""
    client = app.test_client()
    token = open_form(client, "acme", "?lang=en")
    private = {**VALID["acme"], "email": JANA, "customer_type": "private", "form_token": token}
    del private["company"], private["vat_id"]
    assert client.post("/acme/order?lang=en", data=private).status_code == 303
    sign_in(app, client, "acme", JANA)
    html = client.get(DETAILS).get_data(as_text=True)
    assert 'name="company"' not in html and 'name="vat_id"' not in html
    data = {name: value for name, value in SAVED.items() if name not in ("company", "vat_id")}
    response = client.post(
        DETAILS,
        data={**data, "company": "Forged AG", "csrf_token": csrf_token(html)},
    )
    assert response.status_code == 303
    assert "company" not in customer_of(app, "acme", JANA)["fields"]


def test_the_page_speaks_the_customers_language(jana: FlaskClient) -> None:
    html = jana.get("/acme/portal/details?lang=de").get_data(as_text=True)
    assert '<html lang="de"' in html
    assert '<legend class="section__title">Rechnungsadresse</legend>' in html
    assert '<label class="field__label" for="first_name">Vorname</label>' in html
    assert '<option value="DE" selected>Deutschland' in html


def test_a_stored_value_that_no_longer_passes_does_not_block_saving(
    app: Flask, jana: FlaskClient
) -> None:
    """Not the customer's to fix here: a read-only value the rules now refuse stays as is."""
    stored_customer = customer_of(app, "acme", JANA)
    with app.extensions["portico"].store.write("acme") as tx:
        fields = {**stored_customer["fields"], "customer_type": "reseller"}
        tx.collection("customers").update(stored_customer["id"], {"fields": fields})
    response = post_details(jana, city="Potsdam")
    assert response.status_code == 303
    saved = customer_of(app, "acme", JANA)["fields"]
    assert saved["city"] == "Potsdam" and saved["customer_type"] == "reseller"
