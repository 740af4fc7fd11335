"""XSS sweep: a classic payload in every merchant text and every customer field, on every page.

For each payload a merchant carries it in all its texts (names, labels, help,
placeholders, plan texts, titles, consent and success HTML, coupon names, the
address) and the customer types it into every free-text field. The order page
(plain, prefilled from the query, embedded), the error page (422 and 404), the
success page and the confirmation mail must show it as text: no element,
attribute, event handler or URL of its own. ``tests/browser/test_xss_browser.py``
loads the same pages in Chromium and listens for dialogs.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask import Flask

from app.outbox.mails import render_mail
from tests.helpers.app import DEMO_CONFIG, make_app
from tests.helpers.orders import form_token, stored
from tests.helpers.xss import (
    CASES,
    EMAIL,
    MERCHANTS,
    PAYLOADS,
    check_mail,
    inert_problems,
    page,
    signup_data,
    write_merchants,
)


@pytest.fixture(scope="module")
def xss_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    config = tmp_path_factory.mktemp("config")
    write_merchants(config, DEMO_CONFIG)
    return make_app(
        tmp_path_factory.mktemp("instance"),
        config,
        PORTICO_SIGNUP_RATE_LIMIT="1000000 per minute",
    )


def order_urls(slug: str, payload: str) -> list[str]:
    prefill = {"full_name": payload, "notes": payload, "company": payload, "ref": payload}
    return [
        f"/{slug}/order",
        f"/{slug}/order?lang=de",
        f"/{slug}/order?embed=1&origin=https://shop.example",
        f"/{slug}/order?embed=1&origin={quote(payload)}",
        f"/{slug}/order?{urlencode(prefill)}",
        f"/{slug}/order?{urlencode({'coupon': payload, 'plan': payload, 'lang': payload})}",
    ]


@pytest.mark.parametrize(("slug", "payload"), CASES, ids=MERCHANTS)
def test_order_and_error_pages_show_payloads_as_text(
    xss_app: Flask, slug: str, payload: str
) -> None:
    client = xss_app.test_client()
    for url in order_urls(slug, payload):
        page(client, url, payload)
    token = form_token(client.get(f"/{slug}/order").get_data(as_text=True))
    invalid = {**signup_data(payload, valid=False), "form_token": token}
    html = page(client, f"/{slug}/order", payload, status=422, data=invalid)
    assert 'aria-invalid="true"' in html  # the values were shown back, with their errors
    page(client, f"/{slug}/order/complete/{quote(payload, safe='')}", payload, status=404)
    page(client, f"/{slug}/order?embed=1", payload, status=422, data=invalid)


@pytest.mark.parametrize(("slug", "payload"), CASES, ids=MERCHANTS)
def test_success_page_and_mail_show_payloads_as_text(
    xss_app: Flask, slug: str, payload: str
) -> None:
    client = xss_app.test_client()
    token = form_token(client.get(f"/{slug}/order").get_data(as_text=True))
    data = {**signup_data(payload, valid=True), "form_token": token}
    response = client.post(f"/{slug}/order", data=data)
    assert response.status_code == 303
    location = response.headers["Location"]
    page(client, location, payload)
    page(client, location.replace("lang=en", "lang=de"), payload)
    page(client, location + "&embed=1&origin=https://shop.example", payload)

    customer = stored(xss_app, slug, "customers")[-1]
    assert customer["email"] == EMAIL
    assert all(customer["fields"][name] == payload.strip() for name in ("full_name", "notes"))
    entry = stored(xss_app, slug, "outbox", kind="mail")[-1]
    loaded = xss_app.extensions["portico"].merchants.get(slug)
    with xss_app.test_request_context():
        mail = render_mail(
            loaded, entry, "http://portico.test", xss_app.extensions["portico"].billing
        )
    check_mail(mail, payload)


def test_a_header_injection_in_the_merchant_name_is_refused_by_check(tmp_path: Path) -> None:
    """A name with a line break could add mail headers: `portico check` refuses it."""
    import yaml

    from app.config.loader import load_merchant
    from app.config.registry import installed_themes
    from app.settings import THEMES_DIR
    from tests.helpers.xss import merchant_document, write_merchants

    merchants = write_merchants(tmp_path, DEMO_CONFIG)
    document = merchant_document("x")
    document["merchant"]["name"] = "Shop\r\nBcc: victim@example.com"
    (merchants / "crlf.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    loaded = load_merchant(merchants / "crlf.yaml", installed_themes(THEMES_DIR))
    assert loaded.config is None
    assert any("merchant.name" in line for line in loaded.report())


def test_another_merchants_pages_are_untouched(xss_app: Flask) -> None:
    client = xss_app.test_client()
    html = client.get("/stromma/order").get_data(as_text=True)
    assert all(inert_problems(html, payload) == [] for payload in PAYLOADS)


def test_the_merchant_svg_logo_cannot_run_script(xss_app: Flask) -> None:
    with xss_app.test_client().get(f"/{MERCHANTS[0]}/assets/logo") as response:
        assert response.status_code == 200
        csp = response.headers["Content-Security-Policy"]
        assert "sandbox" in csp and "default-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "<" in p or "javascript:" in p])
def test_the_checker_catches_each_payload_left_unescaped(payload: str) -> None:
    """The sweep is only as good as its checker: every payload, pasted raw, is caught."""
    contexts = [f'<a href="{payload}">x</a>']
    if "<" in payload:
        contexts += [f"<p>{payload}</p>", f'<input value="{payload}">', f"<title>{payload}</title>"]
    for html in contexts:
        assert inert_problems(html, payload), html
