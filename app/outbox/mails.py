"""Sending the mails waiting in a merchant's outbox, rendered from its theme.

Services write a mail into the ``outbox`` collection in the same transaction
as the change it reports, so a crash after the commit cannot lose it. This
dispatcher renders pending mails in the customer's language and sends them;
a mail whose rendering or sending failed stays pending and is retried (at
least once delivery, never silently dropped) until :data:`MAX_ATTEMPTS`, after
which it stays in the outbox, visible, but is no longer tried.

Mails are claimed a batch at a time and the outcome of a whole batch is
written in one transaction after its last mail (one whole-file rewrite on
TinyDB per batch, not per mail). A crash, or a failed write, after a mail was
sent but before its batch was marked sends that mail again once its lease
ran out: at least once, never at most once.

The templates billing writes and the ``data`` each carries are listed in
:mod:`app.outbox.notifications`. Amounts and dates reach the templates
formatted already (``amounts.<key>``, ``dates.<key>``), exactly as the
attached invoice PDF writes them: money by Babel for the mail's language,
dates in the merchant's time zone.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.support import NullTranslations

from app.billing.gateways import failure_message
from app.billing.service import BillingService
from app.config.loader import LoadedMerchant
from app.config.models import MerchantConfig
from app.config.registry import MerchantRegistry
from app.core.clock import Clock, parse_iso
from app.core.i18n import translations
from app.core.money import Money
from app.outbox import templates
from app.outbox.dispatch import claim, failure, selected_merchants
from app.outbox.mailer import Mailer, MailError
from app.store import Store
from forms import localize

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 10
CLAIM_LEASE = timedelta(minutes=2)
# Claimed a few at a time, so a long queue (PDFs take a moment each) is sent
# well within the lease and another worker can share the rest.
CLAIM_BATCH = 20

MONEY_KEYS = ("gross", "amount_due", "amount")
DATE_KEYS = ("due_at", "trial_end", "next_attempt_at", "ended_at")


class UnknownAttachment(ValueError):
    """An outbox entry asks for an attachment of a kind this dispatcher cannot make."""


def _subject(
    template: str,
    merchant_name: str,
    data: Mapping[str, Any],
    dates: Mapping[str, str],
    strings: NullTranslations,
) -> str:
    number = data.get("number") or data.get("invoice_number") or ""

    def gettext(message: str, **values: str) -> str:
        return strings.gettext(message) % values

    subjects: dict[str, Callable[[], str]] = {
        "signup_confirmation": lambda: gettext(
            "Your order at %(merchant)s", merchant=merchant_name
        ),
        "invoice_issued": lambda: (
            gettext(
                "Credit note %(number)s from %(merchant)s", number=number, merchant=merchant_name
            )
            if data.get("kind") == "credit_note"
            else gettext(
                "Invoice %(number)s from %(merchant)s", number=number, merchant=merchant_name
            )
        ),
        "payment_failed": lambda: gettext(
            "Payment for invoice %(number)s from %(merchant)s failed",
            number=number,
            merchant=merchant_name,
        ),
        "payment_succeeded": lambda: gettext(
            "Payment received for invoice %(number)s from %(merchant)s",
            number=number,
            merchant=merchant_name,
        ),
        "payment_reminder": lambda: gettext(
            "Payment reminder: invoice %(number)s from %(merchant)s",
            number=number,
            merchant=merchant_name,
        ),
        "trial_ending": lambda: gettext(
            "Your free trial at %(merchant)s ends on %(date)s",
            merchant=merchant_name,
            date=dates.get("trial_end", ""),
        ),
        "subscription_canceled": lambda: gettext(
            "Your subscription at %(merchant)s has ended", merchant=merchant_name
        ),
        "cancellation_confirmation": lambda: gettext(
            "Your cancellation at %(merchant)s is confirmed", merchant=merchant_name
        ),
    }
    return subjects.get(template, lambda: merchant_name)()


def _amounts(data: Mapping[str, Any], language: str) -> dict[str, str]:
    """The entry's amounts as the invoice writes them; credit notes' negative sums as
    positive ones, since the words around them say which way the money goes."""
    currency = data.get("currency")
    return {
        key: Money(abs(int(data[key])), currency).format(language)
        for key in MONEY_KEYS
        if currency and data.get(key) is not None
    }


def _dates(data: Mapping[str, Any], config: MerchantConfig, language: str) -> dict[str, str]:
    """The entry's dates in the merchant's time zone, as the invoice PDF writes them."""
    zone = ZoneInfo(config.merchant.timezone)
    return {
        key: format_date(parse_iso(data[key]).astimezone(zone).date(), "medium", locale=language)
        for key in DATE_KEYS
        if data.get(key)
    }


def attachment_filename(number: str) -> str:
    """``ACME-2026-000042.pdf``; characters a mail client might trip over become ``-``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", number).strip("-.") + ".pdf"


def _pdfs(
    loaded: LoadedMerchant,
    config: MerchantConfig,
    attachments: list[Mapping[str, Any]],
    billing: BillingService,
) -> list[tuple[str, bytes]]:
    """The invoice PDFs an entry asks for, with their file names."""
    pdfs = []
    for attachment in attachments:
        if attachment.get("kind") != "invoice_pdf":
            raise UnknownAttachment(f"attachment kind {attachment.get('kind')!r}")
        name = attachment_filename(attachment.get("number") or attachment["invoice_id"])
        pdfs.append((name, billing.pdf_of(loaded.slug, config, attachment["invoice_id"])))
    return pdfs


def render_mail(
    loaded: LoadedMerchant, entry: Mapping[str, Any], base_url: str, billing: BillingService
) -> EmailMessage:
    """The mail of an outbox entry, in its language, from the merchant's theme;
    ``billing`` makes the attached invoice PDFs."""
    config = loaded.config
    assert config is not None
    language = entry["language"] if entry["language"] in config.languages else config.languages[0]
    strings = translations(language)
    data = entry["data"]
    plan_id = data.get("plan_id") or ""
    plan = config.plan(plan_id)
    dates = _dates(data, config, language)
    context: dict[str, Any] = {
        "config": config,
        "merchant_name": config.merchant.name,
        "language": language,
        "data": data,
        "amounts": _amounts(data, language),
        "dates": dates,
        # A plan removed from the YAML since keeps its id rather than breaking the mail.
        "plan_name": localize(plan.name, language, config.default_language) if plan else plan_id,
        "portal_url": f"{base_url}/{loaded.slug}/portal",
        "order_url": f"{base_url}/{loaded.slug}/order",
    }
    if "failure_code" in data:
        context["failure"] = failure_message(data["failure_code"], strings)
    context["subject"] = _subject(entry["template"], config.merchant.name, data, dates, strings)
    return templates.compose(
        config,
        template=entry["template"],
        to=entry["to"],
        subject=context["subject"],
        language=language,
        context=context,
        idstring=entry["id"],
        pdfs=_pdfs(loaded, config, entry.get("attachments") or [], billing),
    )


@dataclass
class Delivery:
    """What one delivery run did for one merchant."""

    merchant: str
    sent: int = 0
    failed: int = 0  # tried and left pending for a later run
    given_up: int = 0  # failed for the last time: left in the outbox, not tried again
    skipped: str | None = None  # why nothing was tried (the merchant's file has errors)

    def summary(self) -> str:
        if self.skipped:
            return f"{self.merchant}: no mail sent, {self.skipped}"
        return f"{self.merchant}: {self.sent} mail(s) sent, {self.failed} failed" + (
            f", {self.given_up} given up after {MAX_ATTEMPTS} attempts" if self.given_up else ""
        )


def _claim(
    store: Store,
    merchant: str,
    now: datetime,
    skip: set[str] | frozenset[str] = frozenset(),
    only: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Up to :data:`CLAIM_BATCH` pending mails, leased to this caller so that parallel
    workers never send one twice; ``skip`` are ids this caller tried already."""
    return claim(
        store,
        merchant,
        "outbox",
        now,
        lease=CLAIM_LEASE,
        limit=CLAIM_BATCH,
        due=lambda entry: entry["id"] not in skip and entry["attempts"] < MAX_ATTEMPTS,
        kind="mail",
        sent_at=None,
        **(only or {}),
    )


def deliver_pending(
    store: Store,
    loaded: LoadedMerchant,
    mailer: Mailer,
    base_url: str,
    now: Clock,
    billing: BillingService,
    customer_id: str | None = None,
) -> Delivery:
    """Send every pending mail of one merchant (or only one customer's). One mail that
    cannot be rendered or sent is counted and logged by its id and left for a later run;
    the others still go out."""
    delivery = Delivery(loaded.slug)
    if loaded.config is None:
        delivery.skipped = "its file has errors (run portico check)"
        return delivery
    tried: set[str] = set()
    only = {"customer_id": customer_id} if customer_id else None
    while batch := _claim(store, loaded.slug, now(), tried, only):
        outcomes = {}
        for entry in batch:
            tried.add(entry["id"])
            outcomes[entry["id"]] = _deliver_one(
                loaded, mailer, base_url, now, billing, entry, delivery
            )
        with store.write(loaded.slug) as tx:
            outbox = tx.collection("outbox")
            for id, changes in outcomes.items():
                outbox.update(id, changes)
    return delivery


def _deliver_one(
    loaded: LoadedMerchant,
    mailer: Mailer,
    base_url: str,
    now: Clock,
    billing: BillingService,
    entry: Mapping[str, Any],
    delivery: Delivery,
) -> dict[str, Any]:
    """Render and send one claimed mail; the changes that record the outcome."""
    attempts = entry["attempts"] + 1
    changes: dict[str, Any] = {"attempts": attempts, "claimed_until": None}
    try:
        message = render_mail(loaded, entry, base_url, billing)
    except Exception as error:  # a template bug or a deleted invoice must not block the rest
        log.exception(
            "mail %s (%s) of %s could not be rendered; it stays in the outbox (attempt %d of %d)",
            entry["id"],
            entry["template"],
            loaded.slug,
            attempts,
            MAX_ATTEMPTS,
        )
        changes["last_error"] = failure(error)
    else:
        try:
            mailer.send(message)
        except MailError as error:
            log.warning(
                "mail %s of %s not sent (%s); it stays in the outbox (attempt %d of %d)",
                entry["id"],
                loaded.slug,
                error,
                attempts,
                MAX_ATTEMPTS,
            )
            changes["last_error"] = failure(error)
        except Exception as error:  # e.g. a full disk under the file outbox
            log.exception(
                "mail %s of %s not sent; it stays in the outbox (attempt %d of %d)",
                entry["id"],
                loaded.slug,
                attempts,
                MAX_ATTEMPTS,
            )
            changes["last_error"] = failure(error)
        else:
            changes["sent_at"] = now().isoformat(timespec="seconds")
            changes["last_error"] = None
    if "sent_at" in changes:
        delivery.sent += 1
    elif attempts >= MAX_ATTEMPTS:
        delivery.given_up += 1
        log.error(
            "mail %s of %s failed %d times; it stays in the outbox and is not tried again",
            entry["id"],
            loaded.slug,
            attempts,
        )
    else:
        delivery.failed += 1
    return changes


class MailOutbox:
    """Sends the mails waiting in the merchants' outboxes, with one store, mailer and clock."""

    def __init__(
        self, store: Store, mailer: Mailer, base_url: str, clock: Clock, billing: BillingService
    ) -> None:
        self.store = store
        self.mailer = mailer
        self.base_url = base_url
        self.clock = clock
        self.billing = billing

    def deliver(self, loaded: LoadedMerchant, customer_id: str | None = None) -> Delivery:
        """Send one merchant's pending mails (or only one customer's)."""
        return deliver_pending(
            self.store, loaded, self.mailer, self.base_url, self.clock, self.billing, customer_id
        )

    def deliver_soon(self, loaded: LoadedMerchant, customer_id: str) -> None:
        """Send one customer's pending mails, best effort: they wait in the outbox, so a
        failure here is logged and retried by ``portico mail deliver``, never shown to the
        customer. Other customers' mails are left to that command."""
        try:
            self.deliver(loaded, customer_id)
        except Exception:
            log.exception("mails of %s stay in the outbox for a later attempt", loaded.slug)

    def deliver_all(
        self, merchants: MerchantRegistry, merchant: str | None = None
    ) -> list[Delivery]:
        """Send the pending mails of one merchant (by slug) or of all; a merchant whose file
        has errors is reported, not sent."""
        return [self.deliver(loaded) for loaded in selected_merchants(merchants, merchant)]
