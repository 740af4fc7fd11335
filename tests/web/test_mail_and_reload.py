"""The confirmation mail over real SMTP, and a merchant file edited while serving."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from tests.helpers.app import DEMO_CONFIG, mails_sent, make_app
from tests.helpers.mail import Mailbox
from tests.helpers.orders import VALID, open_form, stored


def test_confirmation_mail_goes_out_over_smtp_in_the_customers_language(
    instance_dir: Path, mailbox: Mailbox
) -> None:
    inbox = mailbox
    app = make_app(instance_dir, PORTICO_SMTP_URL=mailbox.smtp_url)
    client = app.test_client()
    token = open_form(client, "stromma", "?lang=sv")
    response = client.post("/stromma/order?lang=sv", data={**VALID["stromma"], "form_token": token})
    assert response.status_code == 303
    mails_sent(app)
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "sven@example.se"
    assert "Strömma Media AB" in mail["From"]
    assert mail.get_body(("plain",)).get_content()
    assert mail.get_body(("html",)).get_content().lstrip().startswith("<!doctype html>")
    assert not (instance_dir / "outbox").exists()  # with SMTP set, nothing is written as .eml
    outbox = stored(app, "stromma", "outbox", kind="mail")
    assert [entry["sent_at"] is not None for entry in outbox] == [True]


def test_unreachable_smtp_keeps_the_signup_and_the_mail_pending(instance_dir: Path) -> None:
    # Nothing listens on the discard port.
    app = make_app(instance_dir, PORTICO_SMTP_URL="smtp://127.0.0.1:9")
    client = app.test_client()
    token = open_form(client, "stromma")
    response = client.post("/stromma/order", data={**VALID["stromma"], "form_token": token})
    assert response.status_code == 303
    mails_sent(app)
    assert len(stored(app, "stromma", "customers")) == 1
    [entry] = stored(app, "stromma", "outbox", kind="mail")
    assert entry["sent_at"] is None and entry["attempts"] == 1


def test_an_edited_merchant_file_is_served_without_restart(
    tmp_path: Path, instance_dir: Path
) -> None:
    merchants = tmp_path / "config" / "merchants"
    shutil.copytree(DEMO_CONFIG / "merchants", merchants)
    app = make_app(instance_dir, tmp_path / "config")
    client = app.test_client()
    assert "Start watching today" in client.get("/stromma/order?lang=en").get_data(as_text=True)
    form_before = app.extensions["portico"].order_forms._classes.copy()
    path = merchants / "stromma.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Start watching today", "Watch tonight"),
        encoding="utf-8",
    )
    time.sleep(0.01)
    html = client.get("/stromma/order?lang=en").get_data(as_text=True)
    assert "Watch tonight" in html
    classes = app.extensions["portico"].order_forms._classes
    assert len(classes) == len(form_before) + 1  # a new config version builds a new form class
    path.write_text("merchant: [broken\n", encoding="utf-8")
    assert client.get("/stromma/order").status_code == 503
    assert client.get("/acme/order").status_code == 200


def test_a_signup_sends_only_its_own_mail(app, client) -> None:
    token = open_form(client, "stromma")
    assert (
        client.post("/stromma/order", data={**VALID["stromma"], "form_token": token}).status_code
        == 303
    )
    mails_sent(app)
    with app.extensions["portico"].store.write("stromma") as tx:  # a mail someone else queued
        [first] = tx.collection("outbox").find(kind="mail")
        tx.collection("outbox").insert(
            {**first, "id": "out_other", "customer_id": "cus_other", "sent_at": None}
        )
    token = open_form(client, "stromma")
    data = {**VALID["stromma"], "email": "second@example.se", "form_token": token}
    assert client.post("/stromma/order", data=data).status_code == 303
    mails_sent(app)
    pending = [
        e["id"] for e in stored(app, "stromma", "outbox", kind="mail") if e["sent_at"] is None
    ]
    assert pending == ["out_other"]
