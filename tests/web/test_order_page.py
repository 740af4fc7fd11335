"""The hosted order page for every demo merchant and language: render, sign up, refuse."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import DEMO_CONFIG, DEMO_MERCHANTS, mails_sent, make_app
from tests.helpers.orders import VALID, open_form, outbox, stored

LANGUAGES = {"acme": ("de", "en"), "stromma": ("sv", "en"), "thistle": ("en", "de")}
REQUIRED = {
    "acme": {
        "email",
        "company",
        "first_name",
        "last_name",
        "street",
        "postal_code",
        "city",
        "terms",
    },
    "stromma": {"email", "name", "terms", "card_number", "card_expiry", "card_cvc"},
    "thistle": {
        "email",
        "full_name",
        "company",
        "phone",
        "shipping_street",
        "card_number",
        "card_expiry",
        "card_cvc",
        "shipping_city",
        "shipping_postcode",
        "terms",
    },
}


@pytest.mark.parametrize("merchant", DEMO_MERCHANTS)
def test_page_renders_in_every_language(client: FlaskClient, merchant: str) -> None:
    for language in LANGUAGES[merchant]:
        response = client.get(f"/{merchant}/order?lang={language}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert f'<html lang="{language}"' in html
        for name in VALID[merchant]:
            assert f'name="{name}"' in html, name


@pytest.mark.parametrize(
    ("merchant", "language"),
    [(merchant, language) for merchant in DEMO_MERCHANTS for language in LANGUAGES[merchant]],
)
def test_valid_post_stores_one_signup_and_sends_one_mail(
    app: Flask, client: FlaskClient, instance_dir: Path, merchant: str, language: str
) -> None:
    token = open_form(client, merchant, f"?lang={language}")
    response = client.post(
        f"/{merchant}/order?lang={language}", data={**VALID[merchant], "form_token": token}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    assert "/order/complete/sig_" in response.headers["Location"]
    customers = stored(app, merchant, "customers")
    assert len(customers) == 1
    assert len(stored(app, merchant, "subscriptions")) == 1
    assert [c["name"] for c in stored(app, merchant, "consents")] == ["terms"]
    assert customers[0]["language"] == language
    assert customers[0]["number"] == "C-000001"
    mails_sent(app)
    mails = outbox(instance_dir)
    assert len(mails) == 1
    assert mails[0]["To"] == customers[0]["email"]
    success = client.get(response.headers["Location"])
    assert success.status_code == 200
    assert "C-000001" in success.get_data(as_text=True)


def test_stored_values_are_normalised_and_hidden_fields_dropped(
    app: Flask, client: FlaskClient
) -> None:
    token = open_form(client, "acme")
    data = {**VALID["acme"], "customer_type": "private", "form_token": token}
    assert client.post("/acme/order", data=data).status_code == 303
    fields = stored(app, "acme", "customers")[0]["fields"]
    assert "company" not in fields and "vat_id" not in fields  # hidden for private customers
    assert fields["email"] == "Jana@example.com"
    assert fields["phone"] == "+49301234567"
    subscription = stored(app, "acme", "subscriptions")[0]
    assert subscription["plan_id"] == "business"
    assert subscription["price"] == 4900 and subscription["currency"] == "EUR"


@pytest.mark.parametrize("merchant", DEMO_MERCHANTS)
def test_empty_post_stores_nothing_and_lists_every_error(
    app: Flask, client: FlaskClient, instance_dir: Path, merchant: str
) -> None:
    token = open_form(client, merchant)
    data = {"form_token": token, "plan": VALID[merchant]["plan"]}
    if merchant == "acme":
        data["customer_type"] = "business"
    response = client.post(f"/{merchant}/order", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for name in REQUIRED[merchant]:
        assert re.search(
            rf'id="{name}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{name}"', html
        ), name
        assert f'href="#{name}"' in html, name  # linked from the error summary
    assert stored(app, merchant, "customers") == []
    mails_sent(app)
    assert outbox(instance_dir) == []


def test_invalid_post_keeps_what_was_typed_but_never_the_iban(client: FlaskClient) -> None:
    token = open_form(client, "acme")
    data = {**VALID["acme"], "form_token": token, "first_name": "", "city": "Köln <b>"}
    html = client.post("/acme/order", data=data).get_data(as_text=True)
    assert 'value="Köln &lt;b&gt;"' in html
    assert 'value="Unter den Linden 5"' in html


def test_double_submit_of_one_rendered_form_creates_one_signup(
    app: Flask, client: FlaskClient
) -> None:
    token = open_form(client, "stromma")
    data = {**VALID["stromma"], "form_token": token}
    first = client.post("/stromma/order", data=data)
    second = client.post("/stromma/order", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(stored(app, "stromma", "customers")) == 1


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"plan": "legacy"}, 422),  # retired plans cannot be ordered
        ({"plan": "no-such-plan"}, 422),
        ({"customer_type": "government"}, 422),  # a choice that was not declared
        ({"is_admin": "1"}, 400),  # a field the page does not have
        ({"form_token": "forged"}, 400),
        ({"homepage": "http://spam.example"}, 400),  # the honeypot
    ],
)
def test_bad_posts_are_refused_and_store_nothing(
    app: Flask, client: FlaskClient, change: dict, status: int
) -> None:
    token = open_form(client, "acme")
    response = client.post("/acme/order", data={**VALID["acme"], "form_token": token, **change})
    assert response.status_code == status
    assert stored(app, "acme", "customers") == []


def test_token_of_another_merchant_is_refused(app: Flask, client: FlaskClient) -> None:
    token = open_form(client, "stromma")
    response = client.post("/acme/order", data={**VALID["acme"], "form_token": token})
    assert response.status_code == 400
    assert stored(app, "acme", "customers") == []


def test_cross_site_post_is_refused(app: Flask, client: FlaskClient) -> None:
    token = open_form(client, "acme")
    response = client.post(
        "/acme/order",
        data={**VALID["acme"], "form_token": token},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    response = client.post(
        "/acme/order",
        data={**VALID["acme"], "form_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert stored(app, "acme", "customers") == []


def test_oversized_post_is_refused(client: FlaskClient) -> None:
    response = client.post("/acme/order", data={"company": "x" * 200_000})
    assert response.status_code == 413


def test_prefill_from_query_and_plan_preselection(client: FlaskClient) -> None:
    html = client.get("/acme/order?plan=starter&company=Prefilled+AG&lang=en").get_data(
        as_text=True
    )
    assert 'value="Prefilled AG"' in html
    assert re.search(r'value="starter"[^>]*checked|checked[^>]*value="starter"', html)


def test_retired_plan_link_answers_410(client: FlaskClient) -> None:
    assert client.get("/acme/order?plan=legacy").status_code == 410


def test_unknown_merchant_answers_404(client: FlaskClient) -> None:
    assert client.get("/nobody/order").status_code == 404
    assert client.get("/../etc/order").status_code == 404


def test_language_negotiation(client: FlaskClient) -> None:
    def lang(response) -> str:
        return re.search(r'<html lang="([a-z]+)"', response.get_data(as_text=True)).group(1)

    assert lang(client.get("/acme/order")) == "de"
    assert lang(client.get("/acme/order", headers={"Accept-Language": "en-GB,en;q=0.9"})) == "en"
    assert lang(client.get("/acme/order", headers={"Accept-Language": "sv"})) == "de"
    assert lang(client.get("/acme/order?lang=sv")) == "de"  # not one of acme's languages
    assert lang(client.get("/stromma/order?lang=en", headers={"Accept-Language": "sv"})) == "en"


def test_prices_are_formatted_for_the_locale(client: FlaskClient) -> None:
    # CLDR puts a no-break space between amount and symbol, so a price never wraps.
    assert "9,00\xa0€/Monat" in client.get("/acme/order?lang=de").get_data(as_text=True)
    assert "€9.00/month" in client.get("/acme/order?lang=en").get_data(as_text=True)
    assert "99\xa0kr/månad" in client.get("/stromma/order?lang=sv").get_data(as_text=True)


def test_security_headers(client: FlaskClient) -> None:
    response = client.get("/acme/order")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    embedded = client.get("/acme/order?embed=1")
    assert (
        "frame-ancestors https://www.acme.example http://localhost:8001"
        in (embedded.headers["Content-Security-Policy"])
    )
    assert "X-Frame-Options" not in embedded.headers


def test_brand_css_carries_only_validated_colours(client: FlaskClient) -> None:
    css = client.get("/acme/brand.css").get_data(as_text=True)
    assert css.startswith(":root{--color-primary:#0b5fff;")


def test_svg_logo_is_served_under_a_sandbox_policy(client: FlaskClient) -> None:
    with client.get("/acme/assets/logo") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert "sandbox" in response.headers["Content-Security-Policy"]
    assert client.get("/acme/assets/secret").status_code == 404


def test_broken_merchant_answers_503_and_others_keep_serving(
    tmp_path: Path, instance_dir: Path
) -> None:
    merchants = tmp_path / "config" / "merchants"
    merchants.mkdir(parents=True)
    for slug in ("stromma",):
        (merchants / f"{slug}.yaml").write_text(
            (DEMO_CONFIG / "merchants" / f"{slug}.yaml").read_text(encoding="utf-8"),
            encoding="utf-8",
        )
        shutil.copytree(DEMO_CONFIG / "merchants" / slug, merchants / slug)
    (merchants / "broken.yaml").write_text("merchant: [oops\n", encoding="utf-8")
    app = make_app(instance_dir, tmp_path / "config")
    client = app.test_client()
    response = client.get("/broken/order")
    assert response.status_code == 503
    assert "Traceback" not in response.get_data(as_text=True)
    assert client.get("/stromma/order").status_code == 200


def test_declined_card_stores_nothing_and_says_why(app: Flask, client: FlaskClient) -> None:
    token = open_form(client, "stromma", "?lang=en")
    data = {**VALID["stromma"], "form_token": token, "card_number": "4000 0000 0000 0002"}
    response = client.post("/stromma/order?lang=en", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your card was declined" in html
    assert "4000 0000 0000 0002" not in html and 'value="123"' not in html  # never echoed
    assert stored(app, "stromma", "customers") == []


def test_invalid_card_number_is_shown_on_its_field(client: FlaskClient) -> None:
    token = open_form(client, "stromma", "?lang=en")
    data = {**VALID["stromma"], "form_token": token, "card_number": "4242 4242 4242 4241"}
    html = client.post("/stromma/order?lang=en", data=data).get_data(as_text=True)
    assert 'href="#card_number"' in html
    assert "This card number is not valid." in html


def test_card_and_iban_never_reach_the_data_file(
    app: Flask, client: FlaskClient, instance_dir: Path
) -> None:
    token = open_form(client, "stromma")
    assert (
        client.post("/stromma/order", data={**VALID["stromma"], "form_token": token}).status_code
        == 303
    )
    token = open_form(client, "acme")
    sepa = {
        "payment_method": "sepa_debit",
        "sepa_holder": "Jana Schmidt",
        "sepa_iban": "DE89 3704 0044 0532 0130 00",
    }
    assert (
        client.post("/acme/order", data={**VALID["acme"], **sepa, "form_token": token}).status_code
        == 303
    )
    files = b"".join(path.read_bytes() for path in (instance_dir / "data").glob("*.json"))
    assert b"4242424242424242" not in files and b"4242 4242 4242 4242" not in files
    assert b'"123"' not in files  # the CVC
    assert b"DE89370400440532013000" not in files
    [method] = stored(app, "acme", "payment_methods")
    assert method["kind"] == "sepa_debit" and "3000" in str(method)
    assert "card_number" not in stored(app, "stromma", "customers")[0]["fields"]


@pytest.mark.parametrize(
    ("code", "plan", "message"),
    [
        ("NOPE", "business", "This code is not valid."),
        ("STAY20", "starter", "This code does not apply to the chosen plan."),
    ],
)
def test_coupon_refusals_are_shown_on_the_coupon_field(
    app: Flask, client: FlaskClient, code: str, plan: str, message: str
) -> None:
    token = open_form(client, "acme", "?lang=en")
    data = {**VALID["acme"], "form_token": token, "coupon": code, "plan": plan}
    response = client.post("/acme/order?lang=en", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert stored(app, "acme", "customers") == []


def test_a_valid_coupon_is_redeemed(app: Flask, client: FlaskClient) -> None:
    token = open_form(client, "acme", "?coupon=stay20")
    data = {**VALID["acme"], "form_token": token, "coupon": "stay20"}
    assert client.post("/acme/order", data=data).status_code == 303
    assert stored(app, "acme", "customers")[0]["coupon"] in ("STAY20", "stay20")


def test_success_inside_a_frame_can_send_the_whole_window_on(
    tmp_path: Path, instance_dir: Path
) -> None:
    merchants = tmp_path / "merchants"
    shutil.copytree(DEMO_CONFIG / "merchants" / "stromma", merchants / "stromma")
    source = (DEMO_CONFIG / "merchants" / "stromma.yaml").read_text(encoding="utf-8")
    source = source.replace(
        "  success:\n", "  success:\n    redirect_url: https://stromma.example/welcome\n"
    )
    (merchants / "stromma.yaml").write_text(
        source + "embed:\n  allowed_origins: ['https://stromma.example']\n  success: top\n",
        encoding="utf-8",
    )
    app = make_app(instance_dir, tmp_path)
    client = app.test_client()
    query = "?embed=1&origin=https://stromma.example"
    token = open_form(client, "stromma", query)
    response = client.post(f"/stromma/order{query}", data={**VALID["stromma"], "form_token": token})
    assert response.status_code == 303 and "/order/complete/" in response.headers["Location"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-redirect="https://stromma.example/welcome"' in html
    assert 'data-parent-origin="https://stromma.example"' in html
    outside = client.post(
        "/stromma/order", data={**VALID["stromma"], "form_token": open_form(client, "stromma")}
    )
    assert (
        outside.headers["Location"] == "https://stromma.example/welcome"
    )  # not framed: plain redirect
