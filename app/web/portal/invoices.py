"""The portal's invoices: the list, each invoice's PDF, paying an open one now.

The list is paged, newest first (``?page=N``, :data:`PAGE_SIZE` to a page): a
customer of many years has hundreds of invoices, and only the rows shown are
formatted. A page number that is not a plain positive number, or past the last
page, is the branded 404: such an address was made by hand, never by our links,
and invoices are never removed, so a page once linked stays there.

Billing only ever finds the signed-in customer's own invoices, so another
customer's number, another merchant's or a made-up one is a 404 that shows
nothing. Paying goes through :class:`app.portal.payments.PaymentActions`,
which audits it. The merchant switches the pages off with ``portal.invoices``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from flask import Blueprint, Response, abort, redirect, request, send_file, url_for
from flask_babel import format_decimal, gettext, ngettext
from werkzeug.utils import secure_filename

from app.billing.base import NotFoundError
from app.billing.gateways import PaymentDeclined, failure_message
from app.billing.methods import AUTOMATIC_KINDS
from app.billing.records import Invoice, InvoiceStatus
from app.billing.reporting import InvoicePage
from app.config.models import MerchantConfig
from app.portal.documents import customer_actor
from app.web.i18n import current_translations
from app.web.pagination import pagination
from app.web.portal.auth import (
    SignedIn,
    current_session,
    open_portal,
    portal_login_required,
    render_portal,
    signed_in,
)
from app.web.portal.features import portal_feature
from app.web.portal.overview import money
from app.web.services import portico

blueprint = Blueprint("portal_invoices", __name__)

# The notice after an action (``?done=<key>``) and the action the feedback prompt asks about.
FEEDBACK_ACTIONS = {"paid": "pay_invoice"}
# Invoices to a page: two years of monthly bills.
PAGE_SIZE = 24
# ``?page=``: a plain positive number (no sign, space or leading zero), short enough
# that a made-up one of thousands of digits is never turned into an int.
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    credit_note: bool
    status: InvoiceStatus
    issued_at: str  # ISO 8601
    due_at: str | None
    total: str  # formatted, e.g. "59,50 €"
    outstanding: str | None  # what is still to pay, formatted; None when nothing
    pdf_url: str
    pay_url: str | None  # None: nothing to pay now


@blueprint.after_request
def _private(response: Response) -> Response:
    """Invoices are personal: never kept by a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/<merchant>/portal/invoices")
@portal_feature("invoices")
@portal_login_required
def invoices(merchant: str) -> Response:
    number = page_number(request.args.get("page"))
    if number is None:
        abort(404)
    done = request.args.get("done", "")
    return _invoices_page(signed_in(), number, done=done if done in FEEDBACK_ACTIONS else "")


@blueprint.get("/<merchant>/portal/invoices/<number>.pdf")
@portal_feature("invoices")
def invoice_pdf(merchant: str, number: str) -> Response:
    """The PDF of one of the signed-in customer's invoices, as a download. A signed-out
    visitor is sent to sign in only for a number of the merchant's series (else 404)."""
    page = open_portal(merchant)
    if current_session(page) is None and not in_series(page.config, number):
        abort(404)
    return _send_pdf(merchant, number=number)


@portal_login_required
def _send_pdf(merchant: str, number: str) -> Response:
    user = signed_in()
    page = user.page
    try:
        pdf = portico().billing.invoice_pdf(page.slug, page.config, user.customer_id or "", number)
    except NotFoundError:
        abort(404)
    return send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=secure_filename(f"{number}.pdf") or "invoice.pdf",
        etag=False,
        conditional=False,
    )


@blueprint.post("/<merchant>/portal/invoices/<number>/pay")
@portal_feature("invoices")
@portal_login_required
def pay(merchant: str, number: str) -> Response:
    """Pay an open invoice now with the default card or mandate, then show the page of
    the list the customer paid from (the form's ``?page=``) again."""
    user = signed_in()
    page = user.page
    listed = page_number(request.args.get("page")) or 1
    try:
        portico().payment_actions.pay_invoice(
            page.slug,
            page.config,
            user.customer_id or "",
            number,
            actor=customer_actor(user.email_key),
        )
    except NotFoundError:
        abort(404)
    except PaymentDeclined as declined:
        error = failure_message(declined.code, current_translations())
        return _invoices_page(user, listed, status=422, error=error)
    except ValueError:  # nothing outstanding: paid already (a second click), void, a credit note
        error = gettext("Invoice %(number)s has nothing left to pay.", number=number)
        return _invoices_page(user, listed, status=409, error=error)
    return redirect(_list_url(user, listed, done="paid"), code=303)


def page_number(value: str | None) -> int | None:
    """``?page=`` as a number from 1 (absent: 1), or ``None`` when it is no page number."""
    if value is None:
        return 1
    return int(value) if PAGE_NUMBER.fullmatch(value) else None


def in_series(config: MerchantConfig, number: str) -> bool:
    """Whether ``number`` could be one of the merchant's invoice numbers (its current
    ``invoice_prefix``, ``{year}`` as four digits, then the counter)."""
    parts = config.billing.invoice_prefix.split("{year}")
    pattern = r"\d{4}".join(re.escape(part) for part in parts) + r"\d{6,12}"
    return re.fullmatch(pattern, number) is not None


def _invoices_page(
    user: SignedIn, number: int, *, status: int = 200, error: str = "", done: str = ""
) -> Response:
    page = user.page
    billing = portico().billing
    customer_id = user.customer_id or ""
    try:
        listed = billing.invoice_page(page.slug, customer_id, number, PAGE_SIZE)
    except NotFoundError:
        abort(404)
    default = next(
        (m for m in billing.payment_methods(page.slug, customer_id) if m["default"]), None
    )
    can_pay = default is not None and default["kind"] in AUTOMATIC_KINDS
    return render_portal(
        user,
        "portal/invoices.html",
        status=status,
        invoices=[_row(user, invoice, can_pay, number) for invoice in listed.invoices],
        count=count_words(listed),
        outstanding=listed.outstanding,
        pager=pagination(number, listed.pages, lambda n: _list_url(user, n)),
        can_pay=can_pay,
        error=error,
        done=done,
        feedback_action=FEEDBACK_ACTIONS.get(done),
        payment_methods_url=url_for(
            "portal_payment.payment_methods", merchant=page.slug, lang=page.language
        )
        if page.config.portal.payment_methods
        else None,
    )


def count_words(listed: InvoicePage) -> str:
    """How many invoices (and credit notes) there are, in words: "1,000 invoices"."""
    bills = listed.total - listed.credit_notes
    invoices = ngettext(
        "%(count)s invoice", "%(count)s invoices", bills, count=format_decimal(bills)
    )
    if not listed.credit_notes:
        return invoices
    notes = ngettext(
        "%(count)s credit note",
        "%(count)s credit notes",
        listed.credit_notes,
        count=format_decimal(listed.credit_notes),
    )
    return gettext("%(invoices)s and %(credit_notes)s", invoices=invoices, credit_notes=notes)


def _list_url(user: SignedIn, number: int, **args: str) -> str:
    page = user.page
    return url_for(
        ".invoices", merchant=page.slug, lang=page.language, page=_page_arg(number), **args
    )


def _page_arg(number: int) -> int | None:
    """``?page=`` of a link to page ``number``: none for the first, the list's own address."""
    return number if number > 1 else None


def _row(user: SignedIn, invoice: Invoice, can_pay: bool, listed: int) -> InvoiceRow:
    """One row of page ``listed``; paying from it leads back to that page."""
    page = user.page
    outstanding = invoice.outstanding
    args = {"merchant": page.slug, "number": invoice.number, "lang": page.language}
    return InvoiceRow(
        number=invoice.number,
        credit_note=invoice.is_credit_note,
        status=invoice.status,
        issued_at=invoice.issued_at,
        due_at=invoice.due_at,
        total=money(page, invoice.gross, invoice.currency),
        outstanding=money(page, outstanding, invoice.currency) if outstanding > 0 else None,
        pdf_url=url_for(".invoice_pdf", **args),
        pay_url=url_for(".pay", **args, page=_page_arg(listed))
        if can_pay and outstanding > 0
        else None,
    )
