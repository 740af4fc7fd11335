"""Billing's mails: produced by real sign-ups and billing runs, rendered from the theme in
the customer's language, delivered once to the file outbox, one broken entry never
blocking the others; and ``portico mail deliver``."""

from __future__ import annotations

import logging
import random
import re
import threading
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from babel.dates import format_date
from click.testing import CliRunner
from flask import Flask, current_app

import app.outbox.notifications
from app.cli import main
from app.core.clock import parse_iso, utc_now
from app.outbox import mails
from app.outbox.mails import MAX_ATTEMPTS, Delivery, deliver_pending
from app.outbox.notifications import mail_notification
from app.settings import THEMES_DIR
from app.store import files
from tests.helpers.app import mails_sent, make_app
from tests.helpers.billing import BASE, GOOD_CARD
from tests.helpers.orders import open_form, stored

SLUG = "shop"
MERCHANT = BASE["merchant"]["name"]  # "Grüße & Söhne GmbH": escaping shows
CARD = {"card_expiry": "12 / 30", "card_cvc": "123"}
NO_FUNDS = {"card_number": "4000 0000 0000 9995", **CARD}  # verified at sign-up, then declined
REPLY_TO = BASE["merchant"]["email"]  # no portal.support.email: replies go to the merchant
TEMPLATES = (
    "signup_confirmation",
    "invoice_issued",
    "payment_failed",
    "payment_succeeded",
    "payment_reminder",
    "trial_ending",
    "subscription_canceled",
)
# Built-in strings that are translated already: every mail carries them.
QUESTIONS = {
    "en": "Questions? Simply reply to this email.",
    "de": "Fragen? Antworten Sie einfach auf diese E-Mail.",
    "sv": "Frågor? Svara bara på det här mejlet.",
}
PORTAL_BUTTON = {
    "en": "Open the customer portal",
    "de": "Kundenportal öffnen",
    "sv": "Öppna kundportalen",
}
# basic: 10.00 + 19 % VAT; trial: 20.00 + 50.00 setup fee + 19 % VAT; pro: 30.00 + 19 % VAT
AMOUNTS = {
    "en": ("€11.90", "€83.30", "€35.70"),
    "de": ("11,90\xa0€", "83,30\xa0€", "35,70\xa0€"),
    "sv": ("11,90\xa0€", "83,30\xa0€", "35,70\xa0€"),
}


@pytest.fixture
def shop_app(tmp_path: Path, instance_dir: Path) -> Flask:
    """A merchant in English, German and Swedish with card, SEPA and invoice payers."""
    merchants = tmp_path / "config" / "merchants"
    merchants.mkdir(parents=True)
    (merchants / f"{SLUG}.yaml").write_text(
        yaml.safe_dump(BASE, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return make_app(instance_dir, tmp_path / "config")


def deliver_all(merchant: str) -> list[Delivery]:
    """The current app's pending mails of ``merchant``, sent as ``portico mail deliver`` does."""
    container = current_app.extensions["portico"]
    return container.mails.deliver_all(container.merchants, merchant)


def sign_up(app: Flask, language: str, **data: str) -> dict:
    """A sign-up through the real order page; returns the new subscription."""
    client = app.test_client()
    token = open_form(client, SLUG, f"?lang={language}")
    response = client.post(f"/{SLUG}/order?lang={language}", data={**data, "form_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    mails_sent(app)
    return stored(app, SLUG, "subscriptions")[-1]


def live_through_billing(app: Flask, language: str) -> None:
    """Customers whose first weeks write every mail billing knows, delivered at the end:

    - a card payer in a free trial whose card is declined, then pays with a new card,
      and cancels at the end of the period;
    - an invoice payer who does not pay: reminder, next invoice, canceled for non-payment;
    - a card payer who downgrades at once and gets a credit note.
    """
    container = app.extensions["portico"]
    config = container.merchants.get(SLUG).config
    billing = container.billing
    trial = sign_up(
        app, language, plan="trial", payment_method="card", email="ana@example.com", **NO_FUNDS
    )
    sign_up(app, language, plan="basic", payment_method="invoice", email="bo@example.com")
    pro = sign_up(
        app,
        language,
        plan="pro",
        payment_method="card",
        email="cy@example.com",
        card_number="4242 4242 4242 4242",
        **CARD,
    )
    billing.change_plan(SLUG, config, pro["customer_id"], pro["id"], "basic")
    trial_end = parse_iso(trial["trial_end"])
    assert billing.bill_until(SLUG, config, trial_end).errors == []  # reminder, invoice, decline
    billing.add_payment_method(SLUG, config, trial["customer_id"], "card", GOOD_CARD)
    billing.cancel(SLUG, config, trial["customer_id"], trial["id"])
    assert billing.bill_until(SLUG, config, trial_end + timedelta(days=60)).errors == []
    with app.app_context():
        [delivery] = deliver_all(SLUG)
    assert (delivery.failed, delivery.given_up) == (0, 0)


def delivered(instance_dir: Path) -> dict[str, EmailMessage]:
    """The mails in the file outbox by the id of the outbox entry they were made from."""
    found = {}
    for path in (instance_dir / "outbox").glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.strict)
        entry_id = re.search(r"\.(out_[0-9a-f]+)@", message["Message-ID"]).group(1)
        assert entry_id not in found, "a mail was sent twice"
        found[entry_id] = message
    return found


def local_date(iso: str, language: str) -> str:
    """A stored moment as the mails (and the invoice PDF) write it: the merchant's day."""
    day = parse_iso(iso).astimezone(ZoneInfo(BASE["merchant"]["timezone"])).date()
    return format_date(day, "medium", locale=language)


def test_every_template_billing_writes_exists_in_the_default_theme() -> None:
    documented = set(re.findall(r"^- ``(\w+)``:", app.outbox.notifications.__doc__, re.M))
    assert documented | {"signup_confirmation"} == set(TEMPLATES)
    for template in TEMPLATES:
        for suffix in ("txt", "html"):
            assert (
                THEMES_DIR / "default" / "templates" / "emails" / f"{template}.{suffix}"
            ).is_file()


@pytest.mark.parametrize("language", ["en", "de", "sv"])
def test_every_billing_mail_goes_out_once_in_the_customers_language(
    shop_app: Flask, instance_dir: Path, language: str
) -> None:
    live_through_billing(shop_app, language)
    entries = stored(shop_app, SLUG, "outbox", kind="mail")
    assert {entry["template"] for entry in entries} == set(TEMPLATES)
    assert all(entry["sent_at"] and entry["attempts"] == 1 for entry in entries)
    sent = delivered(instance_dir)
    assert set(sent) == {entry["id"] for entry in entries}
    small, trial_total, pro_total = AMOUNTS[language]

    for entry in entries:
        mail, data = sent[entry["id"]], entry["data"]
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        subject = mail["Subject"]
        assert mail["To"] == entry["to"]
        assert MERCHANT in mail["From"] and MERCHANT in text
        assert mail["Date"].datetime.tzinfo is not None  # RFC 5322 date, parsed strictly
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["Reply-To"].addresses[0].addr_spec == REPLY_TO
        assert mail["Content-Language"] == language
        assert "Grüße &amp; Söhne GmbH" in html and "Grüße & Söhne" not in html
        assert f'<html lang="{language}">' in html
        assert QUESTIONS[language] in text and QUESTIONS[language] in html
        assert PORTAL_BUTTON[language] in html
        assert "http://portico.test/shop/portal" in text
        assert 'href="http://portico.test/shop/portal"' in html
        assert data["customer_number"] in text or entry["template"] != "signup_confirmation"

        pdfs = list(mail.iter_attachments())
        assert len(pdfs) == len(entry["attachments"])
        for part, attachment in zip(pdfs, entry["attachments"], strict=True):
            assert part.get_content_type() == "application/pdf"
            assert part.get_filename() == f"{attachment['number']}.pdf"
            assert part.get_content().startswith(b"%PDF")

        number = data.get("number") or data.get("invoice_number")
        template = entry["template"]
        if template == "signup_confirmation":
            assert MERCHANT in subject
            if data["invoice_id"]:
                assert [a["number"] for a in entry["attachments"]] == [number]
                assert number in text and number in html
            if data["plan_id"] == "basic":  # the invoice payer: the first invoice, to transfer
                assert small in text and small in html
                assert local_date(data["due_at"], language) in text
            elif data["plan_id"] == "pro":  # paid by card at sign-up
                assert pro_total in text and data["invoice_status"] == "paid"
            elif data["trial_end"]:
                assert local_date(data["trial_end"], language) in text
        elif template == "invoice_issued":
            assert number in subject and MERCHANT in subject
            assert number in text and number in html
            assert [a["number"] for a in entry["attachments"]] == [number]
            if data["kind"] == "invoice":
                assert local_date(data["due_at"], language) in text
            if data["kind"] == "invoice":
                assert small in text or trial_total in text
        elif template in ("payment_failed", "payment_succeeded"):
            assert number in subject and number in text
            assert trial_total in text and trial_total in html
            if template == "payment_failed":
                assert local_date(data["next_attempt_at"], language) in text
        elif template == "payment_reminder":
            assert number in subject and number in text
            assert small in text and local_date(data["due_at"], language) in text
            assert [a["number"] for a in entry["attachments"]] == [number]
        elif template == "trial_ending":
            date = local_date(data["trial_end"], language)
            assert MERCHANT in subject and date in subject and date in text
            assert "Trial" in text  # the plan's name
        elif template == "subscription_canceled":
            assert MERCHANT in subject
            assert local_date(data["ended_at"], language) in text
            assert "http://portico.test/shop/order" in text

    templates = sorted(entry["template"] for entry in entries)
    assert templates.count("subscription_canceled") == 2  # asked for, and for non-payment
    kinds = {e["data"]["kind"] for e in entries if e["template"] == "invoice_issued"}
    assert kinds == {"invoice", "credit_note"}

    with shop_app.app_context():
        [again] = deliver_all(SLUG)
    assert (again.sent, again.failed) == (0, 0)
    assert len(list((instance_dir / "outbox").glob("*.eml"))) == len(entries)


def pending_mails(app: Flask, count: int) -> list[dict]:
    """``count`` confirmations of one real sign-up, written as if not sent yet."""
    sign_up(app, "de", plan="basic", payment_method="invoice", email="bo@example.com")
    customer = stored(app, SLUG, "customers")[-1]
    [confirmation] = stored(app, SLUG, "outbox", kind="mail")
    with app.extensions["portico"].store.write(SLUG) as tx:
        return [
            tx.collection("outbox").insert(
                mail_notification(
                    "signup_confirmation",
                    customer,
                    utc_now(),
                    confirmation["data"],
                    confirmation["attachments"],
                )
            )
            for _ in range(count)
        ]


def test_parallel_workers_never_send_a_mail_twice(shop_app: Flask, instance_dir: Path) -> None:
    entries = pending_mails(shop_app, 6)
    start = threading.Barrier(3)
    results = []

    def worker() -> None:
        with shop_app.app_context():
            start.wait()
            results.extend(deliver_all(SLUG))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result.sent for result in results) == len(entries)
    sent = delivered(instance_dir)  # fails on a duplicate
    assert {entry["id"] for entry in entries} <= set(sent)


def test_a_batch_is_claimed_in_one_write_and_marked_in_another(
    shop_app: Flask, instance_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = pending_mails(shop_app, 5)
    writes = []
    real_write = files.atomic_write
    monkeypatch.setattr(files, "atomic_write", lambda *a: writes.append(a) or real_write(*a))
    with shop_app.app_context():
        [delivery] = deliver_all(SLUG)
    assert delivery.sent == len(entries)
    assert len(writes) == 2  # not one per mail: each is a rewrite of the merchant's file
    assert all(e["sent_at"] for e in stored(shop_app, SLUG, "outbox", kind="mail"))
    assert {entry["id"] for entry in entries} <= set(delivered(instance_dir))


def test_mails_sent_but_not_marked_are_sent_again(
    shop_app: Flask, instance_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented contract: at least once. A crash (here a full disk) between
    sending a batch and marking it sends the batch again once its lease has run out."""
    entries = pending_mails(shop_app, 2)
    eml = instance_dir / "outbox"
    before = len(list(eml.glob("*.eml")))  # the sign-up's own confirmation
    real_write = files.atomic_write
    calls = []

    def full_disk_when_marking(*args):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_write(*args)

    monkeypatch.setattr(files, "atomic_write", full_disk_when_marking)
    with shop_app.app_context(), pytest.raises(OSError):
        deliver_all(SLUG)
    monkeypatch.setattr(files, "atomic_write", real_write)
    assert len(list(eml.glob("*.eml"))) == before + len(entries)
    pending = [e for e in stored(shop_app, SLUG, "outbox", kind="mail") if e["sent_at"] is None]
    assert {e["id"] for e in entries} <= {e["id"] for e in pending}
    container = shop_app.extensions["portico"]
    later = utc_now() + mails.CLAIM_LEASE + timedelta(seconds=1)
    with shop_app.app_context():
        again = deliver_pending(
            container.store,
            container.merchants.get(SLUG),
            container.mailer,
            "http://portico.test",
            lambda: later,
            container.billing,
        )
    assert again.sent == len(entries)
    assert len(list(eml.glob("*.eml"))) == before + 2 * len(entries)


def test_a_claimed_mail_waits_for_its_lease(shop_app: Flask, instance_dir: Path) -> None:
    """A worker that claimed mails and died: others send them once the lease has run out."""
    entries = pending_mails(shop_app, 2)
    container = shop_app.extensions["portico"]
    loaded = container.merchants.get(SLUG)
    now = utc_now()
    assert len(mails._claim(container.store, SLUG, now)) == 2  # the worker that died

    def deliver(at: datetime):
        with shop_app.app_context():
            return deliver_pending(
                container.store,
                loaded,
                container.mailer,
                "http://portico.test",
                lambda: at,
                container.billing,
            )

    assert deliver(now + timedelta(seconds=30)).sent == 0
    assert deliver(now + mails.CLAIM_LEASE + timedelta(seconds=1)).sent == 2
    assert deliver(now + 2 * mails.CLAIM_LEASE).sent == 0
    assert {entry["id"] for entry in entries} <= set(delivered(instance_dir))


def test_a_broken_entry_does_not_stop_the_next_one(
    shop_app: Flask, instance_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sign_up(shop_app, "de", plan="basic", payment_method="invoice", email="bo@example.com")
    customer = stored(shop_app, SLUG, "customers")[-1]
    [confirmation] = stored(shop_app, SLUG, "outbox", kind="mail")
    now = utc_now()
    with shop_app.extensions["portico"].store.write(SLUG) as tx:
        outbox = tx.collection("outbox")
        unknown = outbox.insert(mail_notification("no_such_template", customer, now, {}))
        lost_pdf = outbox.insert(
            mail_notification(
                "signup_confirmation",
                customer,
                now,
                confirmation["data"],
                [{"kind": "invoice_pdf", "invoice_id": "inv_gone", "number": "GS-1"}],
            )
        )
        strange = outbox.insert(
            mail_notification(
                "signup_confirmation", customer, now, confirmation["data"], [{"kind": "zip"}]
            )
        )
        paid = outbox.insert(
            mail_notification(
                "payment_succeeded",
                customer,
                now,
                {"invoice_id": "inv_1", "number": "GS-9", "amount": 500, "currency": "EUR"},
            )
        )
        deleted_plan = outbox.insert(
            mail_notification(
                "signup_confirmation",
                customer,
                now,
                {"plan_id": "gone", "status": "active", "trial_end": None, "invoice_id": None},
            )
        )
    with caplog.at_level(logging.ERROR, logger="app.outbox.mails"), shop_app.app_context():
        [delivery] = deliver_all(SLUG)
    assert (delivery.sent, delivery.failed, delivery.given_up) == (2, 3, 0)
    by_id = {entry["id"]: entry for entry in stored(shop_app, SLUG, "outbox", kind="mail")}
    assert by_id[paid["id"]]["sent_at"] and by_id[deleted_plan["id"]]["sent_at"]
    for broken, error in (
        (unknown, "TemplateNotFound"),
        (lost_pdf, "NotFoundError"),
        (strange, "UnknownAttachment"),
    ):
        entry = by_id[broken["id"]]
        assert (entry["sent_at"], entry["attempts"], entry["claimed_until"]) == (None, 1, None)
        assert entry["last_error"].startswith(error)
        assert any(broken["id"] in record.getMessage() for record in caplog.records)
    assert "bo@example.com" not in caplog.text and QUESTIONS["de"] not in caplog.text
    sent = delivered(instance_dir)
    assert set(sent) == {confirmation["id"], paid["id"], deleted_plan["id"]}
    text = sent[deleted_plan["id"]].get_body(("plain",)).get_content()
    assert ": gone\n" in text  # a plan removed from the YAML since is named by its id


def test_after_the_last_attempt_a_mail_stays_in_the_outbox_untried(shop_app: Flask) -> None:
    sign_up(shop_app, "en", plan="basic", payment_method="invoice", email="bo@example.com")
    customer = stored(shop_app, SLUG, "customers")[-1]
    with shop_app.extensions["portico"].store.write(SLUG) as tx:
        broken = tx.collection("outbox").insert(
            mail_notification("no_such_template", customer, utc_now(), {})
            | {"attempts": MAX_ATTEMPTS - 1}
        )
    with shop_app.app_context():
        assert deliver_all(SLUG)[0].given_up == 1
        assert deliver_all(SLUG)[0].summary() == "shop: 0 mail(s) sent, 0 failed"
    [entry] = [e for e in stored(shop_app, SLUG, "outbox", kind="mail") if e["id"] == broken["id"]]
    assert (entry["sent_at"], entry["attempts"]) == (None, MAX_ATTEMPTS)


def cli_env(shop_app: Flask) -> dict[str, str]:
    settings = shop_app.extensions["portico"].settings
    return {
        "PORTICO_INSTANCE_DIR": str(settings.instance_dir),
        "PORTICO_CONFIG_DIR": str(settings.config_dir),
        "PORTICO_SECRET_KEY": settings.secret_key,
        "PORTICO_BASE_URL": settings.base_url,
        "PORTICO_SMTP_URL": "",
    }


def test_portico_mail_deliver_sends_what_waits(shop_app: Flask, instance_dir: Path) -> None:
    entries = pending_mails(shop_app, 2)
    runner = CliRunner()
    result = runner.invoke(main, ["mail", "deliver", SLUG], env=cli_env(shop_app))
    assert result.exit_code == 0, result.output
    assert "shop: 2 mail(s) sent, 0 failed" in result.output
    assert {entry["id"] for entry in entries} <= set(delivered(instance_dir))
    result = runner.invoke(main, ["mail", "deliver"], env=cli_env(shop_app))
    assert result.exit_code == 0 and "shop: 0 mail(s) sent, 0 failed" in result.output
    result = runner.invoke(main, ["mail", "deliver", "nobody"], env=cli_env(shop_app))
    assert result.exit_code == 1 and "no merchant 'nobody'" in result.output


def test_portico_bill_delivers_the_mails_it_wrote(shop_app: Flask, instance_dir: Path) -> None:
    trial = sign_up(
        shop_app, "sv", plan="trial", payment_method="card", email="ana@example.com", **NO_FUNDS
    )
    day = parse_iso(trial["trial_end"]).astimezone(ZoneInfo("Europe/Berlin")).date()
    result = CliRunner().invoke(main, ["bill", "--until", day.isoformat()], env=cli_env(shop_app))
    assert result.exit_code == 0, result.output
    assert "shop: 3 mail(s) sent, 0 failed" in result.output  # trial end, invoice, decline
    entries = stored(shop_app, SLUG, "outbox", kind="mail")
    assert [e["template"] for e in entries] == [
        "signup_confirmation",
        "trial_ending",
        "invoice_issued",
        "payment_failed",
    ]
    assert all(entry["sent_at"] for entry in entries)
    assert set(delivered(instance_dir)) == {entry["id"] for entry in entries}


def test_writing_a_mail_with_an_attachment_leaves_the_global_random_state_alone(
    tmp_path: Path,
) -> None:
    """Background senders write mails while other code (Hypothesis, say) relies on the
    global ``random`` state: a boundary drawn by :mod:`email.generator` would move it."""
    from app.outbox.mailer import Mailer

    message = EmailMessage()
    message["From"], message["To"], message["Message-ID"] = "a@x.test", "b@x.test", "<1@x.test>"
    message.set_content("text")
    message.add_attachment(b"%PDF-1.7", maintype="application", subtype="pdf", filename="a.pdf")
    before = random.getstate()
    Mailer(tmp_path).send(message)
    assert random.getstate() == before
    written = message_from_bytes((tmp_path / "1.eml").read_bytes(), policy=policy.strict)
    assert [part.get_filename() for part in written.iter_attachments()] == ["a.pdf"]


def test_replies_go_to_the_merchants_support_address() -> None:
    from app.outbox import templates
    from tests.helpers.billing import demo_config

    config = demo_config("acme")
    mail = templates.compose(
        config,
        template="subscription_canceled",
        to="kunde@example.com",
        subject="Test",
        language="de",
        context={
            "config": config,
            "merchant_name": config.merchant.name,
            "language": "de",
            "data": {"ended_at": None, "reason": "requested", "customer_number": "C-000001"},
            "amounts": {},
            "dates": {"ended_at": "1. Jan. 2027"},
            "plan_name": "Business",
            "portal_url": "http://portico.test/acme/portal",
            "order_url": "http://portico.test/acme/order",
            "subject": "Test",
        },
    )
    parsed = message_from_bytes(bytes(mail), policy=policy.strict)
    assert parsed["Reply-To"] == "support@acme.example"
    assert parsed["From"].addresses[0].addr_spec == "billing@acme.example"
