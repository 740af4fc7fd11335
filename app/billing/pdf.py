"""Invoice and credit note PDFs: branded, in the invoice's language, with every EU field.

The PDF is drawn from the stored invoice alone (its seller and buyer
snapshots, lines and totals), so it can be produced again at any time and
always says what was issued. It carries what Art. 226 of the VAT Directive
(2006/112/EC) asks for: the number, issue date and date (period) of supply,
seller's and buyer's names, addresses and VAT IDs, the service, net per rate,
the rate, the VAT, the total, and the reverse-charge note where it applies.

Text uses the DejaVu fonts shipped in ``app/billing/fonts`` so that ß, å, ø,
€ and Ł print. The logo is PNG, JPEG or SVG (fpdf2 draws SVG as vectors) and
is loaded from bytes with every implicit resource access switched off, so a
merchant's SVG cannot make the renderer read files or URLs.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_percent
from babel.support import NullTranslations
from fpdf import FPDF
from fpdf.enums import ResourceAccessPolicy, XPos, YPos
from fpdf.fonts import FontFace

from app.billing import records
from app.billing.records import InvoiceStatus
from app.config.assets import load_asset
from app.config.models import MerchantConfig
from app.core.clock import parse_iso
from app.core.i18n import translations
from app.core.money import Money

log = logging.getLogger(__name__)

FONTS_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"
MARGIN = 18.0
LINE = 5.0
GREY = (100, 100, 100)
BLACK = (26, 26, 26)


def reverse_charge_note(t: NullTranslations) -> str:
    return t.gettext(
        "Reverse charge: the recipient of the service is liable for VAT "
        "(Article 196 of Council Directive 2006/112/EC)."
    )


def render_invoice_pdf(
    invoice: Mapping[str, Any], config: MerchantConfig, assets_dir: Path | None
) -> bytes:
    """The PDF of a stored invoice or credit note. ``assets_dir`` holds the logo
    (``config/merchants``); ``None`` leaves the logo out."""
    return _InvoicePdf(invoice, config, assets_dir).render()


class _Document(FPDF):
    """An A4 page whose footer the invoice draws."""

    def __init__(self, draw_footer: Callable[[], None]) -> None:
        super().__init__(format="A4", unit="mm")
        self._draw_footer = draw_footer

    def footer(self) -> None:
        self._draw_footer()


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) == 3:
        value = "".join(2 * char for char in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class _InvoicePdf:
    def __init__(
        self, invoice: Mapping[str, Any], config: MerchantConfig, assets_dir: Path | None
    ) -> None:
        self.invoice = invoice
        self.config = config
        self.assets_dir = assets_dir
        self.language = invoice["language"]
        self.t = translations(self.language)
        self.zone = ZoneInfo(config.merchant.timezone)
        self.primary = _rgb(config.branding.colors.primary)
        self.pdf = _Document(self.footer)
        # Nothing in an invoice may make the renderer fetch a file or URL by itself.
        self.pdf.resource_access_policy = ResourceAccessPolicy.NONE

    # Formatting in the invoice's language.

    def money(self, minor: int) -> str:
        return Money(minor, self.invoice["currency"]).format(self.language)

    def date(self, value: str | datetime | None) -> str:
        if value is None:
            return ""
        moment = parse_iso(value) if isinstance(value, str) else value
        return format_date(moment.astimezone(self.zone).date(), "medium", locale=self.language)

    def period(self, start: str | None, end: str | None) -> str:
        """A period [start, end) as the first and the last day it covers in full."""
        if not start or not end:
            return ""
        begin, finish = parse_iso(start), parse_iso(end)
        last = finish - timedelta(days=1) if finish - begin >= timedelta(days=1) else finish
        first = self.date(begin)
        return first if self.date(last) == first else f"{first} – {self.date(last)}"

    def rate(self) -> str:
        rate = Decimal(self.invoice["tax_rate"]) / 100
        return format_percent(rate, locale=self.language, decimal_quantization=False)

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        return Locale.parse(self.language).territories.get(code, code)

    # Drawing.

    def render(self) -> bytes:
        pdf, invoice = self.pdf, self.invoice
        pdf.add_font(FONT, "", str(FONTS_DIR / "DejaVuSans.ttf"))
        pdf.add_font(FONT, "B", str(FONTS_DIR / "DejaVuSans-Bold.ttf"))
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=MARGIN + 10)
        pdf.set_lang(self.language)
        pdf.set_creation_date(parse_iso(invoice["issued_at"]))
        pdf.set_title(f"{self.title()} {invoice['number']}")
        pdf.set_author(invoice["seller"]["name"])
        pdf.set_creator("Portico")
        pdf.add_page()
        self.header()
        self.parties()
        self.heading()
        self.lines()
        self.totals()
        self.notes()
        return bytes(pdf.output())

    def title(self) -> str:
        if self.invoice["kind"] == "credit_note":
            return self.t.gettext("Credit note")
        return self.t.gettext("Invoice")

    def text(
        self, value: str, *, size: float = 9, bold: bool = False, color=BLACK, align="L", w=0.0
    ) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.set_text_color(*color)
        self.pdf.multi_cell(w, LINE, value, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header(self) -> None:
        pdf, seller = self.pdf, self.invoice["seller"]
        top = pdf.get_y()
        self.logo(top)
        pdf.set_xy(pdf.w - MARGIN - 70, top)
        pdf.set_font(FONT, "B", 10)
        pdf.set_text_color(*BLACK)
        pdf.multi_cell(70, LINE, seller["name"], align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, "", 8)
        pdf.set_text_color(*GREY)
        contact = [*seller["address"], self.country(seller["country"]), seller["email"]]
        if seller.get("phone"):
            contact.append(seller["phone"])
        for line in contact:
            pdf.multi_cell(70, 4, line, align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_y(max(pdf.get_y(), top + 20) + 4)
        pdf.set_draw_color(*self.primary)
        pdf.set_line_width(0.8)
        pdf.line(MARGIN, pdf.get_y(), pdf.w - MARGIN, pdf.get_y())
        pdf.ln(6)

    def logo(self, top: float) -> None:
        logo = self.config.branding.logo
        if not logo or self.assets_dir is None:
            return
        path = self.assets_dir / logo
        try:
            # Inside the merchant's own folder, no symbolic link, typed by content; an SVG
            # is drawn from its sanitized form (app.config.assets).
            data = io.BytesIO(load_asset(self.assets_dir, logo, None).body)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                self.pdf.image(data, x=MARGIN, y=top, w=60, h=16, keep_aspect_ratio=True)
            for warning in caught:
                log.info("logo %s: %s", path, warning.message)
        except Exception as error:  # a broken logo must never stop an invoice
            log.warning("logo %s left out of invoice %s: %s", path, self.invoice["number"], error)

    def parties(self) -> None:
        pdf, t, invoice = self.pdf, self.t, self.invoice
        seller, buyer = invoice["seller"], invoice["buyer"]
        top = pdf.get_y()
        sender = " · ".join([seller["name"], *seller["address"]])
        self.text(sender, size=7, color=GREY, w=88)
        pdf.ln(1)
        names = [buyer["company"], buyer["name"]] if buyer["company"] else [buyer["name"]]
        for line in [*names, *buyer["address"], self.country(buyer["country"])]:
            if line:
                self.text(line, size=10, w=88)
        if buyer.get("vat_id"):
            self.text(t.gettext("VAT ID: %(id)s") % {"id": buyer["vat_id"]}, size=9, w=88)
        left_bottom = pdf.get_y()
        facts = [
            (t.gettext("Number"), invoice["number"]),
            (t.gettext("Date"), self.date(invoice["issued_at"])),
        ]
        service = self.period(invoice["service_start"], invoice["service_end"])
        if service:
            facts.append((t.gettext("Service period"), service))
        facts.append((t.gettext("Customer number"), invoice["customer_number"]))
        if invoice["kind"] == "invoice":
            facts.append((t.gettext("Due date"), self.date(invoice["due_at"])))
        if seller.get("vat_id"):
            facts.append((t.gettext("Our VAT ID"), seller["vat_id"]))
        pdf.set_y(top)
        for label, value in facts:
            pdf.set_x(pdf.w - MARGIN - 82)
            pdf.set_font(FONT, "", 8)
            pdf.set_text_color(*GREY)
            pdf.cell(30, LINE, label)
            pdf.set_font(FONT, "B", 9)
            pdf.set_text_color(*BLACK)
            pdf.multi_cell(52, LINE, value, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_y(max(left_bottom, pdf.get_y()) + 8)

    def heading(self) -> None:
        self.text(
            f"{self.title()} {self.invoice['number']}", size=15, bold=True, color=self.primary
        )
        related = self.invoice.get("related_invoice_id")
        if related and self.invoice["kind"] == "credit_note":
            number = self.invoice.get("related_invoice_number") or ""
            if number:
                self.text(
                    self.t.gettext("Corrects invoice %(number)s") % {"number": number}, size=9
                )
        self.pdf.ln(3)

    def lines(self) -> None:
        pdf, t = self.pdf, self.t
        heading = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=self.primary)
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*BLACK)
        pdf.set_draw_color(210, 210, 210)
        pdf.set_line_width(0.2)
        with pdf.table(
            col_widths=(92, 50, 32),
            text_align=("LEFT", "LEFT", "RIGHT"),
            headings_style=heading,
            borders_layout="HORIZONTAL_LINES",
            line_height=LINE + 1,
            padding=(1, 2),
        ) as table:
            row = table.row()
            row.cell(t.gettext("Description"))
            row.cell(t.gettext("Period"))
            row.cell(t.gettext("Amount"))
            for line in self.invoice["lines"]:
                row = table.row()
                row.cell(line["description"])
                row.cell(self.period(line["period_start"], line["period_end"]))
                row.cell(self.money(line["amount"]))
        pdf.ln(4)

    def totals(self) -> None:
        t, invoice = self.t, self.invoice
        rate = self.rate()
        rows = [
            (t.gettext("Net amount at %(rate)s VAT") % {"rate": rate}, invoice["net"], False),
            (t.gettext("VAT %(rate)s") % {"rate": rate}, invoice["tax"], False),
            (t.gettext("Total"), invoice["gross"], True),
        ]
        if invoice["kind"] == "invoice" and invoice["credit_applied"]:
            rows.append((t.gettext("Credit applied"), -invoice["credit_applied"], False))
            rows.append((t.gettext("Amount due"), records.amount_due(invoice), True))
        for label, amount, bold in rows:
            self.pdf.set_x(self.pdf.w - MARGIN - 100)
            self.pdf.set_font(FONT, "B" if bold else "", 10 if bold else 9)
            self.pdf.set_text_color(*BLACK)
            self.pdf.cell(68, LINE + 1, label, align="R")
            self.pdf.cell(
                32, LINE + 1, self.money(amount), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT
            )
        self.pdf.ln(5)

    def notes(self) -> None:
        t, invoice = self.t, self.invoice
        if invoice["tax_scheme"] == "reverse_charge":
            self.text(reverse_charge_note(t), bold=True)
        elif invoice["tax_scheme"] == "oss":
            country = self.country(invoice["tax_country"])
            self.text(t.gettext("VAT of %(country)s (EU One-Stop Shop).") % {"country": country})
        if invoice["prices_include_tax"] and invoice["tax_scheme"] != "reverse_charge":
            self.text(t.gettext("Prices include VAT."))
        self.pdf.ln(2)
        self.text(self.payment_terms())
        bank = self.config.billing.bank_account
        if invoice["collection"] == "manual" and invoice["status"] == InvoiceStatus.OPEN and bank:
            holder = bank.holder or invoice["seller"]["name"]
            self.text(t.gettext("Account holder: %(holder)s") % {"holder": holder})
            self.text(f"IBAN: {bank.iban}" + (f" · BIC: {bank.bic}" if bank.bic else ""))
            if bank.bank:
                self.text(bank.bank)
        self.pdf.ln(2)
        self.text(t.gettext("Thank you for your business."), color=GREY)

    def payment_terms(self) -> str:
        t, invoice = self.t, self.invoice
        method = invoice.get("payment_method") or {}
        due = records.amount_due(invoice)
        if invoice["kind"] == "credit_note":
            return t.gettext("The amount has been credited to your customer account.")
        if invoice["status"] == InvoiceStatus.PAID:
            return t.gettext("Paid on %(date)s. Thank you.") % {
                "date": self.date(invoice["paid_at"])
            }
        if invoice["collection"] == "auto" and method.get("kind") == "card":
            return t.gettext(
                "The amount of %(amount)s will be charged to your card ending in %(last4)s."
            ) % {"amount": self.money(due), "last4": method.get("last4", "")}
        if invoice["collection"] == "auto" and method.get("kind") == "sepa_debit":
            text = t.gettext(
                "The amount of %(amount)s will be debited from account %(iban)s "
                "under SEPA mandate %(mandate)s."
            ) % {
                "amount": self.money(due),
                "iban": method.get("iban_masked", ""),
                "mandate": method.get("mandate_reference", ""),
            }
            creditor = self.config.payments.sepa_creditor_id
            if creditor:
                text += " " + t.gettext("Creditor ID: %(id)s") % {"id": creditor}
            return text
        return t.gettext(
            "Please transfer %(amount)s by %(date)s, quoting the invoice number %(number)s."
        ) % {
            "amount": self.money(due),
            "date": self.date(invoice["due_at"]),
            "number": invoice["number"],
        }

    def footer(self) -> None:
        pdf, seller, t = self.pdf, self.invoice["seller"], self.t
        pdf.set_y(-MARGIN - 4)
        parts = [seller["name"], seller.get("registration") or ""]
        if seller.get("vat_id"):
            parts.append(t.gettext("VAT ID: %(id)s") % {"id": seller["vat_id"]})
        parts.append(seller["email"])
        pdf.set_font(FONT, "", 7)
        pdf.set_text_color(*GREY)
        pdf.cell(
            0,
            4,
            " · ".join(part for part in parts if part),
            align="C",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        page = t.gettext("Page %(page)s of %(pages)s") % {"page": pdf.page_no(), "pages": "{nb}"}
        pdf.cell(0, 4, page, align="C")
