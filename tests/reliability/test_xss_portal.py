"""XSS sweep of the portal: a payload in every merchant text and customer field it shows.

For each payload of :mod:`tests.helpers.xss`, merchant ``xss-<n>`` carries
it in its plan names and features, FAQ, cancel reasons, retention coupon,
support contact and address (:mod:`tests.helpers.xss_portal`); the
customer carries it in every free-text field (from the order page, the
details page, and straight through the store for a field they cannot edit)
and sends it as a search query, a feedback comment and a cancellation
comment. Every portal page, the cancellation mail and the invoice PDF must
show it as text only.
"""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from app.outbox.mails import render_mail
from tests.helpers.app import DEMO_CONFIG, make_app
from tests.helpers.orders import stored
from tests.helpers.portal import csrf_token
from tests.helpers.xss import CASES, MERCHANTS, check_mail, one_line, page
from tests.helpers.xss_portal import (
    STORE_ONLY,
    join_with_payloads,
    signed_in,
    write_portal_merchants,
)

# Keys of a PDF dictionary that run script or act on their own (on opening, on a page
# event), and the only action types an invoice may hold: links out and jumps inside.
ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/Launch", "/SubmitForm", "/ImportData", "/RichMedia"}
SAFE_ACTIONS = {"/URI", "/GoTo"}
ACTION_KEYS = {"/A", "/OpenAction", "/Next"}  # where a dictionary is an action


@pytest.fixture(scope="module")
def xss_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    config = tmp_path_factory.mktemp("config")
    write_portal_merchants(config, DEMO_CONFIG)
    return make_app(
        tmp_path_factory.mktemp("instance"),
        config,
        PORTICO_SIGNUP_RATE_LIMIT="1000000 per minute",
    )


def send(client: FlaskClient, url: str, payload: str, status: int, **data: str) -> str:
    """Post a portal form with the session's form token; the answer must be inert."""
    token = csrf_token(client.get(url.replace("/feedback", "")).get_data(as_text=True))
    if status == 303:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 303, response.get_data(as_text=True)[:2000]
        return page(client, response.headers["Location"], payload)
    return page(client, url, payload, status=status, data={"csrf_token": token, **data})


def squeezed(text: str) -> str:
    return "".join(text.split())


def pdf_problems(reader: PdfReader) -> list[str]:
    """Everything in the PDF's object graph that could run or act by itself."""
    problems: list[str] = []
    seen: set[int] = set()

    def walk(node: object, key: str = "") -> None:
        if isinstance(node, IndirectObject):
            if node.idnum in seen:
                return
            seen.add(node.idnum)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            problems.extend(f"a {key} entry" for key in ACTIVE_KEYS & set(node))
            is_action = key in ACTION_KEYS or node.get("/Type") == "/Action"
            if is_action and node.get("/S") not in SAFE_ACTIONS:
                problems.append(f"an action {node.get('/S')}")
            uri = str(node.get("/URI", "https:"))
            if not uri.startswith(("https:", "http:", "mailto:")):
                problems.append(f"a link to {uri!r}")
            for name, child in node.items():
                walk(child, name)
        elif isinstance(node, ArrayObject):
            for child in node:
                walk(child)

    walk(reader.trailer)
    # fpdf2 always opens at the first page, fitted to its width: a destination, not an action.
    opening = reader.trailer["/Root"].get("/OpenAction")
    if opening is not None and not isinstance(opening.get_object(), ArrayObject):
        problems.append(f"an open action {opening}")
    return problems


def check_pdf(content: bytes, payload: str) -> None:
    """The payload is printed as literal text; nothing in the PDF runs or acts by itself."""
    reader = PdfReader(io.BytesIO(content))
    assert pdf_problems(reader) == []
    text = "".join(page.extract_text() for page in reader.pages)
    assert squeezed(one_line(payload)) in squeezed(text)


@pytest.mark.parametrize(("slug", "payload"), CASES, ids=MERCHANTS)
def test_portal_pages_mail_and_pdf_show_payloads_as_text(
    xss_app: Flask, slug: str, payload: str
) -> None:
    customer = join_with_payloads(xss_app, slug, payload)
    assert customer["fields"][STORE_ONLY] == payload
    client = signed_in(xss_app, slug)
    base = f"/{slug}/portal"
    query = quote(payload, safe="")
    shown = str(escape(payload))

    overview = page(client, f"{base}?lang=en", payload)
    assert "o&#39;neil" in overview  # the customer's address, escaped
    page(client, f"{base}?lang=de", payload)
    page(client, f"{base}?lang=en&done={query}", payload)

    change = f"{base}/subscription/change?lang=en"
    page(client, change, payload)
    send(client, change, payload, 200, plan="basic", step="preview")
    send(client, change, payload, 422, plan=payload, step="preview")

    invoices = page(client, f"{base}/invoices?lang=en", payload)
    numbers = sorted(set(re.findall(r"/invoices/([^/\"]+)\.pdf", invoices)))
    assert numbers, "the sign-up's invoice is listed"
    for number in numbers:
        response = client.get(f"{base}/invoices/{number}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        check_pdf(response.data, payload)
    page(client, f"{base}/invoices/{query}.pdf", payload, status=404)
    page(client, f"{base}/payment-methods?lang=en", payload)

    details = f"{base}/details?lang=en"
    html = page(client, details, payload)
    assert shown in html  # the read-only field only the store filled, among others
    edits = {"full_name": payload, "company": payload, "notes": payload, "kind": "b"}
    send(client, details, payload, 303, **edits)  # saved, with the feedback prompt
    refused = send(client, details, payload, 422, **edits, code=payload)
    assert 'id="error-summary"' in refused  # the pattern message (a payload) is listed
    assert customer["id"] in {c["id"] for c in stored(xss_app, slug, "customers")}

    for help_page in (f"{base}/help?lang=en", f"/{slug}/portal/help?lang=en&q={query}"):
        assert shown in page(client, help_page, payload)  # FAQ, support phone, the query
        page(xss_app.test_client(), help_page, payload)  # signed out: the public layout
    send(client, f"{base}/feedback?lang=en", payload, 200, rating="5", comment=payload,
         action="details")  # fmt: skip
    send(client, f"{base}/feedback?lang=en", payload, 422, rating=payload, comment=payload,
         action="details")  # fmt: skip

    cancel = f"{base}/subscription/cancel?lang=en"
    assert shown in page(client, cancel, payload)  # reasons and the retention offer
    send(client, cancel, payload, 422, reason=payload, comment=payload, step="preview")
    html = send(client, cancel, payload, 200, reason="price", comment=payload, step="preview")
    at = re.search(r'name="at" value="([^"]+)"', html)
    assert at
    send(client, cancel, payload, 303, reason="price", comment=payload, step="confirm",
         at=at.group(1))  # fmt: skip

    mails = [
        entry
        for entry in stored(xss_app, slug, "outbox")
        if entry.get("kind") == "mail" and entry.get("template") == "cancellation_confirmation"
    ]
    assert len(mails) == 1
    loaded = xss_app.extensions["portico"].merchants.get(slug)
    with xss_app.test_request_context():
        check_mail(
            render_mail(
                loaded, mails[0], "http://portico.test", xss_app.extensions["portico"].billing
            ),
            payload,
        )


def test_the_pdf_check_catches_a_script() -> None:
    """The PDF check is only as good as its walk: script on opening or in a link is caught."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica")
    pdf.cell(text="<script>alert(1)</script>", link="https://shop.example/")
    clean = bytes(pdf.output())
    check_pdf(clean, "<script>alert(1)</script>")
    opening = re.search(rb"/OpenAction \[[^]]*\]", clean)
    assert opening
    for hostile in (
        b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>",
        b"/OpenAction << /S /Launch /F (calc.exe) >>",
    ):
        # Same length, so the cross-reference table stays valid enough for pypdf.
        patched = clean.replace(opening.group(0), hostile.ljust(len(opening.group(0))))
        assert pdf_problems(PdfReader(io.BytesIO(patched))), hostile
    patched = clean.replace(b"https://shop.example/", b"javascript:alert(1)//")
    assert pdf_problems(PdfReader(io.BytesIO(patched)))
