"""The customer portal as a customer uses it: sign up, sign in (by mail, or with a token
the services issue), its pages and forms, and what they stored.

Three ways in, each for its tests:

- :func:`sign_in_by_mail`: the whole round trip through a real SMTP server, for
  the tests about the sign-in mail (they take the ``mailbox`` fixture);
- :func:`sign_in`: the same kind of token the mail carries, issued by the
  container's sign-in service, then the link opened and confirmed as a browser
  does: for the tests about what a signed-in customer sees and changes;
- :func:`sign_in_directly`: a link as ``portico portal-link`` prints it.
"""

from __future__ import annotations

import re
import shutil
from html import unescape
from pathlib import Path
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app.portal.tokens import DIRECT
from tests.helpers.app import DEMO_CONFIG
from tests.helpers.mail import Mailbox, link_and_code
from tests.helpers.orders import VALID, form_token, open_form, stored

# acme's details page, and what its form holds for the customer of ``VALID["acme"]``.
DETAILS = "/acme/portal/details?lang=en"
SAVED = {
    "company": "Kunde GmbH",
    "vat_id": "DE136695976",
    "first_name": "Jana",
    "last_name": "Schmidt",
    "street": "Unter den Linden 5",
    "country": "DE",
    "postal_code": "10117",
    "city": "Berlin",
    "phone": "+49301234567",
}
# An optional consent for acme's order page (it gives the portal a preferences page).
NEWSLETTER = (
    "    - name: newsletter\n"
    "      label: {de: 'Ja, schickt mir den <a href=\"https://acme.example/news\">Newsletter</a>.',"
    " en: 'Yes, send me the <a href=\"https://acme.example/news\">newsletter</a>.'}\n"
)


def csrf_token(html: str) -> str:
    """The signed-in pages' session form token."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no session form token"
    return match.group(1)


def sign_up(client: FlaskClient, merchant: str, email: str, language: str = "en") -> str:
    """A customer through the real order page; returns the customer number."""
    token = open_form(client, merchant, f"?lang={language}")
    response = client.post(
        f"/{merchant}/order?lang={language}",
        data={**VALID[merchant], "email": email, "form_token": token},
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    complete = client.get(response.headers["Location"]).get_data(as_text=True)
    number = re.search(r"C-\d{6}", complete)
    assert number
    return number.group(0)


def ask_for_link(
    client: FlaskClient,
    merchant: str,
    email: str,
    language: str = "en",
    *,
    next: str | None = None,
    headers: dict[str, str] | None = None,
    remote_addr: str = "127.0.0.1",
) -> TestResponse:
    """Ask for a sign-in mail from the sign-in page, as a browser at ``remote_addr``."""
    query = f"?lang={language}" + (f"&next={quote(next)}" if next else "")
    html = client.get(f"/{merchant}/portal{query}").get_data(as_text=True)
    if 'name="form_token"' not in html:  # signed in already: the overview has no sign-in form
        html = client.get(f"/{merchant}/portal/code{query}").get_data(as_text=True)
    data = {"email": email, "form_token": form_token(html)}
    if next:
        data["next"] = next
    return client.post(
        f"/{merchant}/portal/login?lang={language}",
        data=data,
        headers=headers,
        environ_base={"REMOTE_ADDR": remote_addr},
    )


def confirm(client: FlaskClient, path: str, **kwargs) -> TestResponse:
    """Open a sign-in link and press its button."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    return client.post(path, data={"form_token": form_token(page.get_data(as_text=True))}, **kwargs)


def sign_in_by_mail(
    client: FlaskClient,
    mailbox: Mailbox,
    merchant: str,
    email: str,
    language: str = "en",
    *,
    count: int = 1,
) -> TestResponse:
    """The whole round trip: ask, read the mail, open the link, press the button."""
    assert ask_for_link(client, merchant, email, language).status_code == 200
    path, _ = link_and_code(mailbox.wait_for_signin(email, count))
    response = confirm(client, path)
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def sign_in(
    app: Flask, client: FlaskClient, merchant: str, email: str, language: str = "en"
) -> TestResponse:
    """Sign in with the link a sign-in mail would carry, without sending the mail: the
    container's sign-in service issues the token (a mail token, with a code, resent at
    most once a minute); the browser opens the link and presses the button."""
    issued = portal_services(app).tokens.issue(merchant, email, language=language)
    assert issued is not None, f"a sign-in mail went to {email} less than a minute ago"
    response = confirm(client, f"/{merchant}/portal/verify/{issued.token}?lang={language}")
    assert response.status_code == 303, response.get_data(as_text=True)
    return response


def sign_in_directly(app: Flask, client: FlaskClient, merchant: str, email: str) -> None:
    """Sign in with a link as ``portico portal-link`` prints it."""
    issued = portal_services(app).tokens.issue(merchant, email, channel=DIRECT)
    response = confirm(client, f"/{merchant}/portal/verify/{issued.token}?lang=en")
    assert response.status_code == 303, response.get_data(as_text=True)


def signed_in_client(app: Flask, merchant: str, email: str) -> FlaskClient:
    """A new browser that signed up at ``merchant`` with ``email`` (in English) and signed in."""
    client = app.test_client()
    sign_up(client, merchant, email)
    sign_in(app, client, merchant, email)
    return client


def drain(app: Flask) -> None:
    """Wait until the background sign-in work of every request so far is done."""
    app.extensions["portico.signin_mailer"].drain()


def portal_services(app: Flask):
    return app.extensions["portico"].portal


def page_token(client: FlaskClient, path: str) -> str:
    """The session's form token, from the page at ``path``."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return csrf_token(response.get_data(as_text=True))


def customer_of(app: Flask, merchant: str, email: str) -> dict:
    """The one stored customer with this address."""
    found = [c for c in stored(app, merchant, "customers") if c["email_key"] == email.casefold()]
    assert len(found) == 1, found
    return found[0]


def audits(app: Flask, merchant: str, action: str) -> list[dict]:
    return [a for a in stored(app, merchant, "audit") if a["action"] == action]


def events(app: Flask, merchant: str, event_type: str) -> list[dict]:
    return [e for e in stored(app, merchant, "outbox") if e.get("type") == event_type]


def edited_config(tmp_path: Path, merchant: str, old: str, new: str) -> Path:
    """A copy of the demo config whose ``merchant`` YAML has ``old`` replaced by ``new``."""
    target = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, target)
    path = target / "merchants" / f"{merchant}.yaml"
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, old
    path.write_text(source.replace(old, new), encoding="utf-8")
    return target


def error_summary(html: str) -> list[str]:
    """The messages listed in the page's error summary."""
    block = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(0), re.S) if block else []


def subscription_of(app: Flask, merchant: str, email: str) -> dict:
    """The one subscription of the customer with this address, as stored."""
    key = email.casefold()
    customers = [c for c in stored(app, merchant, "customers") if c["email"].casefold() == key]
    assert len(customers) == 1, customers
    found = [
        s for s in stored(app, merchant, "subscriptions") if s["customer_id"] == customers[0]["id"]
    ]
    assert len(found) == 1, found
    return found[0]


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def text(html: str) -> str:
    """A page's words, tags removed and whitespace collapsed, for asserting sentences."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def post(client: FlaskClient, path: str, data: dict[str, str], token_from: str) -> TestResponse:
    """Send a form from the page at ``token_from`` (its session form token included)."""
    return client.post(path, data={"csrf_token": csrf_token(page(client, token_from)), **data})


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden input {name}"
    return unescape(match.group(1))
