"""Helpers of the portal tests: a real SMTP server's mailbox, sign-up and sign-in steps."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import DEMO_CONFIG
from tests.web.test_order_page import VALID, open_form

LINK = re.compile(r"https?://\S+/portal/verify/[A-Za-z0-9_-]+\?lang=[a-z]{2}")
CODE = re.compile(r"^(\d{4} \d{4})\r?$", re.M)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler keeping every message it receives, in order."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.delay = 0.0  # seconds each delivery takes (a slow mail server)
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            import asyncio

            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._changed:
            self.messages.append(message)  # type: ignore[arg-type]
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def signin_mails(self, to: str | None = None) -> list[EmailMessage]:
        with self._changed:
            mails = [m for m in self.messages if LINK.search(text_of(m))]
        return [m for m in mails if to is None or m["To"].lower() == to.lower()]

    def wait_for_signin(self, to: str, count: int = 1, timeout: float = 30) -> EmailMessage:
        """The ``count``-th sign-in mail to ``to``, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(mails := self.signin_mails(to)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no sign-in mail #{count} to {to} within {timeout} s")
                self._changed.wait(left)
        return mails[count - 1]


class Clock:
    """A clock the tests move forward; the portal services read it."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part else ""


def link_and_code(message: EmailMessage) -> tuple[str, str]:
    """The confirmation page's path (with its query) and the code, from a sign-in mail."""
    text = text_of(message)
    link = LINK.search(text)
    code = CODE.search(text)
    assert link and code, text
    parts = urlsplit(link.group(0))
    return f"{parts.path}?{parts.query}", code.group(1)


def form_token(html: str) -> str:
    match = re.search(r'name="form_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def csrf_token(html: str) -> str:
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


def sign_in(
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


def stored(app: Flask, merchant: str, collection: str) -> list[dict]:
    with app.extensions["portico"].store.read(merchant) as tx:
        return list(tx.collection(collection).all())


def drain(app: Flask) -> None:
    """Wait until the background sign-in work of every request so far is done."""
    app.extensions["portico.signin_mailer"].drain()


def portal_services(app: Flask):
    return app.extensions["portico"].portal


def signed_in_client(app: Flask, mailbox: Mailbox, merchant: str, email: str) -> FlaskClient:
    """A new browser that signed up at ``merchant`` with ``email`` (in English) and signed in."""
    client = app.test_client()
    sign_up(client, merchant, email)
    sign_in(client, mailbox, merchant, email)
    return client


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


def edited_config(tmp_path: Path, merchant: str, old: str, new: str) -> Path:
    """A copy of the demo config whose ``merchant`` YAML has ``old`` replaced by ``new``."""
    target = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, target)
    path = target / "merchants" / f"{merchant}.yaml"
    source = path.read_text(encoding="utf-8")
    assert source.count(old) == 1, old
    path.write_text(source.replace(old, new), encoding="utf-8")
    return target
