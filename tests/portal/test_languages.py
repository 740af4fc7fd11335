"""The portal in each merchant language: every page translated, actions answered in it.

For German and Swedish, no built-in English sentence may show on any portal
page: the catalog's own msgids are searched for in the rendered text.
"""

from __future__ import annotations

import re
from functools import cache
from html import unescape
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.mail import Mailbox, text_of
from tests.helpers.orders import stored
from tests.helpers.portal import csrf_token, sign_in, sign_in_by_mail, sign_up

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    "portal",
    "portal/subscription/change",
    "portal/subscription/cancel",
    "portal/invoices",
    "portal/payment-methods",
    "portal/details",
    "portal/help",
)
NOTICES = {
    "cancel": "Your subscription has been canceled.",
    "cancel_scheduled": (
        "Your cancellation has been received. We have sent you a confirmation by email."
    ),
}
CUSTOMERS = [("acme", "de"), ("acme", "en"), ("stromma", "sv"), ("thistle", "de")]


@cache
def translated(language: str) -> dict[str, str]:
    """The catalog's sentences whose translation differs from the English, by msgid."""
    with (ROOT / "locales" / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        message.id: message.string
        for message in catalog
        if isinstance(message.id, str)
        and isinstance(message.string, str)
        and message.string
        and message.string != message.id
        and "%(" not in message.id
        and "<" not in message.id
        and len(message.id.split()) >= 3
    }


def words(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def signed_in(
    app: Flask, merchant: str, language: str, mailbox: Mailbox | None = None
) -> FlaskClient:
    """A customer speaking ``language``, signed in (by mail when ``mailbox`` is given)."""
    client = app.test_client()
    email = f"{language}-{merchant}@example.com"
    sign_up(client, merchant, email, language)
    if mailbox is None:
        sign_in(app, client, merchant, email, language)
    else:
        sign_in_by_mail(client, mailbox, merchant, email, language)
    return client


@pytest.mark.parametrize(("merchant", "language"), CUSTOMERS)
def test_every_portal_page_speaks_the_language(app: Flask, merchant: str, language: str) -> None:
    client = signed_in(app, merchant, language)
    sentences = translated(language) if language != "en" else {}
    shown = 0
    for path in PAGES:
        response = client.get(f"/{merchant}/{path}?lang={language}")
        if response.status_code == 404:  # the merchant does not offer it
            continue
        html = response.get_data(as_text=True)
        assert response.status_code == 200, (path, html[:500])
        assert f'<html lang="{language}"' in html
        text = words(html)
        leaked = [english for english in sentences if english in text]
        assert not leaked, (path, leaked)
        shown += 1
    assert shown >= 5


@pytest.mark.parametrize(("merchant", "language"), [("acme", "de"), ("stromma", "sv")])
def test_a_cancellation_is_confirmed_in_the_language(
    app: Flask, mailbox: Mailbox, merchant: str, language: str
) -> None:
    client = signed_in(app, merchant, language, mailbox)  # the sign-in mail is checked too
    cancel = f"/{merchant}/portal/subscription/cancel?lang={language}"
    form = client.get(cancel).get_data(as_text=True)
    subscription = re.search(r'name="subscription" value="([^"]+)"', form)
    reasons = re.findall(r'name="reason"[^>]*value="([^"]+)"', form)
    data = {"csrf_token": csrf_token(form), "reason": reasons[0] if reasons else ""}
    if subscription:
        data["subscription"] = subscription.group(1)
    preview = client.post(cancel, data=data).get_data(as_text=True)
    confirm = {
        name: unescape(value)
        for name, value in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', preview)
    }
    done = client.post(cancel, data={**confirm, "step": "confirm"})
    assert done.status_code == 303, done.get_data(as_text=True)[:800]
    overview = words(client.get(done.headers["Location"]).get_data(as_text=True))
    notice = NOTICES[re.search(r"done=(\w+)", done.headers["Location"]).group(1)]
    assert translated(language)[notice] in overview
    subscriptions = stored(app, merchant, "subscriptions")
    assert any(s["cancel_at_period_end"] or s["status"] == "canceled" for s in subscriptions)
    mails = [m for m in mailbox.messages if m["To"].startswith(f"{language}-{merchant}")]
    assert not any("Your cancellation" in (m["Subject"] or "") for m in mails)
    assert all(
        english not in text_of(mail)
        for mail in mails
        for english in translated(language)
        if len(english) > 30
    )


def test_the_leak_check_sees_english_sentences(app: Flask) -> None:
    """The check above would catch an untranslated sentence: English pages are full of them."""
    client = signed_in(app, "acme", "en")
    text = words(client.get("/acme/portal/details?lang=en").get_data(as_text=True))
    assert len([english for english in translated("de") if english in text]) >= 3
