"""The portal's invoices: the list, each invoice's PDF, paying an open one now.

Billing only ever finds the signed-in customer's own invoices, so another
customer's number, another merchant's or a made-up one is a 404 that shows
nothing. Paying goes through :class:`app.portal.payments.PaymentActions`,
which audits it. The merchant switches the pages off with ``portal.invoices``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, send_file, url_for
from flask_babel import gettext
from werkzeug.utils import secure_filename

from app.billing import ledger
from app.billing.gateways import PaymentDeclined, failure_message
from app.billing.methods import AUTOMATIC_KINDS
from app.billing.service import NotFoundError
from app.config.models import MerchantConfig
from app.portal.documents import customer_actor
from app.portal.payments import PaymentActions
from app.web.container import portico
from app.web.i18n import current_translations
from app.web.portal_auth import (
    SignedIn,
    current_session,
    open_portal,
    portal_login_required,
    render_portal,
    signed_in,
)
from app.web.portal_features import portal_feature
from app.web.portal_overview import money

blueprint = Blueprint("portal_invoices", __name__)

# The notice after an action (``?done=<key>``) and the action the feedback prompt asks about.
FEEDBACK_ACTIONS = {"paid": "pay_invoice"}


@dataclass(frozen=True)
class InvoiceRow:
    number: str
    credit_note: bool
    status: str  # open | paid | void | uncollectible | issued (a credit note)
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
    done = request.args.get("done", "")
    return _invoices_page(signed_in(), done=done if done in FEEDBACK_ACTIONS else "")


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
    """Pay an open invoice now with the default card or mandate."""
    user = signed_in()
    page = user.page
    try:
        PaymentActions(portico().billing).pay_invoice(
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
        return _invoices_page(user, status=422, error=error)
    except ValueError:  # nothing outstanding: paid already (a second click), void, a credit note
        error = gettext("Invoice %(number)s has nothing left to pay.", number=number)
        return _invoices_page(user, status=409, error=error)
    return redirect(
        url_for(".invoices", merchant=page.slug, lang=page.language, done="paid"), code=303
    )


def in_series(config: MerchantConfig, number: str) -> bool:
    """Whether ``number`` could be one of the merchant's invoice numbers (its current
    ``invoice_prefix``, ``{year}`` as four digits, then the counter)."""
    parts = config.billing.invoice_prefix.split("{year}")
    pattern = r"\d{4}".join(re.escape(part) for part in parts) + r"\d{6,12}"
    return re.fullmatch(pattern, number) is not None


def _invoices_page(
    user: SignedIn, *, status: int = 200, error: str = "", done: str = ""
) -> Response:
    page = user.page
    billing = portico().billing
    customer_id = user.customer_id or ""
    default = next(
        (m for m in billing.payment_methods(page.slug, customer_id) if m["default"]), None
    )
    can_pay = default is not None and default["kind"] in AUTOMATIC_KINDS
    rows = [_row(user, invoice, can_pay) for invoice in billing.invoices(page.slug, customer_id)]
    return render_portal(
        user,
        "portal/invoices.html",
        status=status,
        invoices=rows,
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


def _row(user: SignedIn, invoice: dict[str, Any], can_pay: bool) -> InvoiceRow:
    page = user.page
    number = invoice["number"]
    outstanding = ledger.outstanding(invoice)
    args = {"merchant": page.slug, "number": number, "lang": page.language}
    return InvoiceRow(
        number=number,
        credit_note=invoice["kind"] == "credit_note",
        status=invoice["status"],
        issued_at=invoice["issued_at"],
        due_at=invoice.get("due_at"),
        total=money(page, invoice["gross"], invoice["currency"]),
        outstanding=money(page, outstanding, invoice["currency"]) if outstanding > 0 else None,
        pdf_url=url_for(".invoice_pdf", **args),
        pay_url=url_for(".pay", **args) if can_pay and outstanding > 0 else None,
    )
