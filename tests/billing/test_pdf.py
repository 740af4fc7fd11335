"""Invoice PDFs: every EU field, the customer's language, Unicode that survives extraction."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from app.billing.base import NotFoundError
from app.billing.pdf import render_invoice_pdf, reverse_charge_note
from app.core.i18n import translations
from tests.helpers.billing import IBAN, Shop, demo_config, make_config

BUYER = {
    "email": "lukasz@example.at",
    "company": "Øresund Łódź Handels GmbH",
    "first_name": "Łukasz",
    "last_name": "Åström",
    "street": "Große Straße 7",
    "postal_code": "1010",
    "city": "Wien",
    "country": "AT",
    "vat_id": "ATU13585627",
}


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\u00a0\u202f]", " ", text)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize(
    ("language", "net", "title"),
    [("de", "20,00 €", "Rechnung"), ("en", "€20.00", "Invoice"), ("sv", "20,00 €", "Faktura")],
)
def test_a_reverse_charge_invoice_in_each_language(
    shop: Shop, language: str, net: str, title: str
) -> None:
    result = shop.sign_up("setup", fields=BUYER, language=language, coupon="HALF")
    invoice = shop.get("invoices", result.invoice_id)
    pdf = shop.billing.invoice_pdf("shop", shop.config, result.customer_id, invoice["number"])
    assert pdf.startswith(b"%PDF")
    text = flat(text_of(pdf))
    t = translations(language)
    assert invoice["number"] in text
    for name in (
        "Grüße & Söhne GmbH",
        "Øresund Łódź Handels GmbH",
        "Łukasz Åström",
        "Große Straße 7",
    ):
        assert name in text
    assert "DE136695976" in text and "ATU13585627" in text  # both VAT IDs
    assert "HRB 1, Amtsgericht Berlin" in text and result.customer_number in text
    assert net in text  # the first period, in the language's format
    assert flat(reverse_charge_note(t)) in text
    assert t.gettext("Invoice") in text
    if t.gettext("Invoice") != "Invoice":  # once the catalogs are translated
        assert title in text
    # the setup fee and the discount line, service period and totals
    assert t.gettext("Setup fee: %(plan)s") % {"plan": "Setup"} in text
    assert "HALF" in text


def test_a_domestic_invoice_shows_net_vat_and_gross(shop: Shop) -> None:
    result = shop.sign_up("basic", "invoice", None, language="en")
    number = shop.get("invoices", result.invoice_id)["number"]
    text = flat(text_of(shop.billing.invoice_pdf("shop", shop.config, result.customer_id, number)))
    for expected in ("€10.00", "€1.90", "€11.90", "19%", "Jana Schmidt", "Unter den Linden 5"):
        assert expected in text
    assert "Jan 15, 2026 – Feb 14, 2026" in text  # the service period
    assert "Jan 29, 2026" in text  # due date: 14 days
    assert "DE89 3704 0044 0532 0130 00" in text and "COBADEFFXXX" in text  # where to pay
    assert "Reverse charge" not in text


def test_sepa_invoices_name_the_mandate(shop: Shop) -> None:
    result = shop.sign_up("basic", "sepa_debit", IBAN, language="en")
    shop.clock.advance(days=31)
    shop.bill()
    renewal = shop.docs("invoices")[-1]
    text = flat(text_of(render_invoice_pdf(renewal, shop.config, None)))
    assert "Paid on" in text
    mandate = shop.docs("payment_methods")[0]["mandate_reference"]
    draft = {**renewal, "status": "open"}
    text = flat(text_of(render_invoice_pdf(draft, shop.config, None)))
    assert mandate in text and "DE89 **** 3000" in text
    assert result.customer_number in text


def test_credit_notes_in_swedish_crowns_with_vat_included(store, clock) -> None:
    shop = Shop(store, clock, demo_config("stromma"), "stromma")
    result = shop.sign_up(
        "premium-ar", fields={"email": "åsa@example.se", "name": "Åsa Öberg"}, language="sv"
    )
    [payment] = shop.docs("payments")
    note, _ = shop.billing.refund_payment("stromma", shop.config, payment["id"], 14900)
    assert note is not None and note["kind"] == "credit_note"
    text = flat(
        text_of(
            shop.billing.invoice_pdf("stromma", shop.config, result.customer_id, note["number"])
        )
    )
    t = translations("sv")
    assert t.gettext("Credit note") in text and note["number"] in text
    assert "−149 kr" in text or "-149 kr" in text
    assert "Åsa Öberg" in text and "Strömma Media AB" in text and "Götgatan 12" in text
    invoice = shop.docs("invoices")[0]
    assert invoice["number"] in text  # the invoice it corrects


def test_logos_svg_png_and_broken_ones(store, clock, tmp_path) -> None:
    for slug in ("acme", "stromma"):
        config = demo_config(slug)
        shop = Shop(store, clock, config, slug)
        plan = config.offered_plans[-1].id
        result = shop.sign_up(
            plan,
            "invoice" if "invoice" in config.payments.methods else "card",
            None,
            fields={"email": f"x@{slug}.example"},
        )
        invoice = shop.docs("invoices")[0] if shop.docs("invoices") else None
        if invoice is None:
            clock.advance(days=40)
            shop.bill()
            invoice = shop.docs("invoices")[0]
        pdf = shop.billing.invoice_pdf(slug, config, result.customer_id, invoice["number"])
        if slug == "stromma":
            assert PdfReader(io.BytesIO(pdf)).pages[0].images  # the PNG logo
        broken = config.model_copy(
            update={"branding": config.branding.model_copy(update={"logo": "missing.png"})}
        )
        assert render_invoice_pdf(invoice, broken, tmp_path).startswith(b"%PDF")


def test_an_invoice_pdf_is_only_for_its_own_customer(shop: Shop) -> None:
    first = shop.sign_up("basic")
    second = shop.sign_up("basic", fields={"email": "other@example.de"})
    number = shop.get("invoices", first.invoice_id)["number"]
    with pytest.raises(NotFoundError):
        shop.billing.invoice_pdf("shop", shop.config, second.customer_id, number)
    with pytest.raises(NotFoundError):
        shop.billing.invoice("shop", second.customer_id, number)


def test_long_invoices_break_across_pages(shop: Shop) -> None:
    config = make_config(
        plans=[{"id": "basic", "name": "Daily " * 30, "price": "1.00", "interval": "day"}]
    )
    shop.config = config
    shop.sign_up("basic", "invoice", None)
    invoice = shop.docs("invoices")[0]
    long = {**invoice, "lines": invoice["lines"] * 60}
    pdf = render_invoice_pdf(long, config, None)
    assert len(PdfReader(io.BytesIO(pdf)).pages) > 1
