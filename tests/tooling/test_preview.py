"""Preview pages: refused without a valid token of the merchant, real pages with sample
data that send nothing when it is valid, and the URLs ``portico preview`` prints."""

from __future__ import annotations

import re
import time

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app.cli import main
from app.reports.preview import SALT, PreviewTokens
from app.web.portal.auth import SignInFormTokens
from tests.helpers.app import DEMO_CONFIG, DEMO_MERCHANTS, SECRET_KEY, app_settings
from tests.helpers.orders import VALID, stored

SECRET = SECRET_KEY  # the secret of the app fixture
PAGES = ("order", "portal", "fields", "metrics", "metrics.csv")


def token(merchant: str = "acme") -> str:
    return PreviewTokens(SECRET).issue(merchant)


class _HourAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 3601


def refused_tokens() -> dict[str, str | None]:
    good = token()
    return {
        "missing": None,
        "empty": "",
        "expired": URLSafeTimedSerializer(SECRET, salt=SALT, signer=_HourAgo).dumps({"m": "acme"}),
        "tampered": good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
        "other merchant": token("stromma"),
        "other secret": PreviewTokens("another-secret").issue("acme"),
        "sign-in form token": SignInFormTokens(SECRET).issue("acme"),  # same key, other salt
        "garbage": "<script>alert(1)</script>",
    }


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("case", list(refused_tokens()))
def test_a_bad_token_gets_the_branded_403_and_no_data(
    client: FlaskClient, page: str, case: str
) -> None:
    value = refused_tokens()[case]
    query = "?lang=en" + ("" if value is None else f"&token={value}")
    response = client.get(f"/acme/preview/{page}{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "This preview link is not valid or has expired" in html
    assert "C-000123" not in html and "Monthly recurring revenue" not in html
    assert "customer_type" not in html and "<script>alert" not in html
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert response.headers["Cache-Control"] == "no-store"


def test_an_unknown_merchant_is_404_even_with_a_token(client: FlaskClient) -> None:
    assert client.get(f"/nosuch/preview/order?token={token('nosuch')}").status_code == 404


def _languages(merchant: str) -> list[str]:
    text = (DEMO_CONFIG / "merchants" / f"{merchant}.yaml").read_text(encoding="utf-8")
    found = re.search(r"^languages:\s*\[([^\]]*)\]", text, re.MULTILINE)
    assert found, merchant
    return [code.strip() for code in found.group(1).split(",")]


CASES = [(m, lang) for m in DEMO_MERCHANTS for lang in _languages(m)]


@pytest.mark.parametrize(("merchant", "language"), CASES)
def test_order_preview_is_the_real_page_prefilled_and_unsendable(
    app: Flask, client: FlaskClient, merchant: str, language: str
) -> None:
    response = client.get(f"/{merchant}/preview/order?token={token(merchant)}&lang={language}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "data-order-form" in html  # the order page's own template
    assert 'value="jana.sample@example.com"' in html
    assert re.search(r'name="form_token" value=""', html)  # nothing a POST could use
    assert "form-action 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert stored(app, merchant, "metrics") == []  # a preview is no visit


def test_sending_the_order_preview_anyway_stores_nothing(app: Flask, client: FlaskClient) -> None:
    html = client.get(f"/acme/preview/order?token={token()}&lang=en").get_data(as_text=True)
    assert "Preview with sample data" in html
    data = {**VALID["acme"], "email": "jana.sample@example.com", "form_token": ""}
    response = client.post("/acme/order?lang=en", data=data)
    assert response.status_code == 400
    assert stored(app, "acme", "customers") == []


@pytest.mark.parametrize(("merchant", "language"), CASES)
def test_portal_preview_shows_the_overview_with_sample_data_and_no_forms(
    client: FlaskClient, merchant: str, language: str
) -> None:
    response = client.get(f"/{merchant}/preview/portal?token={token(merchant)}&lang={language}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "C-000123" in html and "jana.sample@example.com" in html
    assert "<form" not in html
    assert response.headers.get("Set-Cookie") is None  # no session is made
    assert "form-action 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("merchant", DEMO_MERCHANTS)
def test_fields_page_lists_every_field_with_its_rules(client: FlaskClient, merchant: str) -> None:
    config = client.application.extensions["portico"].merchants.get(merchant).config
    response = client.get(f"/{merchant}/preview/fields?token={token(merchant)}&lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for spec in config.order_page.fields:
        assert f"<code>{spec.name}</code>" in html
        if spec.visible_if:
            assert f"When {spec.visible_if.field} = " in html


def test_fields_page_says_where_acme_fields_show(client: FlaskClient) -> None:
    html = client.get(f"/acme/preview/fields?token={token()}&lang=en").get_data(as_text=True)
    row = html.split("<code>company</code>", 1)[1].split("</tr>", 1)[0]
    assert "When customer_type = business" in row  # required_if and visible_if
    assert "max_length: 120" in row or "max_length" in row


@pytest.mark.parametrize("merchant", DEMO_MERCHANTS)
def test_metrics_dashboard_renders_accessible_charts(client: FlaskClient, merchant: str) -> None:
    response = client.get(f"/{merchant}/preview/metrics?token={token(merchant)}&lang=en")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<svg class="chart"' in html and "<title id=" in html and "<desc id=" in html
    assert "<table" in html and "Download as CSV" in html
    assert "<script" not in html


@pytest.mark.parametrize(
    "query", ["since=2026-13-01", "until=yesterday", "since=2026-02-01&until=2026-01-01"]
)
def test_metrics_dashboard_refuses_bad_dates(client: FlaskClient, query: str) -> None:
    response = client.get(f"/acme/preview/metrics?token={token()}&lang=en&{query}")
    assert response.status_code == 422


def test_portico_preview_prints_working_urls(
    app: Flask, client: FlaskClient, runner: CliRunner, instance_dir
) -> None:
    env = app_settings(instance_dir, PORTICO_BASE_URL="https://portico.example")
    result = runner.invoke(main, ["preview", "acme"], env=env)
    assert result.exit_code == 0, result.output
    urls = [line for line in result.stdout.splitlines() if line]
    paths = [url.removeprefix("https://portico.example") for url in urls]
    assert all(url.startswith("https://portico.example/acme/preview/") for url in urls)
    assert {p.split("?")[0] for p in paths} == {
        f"/acme/preview/{page}" for page in ("order", "portal", "fields", "metrics")
    }
    assert sum("/preview/order?" in p for p in paths) == len(_languages("acme"))
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_portico_preview_refuses_an_unknown_merchant(runner: CliRunner, instance_dir) -> None:
    env = {"PORTICO_INSTANCE_DIR": str(instance_dir), "PORTICO_CONFIG_DIR": str(DEMO_CONFIG)}
    result = runner.invoke(main, ["preview", "nosuch"], env=env)
    assert result.exit_code == 1
    assert "unknown merchant 'nosuch'" in result.output
