"""The portal's help page: the merchant's FAQ, its keyword search and the support contact."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.portal.faq import FaqEntry, FaqSearch, fold, search, text_of, words
from tests.helpers.portal import signed_in_client

CANCEL = {"en": "How do I cancel?", "de": "Wie kündige ich?"}
CHARGED = {"en": "When am I charged?", "de": "Wann wird abgebucht?"}


def questions(html: str) -> list[str]:
    return re.findall(r'<summary class="faq__question">(.*?)</summary>', html)


SCREENS = {"en": "How many screens can I use?", "sv": "Hur många skärmar kan jag använda?"}
TRIAL = {"en": "Does the trial cost anything?", "sv": "Kostar provperioden något?"}


@pytest.mark.parametrize(
    ("merchant", "language", "query", "found", "matched"),
    [
        ("acme", "en", "", [CANCEL, CHARGED], True),
        ("acme", "en", "cancel", [CANCEL], True),
        ("acme", "en", "cancel subscription", [CANCEL], True),  # ranked by matched words
        ("acme", "en", "cancellation", [CANCEL], True),  # one stem: cancel
        ("acme", "en", "CHARGED", [CHARGED], True),
        ("acme", "en", "charges", [CHARGED], True),
        ("acme", "en", "billing period", [CANCEL, CHARGED], True),
        ("acme", "en", "contract", [CANCEL], True),  # a word inside the answer's <strong>
        ("acme", "en", "charged contract", [CANCEL, CHARGED], True),  # one word each
        ("acme", "en", "contract period", [CANCEL, CHARGED], True),  # 2 words before 1
        ("acme", "en", "charged billing period", [CHARGED, CANCEL], True),  # 3 before 2
        ("acme", "en", "refund", [CANCEL, CHARGED], False),  # nothing: every question
        ("acme", "de", "", [CANCEL, CHARGED], True),
        ("acme", "de", "kündige", [CANCEL], True),
        ("acme", "de", "kündigen", [CANCEL], True),
        ("acme", "de", "Kündigung", [CANCEL], True),
        ("acme", "de", "KUNDIGE", [CANCEL], True),  # accents and case do not matter
        ("acme", "de", "abrechnungszeit", [CANCEL, CHARGED], True),  # a word's start
        ("acme", "de", "Vertrag jederzeit", [CANCEL], True),
        ("acme", "de", "cancel", [CANCEL, CHARGED], False),  # German texts only
        ("stromma", "sv", "säga upp", [TRIAL], True),
        ("stromma", "sv", "provperiodens kostnad", [TRIAL], True),
        ("stromma", "en", "cancel subscription", [TRIAL], True),
        ("stromma", "en", "screen", [SCREENS], True),
    ],
)
def test_faq_search(
    client: FlaskClient,
    merchant: str,
    language: str,
    query: str,
    found: list[dict[str, str]],
    matched: bool,
) -> None:
    response = client.get(f"/{merchant}/portal/help?lang={language}&q={query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert questions(html) == [entry[language] for entry in found]
    if query and not matched and language == "en":
        assert f"No answers found for “{query}”." in html
        assert '<details class="faq__entry" open>' not in html
    if query and matched and language == "en":
        assert f"found for “{query}”." in html
        assert '<details class="faq__entry" open>' in html


def test_help_is_public_and_shows_the_support_contact(client: FlaskClient) -> None:
    html = client.get("/acme/portal/help?lang=en").get_data(as_text=True)
    assert '<h1 class="page-title">Help</h1>' in html
    assert '<a href="mailto:support@acme.example">support@acme.example</a>' in html
    assert '<a href="tel:+49301234567">+49 30 1234567</a>' in html
    assert "<strong>Contract</strong>" in html  # the merchant's sanitized answer
    assert 'role="search"' in html and 'name="q"' in html and 'name="lang" value="en"' in html
    assert "Sign out" not in html  # no signed-in bar for a visitor
    assert "Sign in to your customer portal" in html
    stromma = client.get("/stromma/portal/help?lang=en").get_data(as_text=True)
    assert '<a href="https://stromma.example/hjalp">' in stromma
    assert "Does the trial cost anything?" in stromma


def test_help_signed_in_shows_in_the_portal(app: Flask) -> None:
    jana = signed_in_client(app, "acme", "jana@example.com")
    html = jana.get("/acme/portal/help?lang=en&q=cancel").get_data(as_text=True)
    assert "Signed in as jana@example.com" in html
    assert 'aria-current="page">Help<' in html
    assert questions(html) == [CANCEL["en"]]


def test_a_query_is_escaped_and_bounded(client: FlaskClient) -> None:
    response = client.get("/acme/portal/help?lang=en&q=<script>alert(1)</script>")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    long = client.get("/acme/portal/help?lang=en&q=" + "a" * 5000)
    assert long.status_code == 200
    assert 'value="' + "a" * 200 + '"' in long.get_data(as_text=True)


def test_an_unknown_merchant_has_no_help(client: FlaskClient) -> None:
    assert client.get("/nosuch/portal/help").status_code == 404


def test_folding_stemming_and_matching() -> None:
    assert fold("Kündigung ÉTÉ Straße") == "kundigung ete strasse"
    assert text_of("<p>In <strong>Vertrag</strong>.</p><p>Ende&amp;Aus</p>").split() == [
        "In",
        "Vertrag",
        ".",
        "Ende&Aus",
    ]
    assert words("Kündigung kündigen", "de") == {"kundig"}
    assert words("säga Säg upp", "sv") == {"sag", "upp"}
    assert words("cancellations", "fr") == {"cancellations"}  # no stemmer: whole words
    entry = FaqEntry(
        "Wie kündige ich?", "<p>Im Portal</p>", words("Wie kündige ich? Im Portal", "de")
    )
    assert search((entry,), "  ", "de") == FaqSearch((entry,), matched=True)
    assert search((entry,), "kundige portal", "de") == FaqSearch((entry,), matched=True)
    assert search((entry,), "ndige", "de") == FaqSearch((entry,), matched=False)  # a start


def test_the_sign_in_page_links_to_help(client: FlaskClient) -> None:
    signin = client.get("/acme/portal?lang=de").get_data(as_text=True)
    assert '<a href="/acme/portal/help?lang=de">Hilfecenter</a>' in signin
