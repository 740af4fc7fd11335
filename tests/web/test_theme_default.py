"""The default and nordic themes: markup contracts, accessibility hooks, weight and CSP."""

from __future__ import annotations

import re
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from tests.helpers.app import DEMO_CONFIG, DEMO_MERCHANTS, ROOT, mails_sent
from tests.helpers.orders import VALID, open_form

THEMES = ROOT / "themes"
WIDGETS_YAML = """
merchant:
  name: Widget Works
  email: hello@widgets.example
  address: {street: Main Street 1, postal_code: "10115", city: Berlin, country: DE}
  currency: EUR
  links: {terms: "https://widgets.example/terms"}
languages: [en, de]
plans:
  - {id: basic, name: Basic, price: "9.00", highlight: true}
  - {id: pro, name: Pro, price: "19.00", badge: {en: Best, de: Beste}}
order_page:
  fields:
    - {name: email, type: email, label: Email, required: true}
    - name: kind
      type: radio
      label: Kind
      choices: [{value: private, label: Private}, {value: business, label: Business}]
      default: private
    - name: company
      type: text
      label: Company
      visible_if: {field: kind, equals: business}
      required_if: {field: kind, equals: business}
    - name: reference
      type: text
      label: Reference
      required_if: {field: kind, in: [business]}
    - {name: size, type: select, label: Size, choices: [{value: s, label: Small}, {value: l, label: Large}]}
    - {name: notes, type: textarea, label: Notes, placeholder: "Anything else?", rows: 3, section: More}
    - {name: iban, type: iban, label: IBAN, required: true}
    - {name: newsletter, type: checkbox, label: Send me news}
    - name: topics
      type: text
      label: Topics
      visible_if: {field: newsletter, equals: true}
    - {name: campaign, type: hidden, default: spring}
  consents:
    - {name: terms, label: 'I accept the <a href="https://widgets.example/terms">terms</a>.', required: true}
payments:
  methods: [invoice, sepa_debit]
"""


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """The demo merchants plus one merchant using every widget."""
    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config)
    (config / "merchants" / "widgets.yaml").write_text(WIDGETS_YAML, encoding="utf-8")
    return config


def page_html(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def fetch(client: FlaskClient, url: str) -> bytes:
    """A response body, with the response closed (static files are streamed)."""
    with client.get(url) as response:
        assert response.status_code == 200, url
        return response.get_data()


def tag(html: str, attribute: str) -> str:
    """The one start tag that carries ``attribute`` (e.g. ``id="company"``)."""
    tags = re.findall(
        rf"<[a-z]+[^>]*\s{re.escape(attribute)}[\s>][^>]*>|<[a-z]+[^>]*\s{re.escape(attribute)}>",
        html,
    )
    assert len(tags) == 1, (attribute, tags)
    return tags[0]


def test_every_widget_renders_with_its_label(client: FlaskClient) -> None:
    html = page_html(client, "/widgets/order")
    for name in ("email", "company", "reference", "size", "notes", "iban"):
        assert f'<label class="field__label" for="{name}">' in html, name
    assert '<legend class="field__label">Kind</legend>' in html
    assert re.search(
        r'<input type="checkbox" id="newsletter"[^>]*>\s*<span><label for="newsletter">', html
    )
    assert '<input type="hidden" id="campaign" name="campaign" value="spring">' in html
    assert "<select" in tag(html, 'id="size"') and ">Small<" in html
    textarea = tag(html, 'id="notes"')
    assert 'rows="3"' in textarea and 'placeholder="Anything else?"' in textarea
    assert '<legend class="section__title">More</legend>' in html
    assert 'type="email"' in tag(html, 'id="email"')


def test_required_fields_are_marked_and_required_if_ones_are_not_required(
    client: FlaskClient,
) -> None:
    html = page_html(client, "/widgets/order")
    assert " required" in tag(html, 'id="email"')
    assert " required" not in tag(
        html, 'id="company"'
    )  # the page script requires it when it applies
    assert " required" not in tag(html, 'id="reference"')
    reference = html[html.index('data-label="Reference"') :]
    assert "data-required-marker" in reference[: reference.index("</label>") + 200]
    assert '<span class="visually-hidden"> required</span>' in html


def test_conditional_fields_carry_their_rule_and_a_hint_without_javascript(
    client: FlaskClient,
) -> None:
    html = page_html(client, "/widgets/order?lang=en")
    assert """data-visible-if='{"field": "kind", "values": ["business"]}'""" in html
    assert """data-required-if='{"field": "kind", "values": ["business"]}'""" in html
    assert "Only needed if Kind is Business." in html
    assert "Required if Kind is Business." in html  # the reference: required_if without visible_if
    assert "Only needed if Send me news is ticked." in html
    assert 'aria-describedby="company-condition company-error"' in tag(html, 'id="company"')


def test_invalid_post_links_every_error_in_page_order(client: FlaskClient) -> None:
    token = open_form(client, "widgets")
    response = client.post(
        "/widgets/order",
        data={
            "form_token": token,
            "plan": "basic",
            "kind": "business",
            "payment_method": "invoice",
            "iban": "DE00 1234",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = html[html.index('id="error-summary"') :]
    summary = summary[: summary.index("</ul>")]
    assert (
        'role="alert"' in summary and 'tabindex="-1"' in summary and "data-error-summary" in summary
    )
    links = re.findall(r'href="#([a-z_-]+)"', summary)
    assert links == ["email", "company", "reference", "iban", "terms"]
    for name in links:
        field = tag(html, f'id="{name}"')
        assert 'aria-invalid="true"' in field and f"{name}-error" in field
        assert re.search(
            rf'<p class="field-error" id="{name}-error"><span class="visually-hidden">', html
        )
    assert "DE00 1234" not in html  # an IBAN is never sent back
    assert "You entered **** ****. Please enter it again." in html
    assert "<title>Error: " in html


def test_plan_cards_are_radios_named_plan(client: FlaskClient) -> None:
    html = page_html(client, "/acme/order?lang=en&plan=starter")
    assert re.search(r'id="plan" name="plan" value="starter" checked', html)
    highlighted = html[html.index("plan--highlight") :]
    assert highlighted.index('class="plan__badge">Popular<') < highlighted.index("</label>")
    widgets = page_html(client, "/widgets/order")
    assert '<span class="plan__badge">Recommended</span>' in widgets  # highlight without a badge


def test_honeypot_is_hidden_from_people_but_not_from_bots(client: FlaskClient) -> None:
    html = page_html(client, "/acme/order")
    wrapper = html[html.index('<div class="aux-field"') :]
    wrapper = wrapper[: wrapper.index("</div>")]
    assert 'aria-hidden="true"' in wrapper
    assert re.search(r'name="homepage"[^>]*tabindex="-1"[^>]*autocomplete="off"', wrapper)
    css = (THEMES / "default" / "static" / "portico.css").read_text()
    rule = re.search(r"\.aux-field\{([^}]*)\}", css).group(1)
    assert "left:-9999px" in rule and "display:none" not in rule


@pytest.mark.parametrize(
    "url",
    [
        "/acme/order",
        "/stromma/order?embed=1",
        "/thistle/order?lang=de",
        "/widgets/order",
        "/nobody/order",
        "/acme/order?plan=legacy",
    ],
)
def test_pages_have_no_inline_script_or_style(client: FlaskClient, url: str) -> None:
    html = client.get(url).get_data(as_text=True)
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.parametrize("merchant", (*DEMO_MERCHANTS, "widgets"))
def test_order_page_weighs_under_40_kb(client: FlaskClient, merchant: str) -> None:
    html = page_html(client, f"/{merchant}/order")
    assets = re.findall(rf'(?:href|src)="(/(?:static|{merchant})/[^"]+\.(?:css|js)[^"]*)"', html)
    assert len(assets) >= 4  # portico.css, theme.css, brand.css, order.js
    total = len(html.encode()) + sum(
        len(fetch(client, url.replace("&amp;", "&"))) for url in assets
    )
    assert total < 40_000, total


def test_static_files_stay_small_and_self_contained() -> None:
    static = THEMES / "default" / "static"
    css = (static / "portico.css").read_text()
    js = (static / "order.js").read_text()
    assert len(css.encode()) < 12_000 and len(js.encode()) < 6_000
    assert "@import" not in css and "@font-face" not in css and "url(" not in css
    for forbidden in (
        "eval(",
        "innerHTML",
        "new Function",
        "http://",
        "https://",
        "fetch(",
        "XMLHttpRequest",
    ):
        assert forbidden not in js, forbidden
    assert "[hidden]{display:none !important}" in css
    assert "prefers-reduced-motion" in css and ":focus-visible{outline:3px" in css


def test_nordic_overrides_only_what_it_changes(client: FlaskClient) -> None:
    nordic, default = THEMES / "nordic", THEMES / "default"
    overrides = [p.relative_to(nordic) for p in nordic.rglob("*") if p.is_file()]
    assert {"static/theme.css", "templates/partials/header.html"} <= {str(p) for p in overrides}
    for relative in overrides:  # each file overrides one of the default theme's, and changes it
        assert (default / relative).is_file(), relative
        assert (nordic / relative).read_bytes() != (default / relative).read_bytes(), relative
    html = page_html(client, "/stromma/order?lang=en")
    assert "site-header--centred" in html
    assert re.search(r'href="/static/nordic/theme\.css\?v=[0-9a-f]{10}"', html)
    portico = re.search(r'href="(/static/nordic/portico\.css\?v=[0-9a-f]+)"', html).group(1)
    default_css = fetch(
        client,
        re.search(
            r'href="(/static/default/portico\.css[^"]*)"', page_html(client, "/acme/order")
        ).group(1),
    )
    assert fetch(client, portico) == default_css  # nordic falls back to the default's stylesheet
    assert "site-header--centred" not in page_html(client, "/acme/order")


def test_language_switcher_marks_the_current_language(client: FlaskClient) -> None:
    html = page_html(client, "/acme/order?lang=en")
    nav = html[html.index('<nav class="languages"') : html.index("</nav>")]
    assert 'aria-label="Language"' in nav
    assert re.search(r'hreflang="en" lang="en" aria-current="true">English<', nav)
    assert re.search(r'hreflang="de" lang="de">Deutsch<', nav)


def test_embed_mode_drops_the_chrome(client: FlaskClient) -> None:
    html = page_html(client, "/acme/order?embed=1&origin=http://localhost:8001&lang=en")
    assert '<html lang="en" class="is-embed" data-parent-origin="http://localhost:8001"' in html
    assert '<nav class="languages"' not in html
    assert "site-header--compact" in html and "site-footer--compact" in html
    assert '<input type="hidden" name="embed" value="1">' in html
    assert re.search(r'<script src="/embed/frame\.js\?v=[0-9a-f]+" defer>', html)


def test_success_page_in_a_frame_tells_the_embedding_site_without_personal_data(
    client: FlaskClient,
) -> None:
    token = open_form(client, "stromma", "?embed=1")
    response = client.post(
        "/stromma/order?embed=1", data={**VALID["stromma"], "form_token": token, "embed": "1"}
    )
    assert response.status_code == 303
    html = page_html(client, response.headers["Location"])
    signal = tag(html, "data-portico-signup")
    assert re.fullmatch(
        r'<div hidden data-portico-signup data-signup-id="sig_[0-9a-f]+" data-plan="premium" '
        r'data-merchant="stromma">',
        signal,
    )
    assert "C-000001" in html and "s•••@example.se" in html


def test_error_page_for_an_unknown_merchant(client: FlaskClient) -> None:
    response = client.get("/nobody/order")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert re.search(r'<html lang="[a-z]{2}" data-status="404">', html)
    assert "<header" not in html and "<footer" not in html
    assert re.search(r'class="reference">Reference: [0-9a-f]{16}<', html)


def test_error_page_of_a_known_merchant_links_back(client: FlaskClient) -> None:
    html = client.get("/acme/order?plan=legacy&lang=en").get_data(as_text=True)
    assert 'href="/acme/order?lang=en">Go to the order page<' in html
    assert 'alt="ACME Cloud GmbH"' in html  # branded: the logo in the header


def test_confirmation_mail_in_both_parts(client: FlaskClient, instance_dir: Path) -> None:
    token = open_form(client, "acme", "?lang=en")
    assert (
        client.post("/acme/order?lang=en", data={**VALID["acme"], "form_token": token}).status_code
        == 303
    )
    mails_sent(client.application)
    (mail,) = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in (instance_dir / "outbox").glob("*.eml")
    ]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    for part in (text, html):
        assert "C-000001" in part and "Business" in part
        assert "http://portico.test/acme/portal" in part
        assert "ACME Cloud GmbH" in part
    assert "style=" in html and "#0b5fff" in html  # mail clients need inline styles
    assert "{{" not in text and "{%" not in text
