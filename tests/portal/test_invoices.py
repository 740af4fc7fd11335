"""The portal's invoices: the list, the PDF download (the customer's own only), paying now."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from html import escape, unescape
from pathlib import Path

import pytest
from flask import Flask
from pypdf import PdfReader

from app.core.money import Money
from app.web.portal.invoices import PAGE_SIZE
from tests.helpers.app import make_app, stop_background_work
from tests.helpers.portal import audits, csrf_token, edited_config, sign_in_directly, sign_up
from tests.helpers.portal_billing import (
    NO_FUNDS_CARD,
    add_card,
    add_invoices,
    customer_signed_in,
    invoices_of,
    newest_first,
)

LIST = "/acme/portal/invoices?lang=en"


def pdf_url(number: str, merchant: str = "acme") -> str:
    return f"/{merchant}/portal/invoices/{number}.pdf"


def pay(client, number: str, **data: str):
    token = csrf_token(client.get(LIST).get_data(as_text=True))
    return client.post(
        f"/acme/portal/invoices/{number}/pay?lang=en", data={"csrf_token": token, **data}
    )


def test_lists_invoices_and_credit_notes_with_status_dates_and_amounts(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    billing = app.extensions["portico"].billing
    config = app.extensions["portico"].merchants.get("acme").config
    note = billing.grant_credit("acme", config, customer["id"], 1000, "Goodwill")
    (invoice,) = [i for i in invoices_of(app, "acme", customer) if i["kind"] == "invoice"]

    response = client.get(LIST)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert invoice["number"] in html and note["number"] in html
    assert "Credit note" in html and ">Issued<" in html
    assert ">Open<" in html or ">Paid<" in html
    assert Money(invoice["gross"], "EUR").format("en") in html  # "€176.12": Babel, English
    assert Money(note["gross"], "EUR").format("en") in html
    assert f'href="{pdf_url(invoice["number"])}?lang=en"' in html
    assert 'aria-current="page"' in html and ">Invoices</a>" in html  # the portal's navigation


def test_pdf_is_the_customers_own_invoice_as_a_download(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    (invoice,) = invoices_of(app, "acme", customer)

    response = client.get(pdf_url(invoice["number"]))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename={invoice['number']}.pdf" in disposition
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert invoice["number"] in text and customer["number"] in text


def test_another_customers_and_made_up_numbers_are_not_found(app: Flask) -> None:
    client, _ = customer_signed_in(app, "acme", "jana@example.com")
    _, other = customer_signed_in(app, "acme", "otto@example.com")
    (theirs,) = invoices_of(app, "acme", other)
    numbers = [
        theirs["number"],
        "ACME-2026-999999",
        "ACME-1999-000001",
        "..%2F..%2Fdata%2Facme.json",
        "..",
        "%00",
        "x" * 3000,
        "<script>alert(1)</script>",
        "' OR '1'='1",
        "ACME-2026-000001%00",
    ]
    for number in numbers:
        response = client.get(pdf_url(number))
        assert response.status_code == 404, number
        assert not response.get_data().startswith(b"%PDF")
        html = response.get_data(as_text=True)
        assert other["number"] not in html and "otto" not in html
    assert pay(client, theirs["number"]).status_code == 404
    assert [i["status"] for i in invoices_of(app, "acme", other)] == ["open"]


def test_another_merchants_slug_is_not_found_even_with_a_session_there(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    (invoice,) = invoices_of(app, "acme", customer)
    # The same browser signs up and signs in at stromma: a valid session there too.
    sign_up(client, "stromma", "jana@example.com")
    sign_in_directly(app, client, "stromma", "jana@example.com")
    assert client.get("/stromma/portal/invoices?lang=en").status_code == 200

    for merchant in ("stromma", "thistle", "nobody", "ACME"):
        response = client.get(pdf_url(invoice["number"], merchant))
        assert response.status_code == 404, merchant
        assert customer["number"] not in response.get_data(as_text=True)


def test_signed_out_visitors_sign_in_first_and_malformed_numbers_are_not_found(
    app: Flask,
) -> None:
    _, customer = customer_signed_in(app, "acme", "jana@example.com")
    (invoice,) = invoices_of(app, "acme", customer)
    stranger = app.test_client()

    response = stranger.get(pdf_url(invoice["number"]))

    assert response.status_code == 303
    assert "/acme/portal?" in response.headers["Location"]
    for number in ("ACME-abcdef", "STR-2026-000001", "x" * 300):
        assert stranger.get(pdf_url(number)).status_code == 404, number


def test_pays_an_open_invoice_with_the_default_card(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    (invoice,) = invoices_of(app, "acme", customer)
    assert add_card(client, "acme").status_code == 303
    assert f"/acme/portal/invoices/{invoice['number']}/pay" in client.get(LIST).get_data(
        as_text=True
    )

    response = pay(client, invoice["number"])

    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Your payment has been received." in html
    assert 'name="action" value="pay_invoice"' in html  # the feedback prompt
    assert ">Paid<" in html
    (paid,) = invoices_of(app, "acme", customer)
    assert paid["status"] == "paid"
    (entry,) = audits(app, "acme", "invoice.pay")
    assert entry["actor"] == "portal:jana@example.com"
    assert entry["customer_id"] == customer["id"]
    assert entry["before"]["status"] == "open" and entry["after"]["status"] == "paid"
    assert entry["after"]["payment_status"] == "succeeded"
    assert entry["after"]["method"]["last4"] == "4242"
    assert "4242424242424242" not in str(entry)


def test_a_declined_payment_says_so_and_leaves_the_invoice_open(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    (invoice,) = invoices_of(app, "acme", customer)
    assert add_card(client, "acme", NO_FUNDS_CARD).status_code == 303

    response = pay(client, invoice["number"])

    assert response.status_code == 422
    assert "declined for insufficient funds" in response.get_data(as_text=True)
    (still,) = invoices_of(app, "acme", customer)
    assert still["status"] == "open" and still["amount_paid"] == 0
    (entry,) = audits(app, "acme", "invoice.pay")  # the failed attempt is on record
    assert entry["after"]["payment_status"] == "failed"
    assert entry["after"]["status"] == "open"


def test_paying_a_paid_invoice_changes_nothing(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    (invoice,) = invoices_of(app, "acme", customer)
    add_card(client, "acme")
    assert pay(client, invoice["number"]).status_code == 303
    payments = app.extensions["portico"].store

    with payments.read("acme") as tx:
        before = tx.collection("payments").count()
    response = pay(client, invoice["number"])

    assert response.status_code == 409
    assert "has nothing left to pay" in response.get_data(as_text=True)
    with payments.read("acme") as tx:
        assert tx.collection("payments").count() == before
    assert len(audits(app, "acme", "invoice.pay")) == 1


def test_paying_without_the_form_token_is_refused(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    (invoice,) = invoices_of(app, "acme", customer)
    add_card(client, "acme")

    response = client.post(f"/acme/portal/invoices/{invoice['number']}/pay?lang=en")

    assert response.status_code == 400
    assert [i["status"] for i in invoices_of(app, "acme", customer)] == ["open"]
    assert audits(app, "acme", "invoice.pay") == []


@pytest.fixture
def invoices_off(tmp_path: Path):
    config = edited_config(tmp_path, "acme", "  invoices: true", "  invoices: false")
    app = make_app(tmp_path / "instance-off", config)
    yield app
    stop_background_work(app)


def test_switched_off_by_the_merchant_the_pages_are_not_found(invoices_off: Flask) -> None:
    client, customer = customer_signed_in(invoices_off, "acme", "jana@example.com")
    (invoice,) = invoices_of(invoices_off, "acme", customer)
    home = client.get("/acme/portal?lang=en").get_data(as_text=True)
    assert "/acme/portal/invoices" not in home  # no navigation entry

    assert client.get(LIST).status_code == 404
    assert client.get(pdf_url(invoice["number"])).status_code == 404
    token = csrf_token(home)
    response = client.post(
        f"/acme/portal/invoices/{invoice['number']}/pay", data={"csrf_token": token}
    )
    assert response.status_code == 404


# Paging: a long history, newest first, PAGE_SIZE to a page --------------------------

ROW = re.compile(r'<th scope="row" id="invoice-\d+">([^<\s]+)')


def rows(html: str) -> list[str]:
    """The invoice numbers a page lists, in its order."""
    return ROW.findall(html)


def link(html: str, rel: str) -> str:
    """The ``rel="prev"`` or ``rel="next"`` link of the page navigation."""
    match = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    assert match, f"no {rel} link"
    return unescape(match.group(1))


def test_a_long_history_is_paged_newest_first_with_real_links(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    add_invoices(app, "acme", customer["id"], 60)
    expected = newest_first(invoices_of(app, "acme", customer))
    assert PAGE_SIZE == 24 and len(expected) == 61  # pages of 24, 24 and 13

    first = client.get(LIST).get_data(as_text=True)

    assert rows(first) == expected[:24]
    assert first.count('.pdf?lang=en"') == 24  # only the rows shown are built
    assert "<p>61 invoices</p>" in first
    assert '<nav class="portal-aside" aria-label="Pages of invoices">' in first
    assert "<p>Page 1 of 3</p>" in first and "<title>Invoices – Page 1 of 3" in first
    assert (
        'href="/acme/portal/invoices?lang=en" aria-label="Page 1" aria-current="page">1<' in first
    )
    assert 'rel="prev"' not in first and "Newer invoices" not in first
    assert link(first, "next") == "/acme/portal/invoices?lang=en&page=2"

    second = client.get(link(first, "next")).get_data(as_text=True)
    assert rows(second) == expected[24:48]
    assert 'aria-label="Page 2" aria-current="page">2<' in second
    assert link(second, "prev") == LIST  # the first page's own address, no ?page=1
    assert ">Newer invoices<" in second and ">Older invoices<" in second

    last = client.get(link(second, "next")).get_data(as_text=True)
    assert rows(last) == expected[48:]  # 13, the sign-up's invoice last
    assert expected[-1] == invoices_of(app, "acme", customer)[0]["number"]
    assert 'rel="next"' not in last and "Older invoices" not in last
    assert client.get(f"{LIST}&page=1").get_data(as_text=True).count("<tr>") == first.count("<tr>")


def test_page_numbers_of_pages_that_do_not_exist_are_the_branded_404(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    add_invoices(app, "acme", customer["id"], 30)  # 31 invoices: pages 1 and 2
    assert client.get(f"{LIST}&page=2").status_code == 200

    for value in ("3", "0", "-1", "", "abc", "1.5", "+2", "%202", "02", "9" * 5000, "1e1"):
        response = client.get(f"{LIST}&page={value}")
        assert response.status_code == 404, value
        html = response.get_data(as_text=True)
        assert "Page not found" in html and "ACME Cloud GmbH" in html, value
        assert customer["number"] not in html


def test_the_count_is_a_babel_number_in_the_right_plural(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    assert "<p>1 invoice</p>" in client.get(LIST).get_data(as_text=True)
    assert "<p>1 Rechnung</p>" in client.get("/acme/portal/invoices?lang=de").get_data(as_text=True)
    container = app.extensions["portico"]
    config = container.merchants.get("acme").config
    container.billing.grant_credit("acme", config, customer["id"], 1000, "Goodwill")
    add_invoices(app, "acme", customer["id"], 999)

    english = client.get(LIST).get_data(as_text=True)
    german = client.get("/acme/portal/invoices?lang=de").get_data(as_text=True)

    assert "<p>1,000 invoices and 1 credit note</p>" in english
    assert "<p>1.000 Rechnungen und 1 Gutschrift</p>" in german
    assert "<p>Seite 1 von 42</p>" in german and ">Ältere Rechnungen<" in german
    assert 'aria-label="Seite 42">42<' in german and ">…<" in german
    assert len(rows(english)) == PAGE_SIZE

    swedish, other = customer_signed_in(app, "stromma", "sven@example.se")
    stromma = container.merchants.get("stromma").config
    container.billing.bill_until("stromma", stromma, datetime.now(UTC) + timedelta(days=31))
    add_invoices(app, "stromma", other["id"], 1500)  # after the trial's first invoice
    html = swedish.get("/stromma/portal/invoices?lang=sv").get_data(as_text=True)
    assert "<p>1\u00a0501 fakturor</p>" in html  # Swedish groups with a no-break space
    assert "<p>Sida 1 av 63</p>" in html and ">Äldre fakturor<" in html


def test_paying_from_a_later_page_comes_back_to_that_page(app: Flask) -> None:
    client, customer = customer_signed_in(app, "acme", "jana@example.com")
    add_invoices(app, "acme", customer["id"], 30)
    assert add_card(client, "acme").status_code == 303
    page = client.get(f"{LIST}&page=2").get_data(as_text=True)
    oldest = invoices_of(app, "acme", customer)[0]["number"]
    action = f"/acme/portal/invoices/{oldest}/pay?lang=en&page=2"
    assert f'action="{escape(action)}"' in page
    token = csrf_token(page)

    paid = client.post(action, data={"csrf_token": token})

    assert paid.status_code == 303
    assert paid.headers["Location"] == f"{LIST}&page=2&done=paid"
    html = client.get(paid.headers["Location"]).get_data(as_text=True)
    assert "Your payment has been received." in html and "<p>Page 2 of 2</p>" in html
    assert oldest in rows(html)
    again = client.post(action, data={"csrf_token": token})  # a second click
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "has nothing left to pay" in html and rows(html) == rows(page)
