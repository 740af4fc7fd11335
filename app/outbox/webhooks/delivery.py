"""Delivering events to the merchant's webhook endpoints: durable, signed, retried.

Services write events into the merchant's ``outbox`` (:mod:`app.outbox.events`). A run
then works in two steps, each write in its own transaction:

1. *Fan out*: every event not dispatched yet gets one ``webhook_deliveries``
   record per endpoint of the merchant's YAML subscribed to its type, and is
   marked dispatched in the same transaction; so a delivery is stored before
   its first attempt and a crash at any moment loses none.
2. *Send*: due deliveries are claimed with a lease (:func:`app.outbox.dispatch.claim`,
   two workers never send one at the same time), POSTed as signed JSON, and
   the outcome recorded. A 2xx answer delivers; anything else is tried again
   after an exponential backoff with jitter, for :data:`RETRY_FOR` after the
   delivery was queued, then the delivery is ``failed``: kept and shown by
   ``portico webhooks log``, not tried again.

A receiver may still see an event twice (the answer to a successful POST can
be lost): the event id (``Portico-Event-Id``) is its idempotency key. The
secret and the body are never logged or kept in an error.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.config.envnames import EnvNamespace
from app.config.loader import LoadedMerchant
from app.config.models import MerchantConfig
from app.config.registry import MerchantRegistry
from app.core.clock import iso, parse_iso
from app.core.ids import new_id
from app.outbox.dispatch import claim, selected_merchants
from app.outbox.webhooks import http
from app.outbox.webhooks.signing import HEADER, signature
from app.store import Document, Store

log = logging.getLogger(__name__)

RETRY_FOR = timedelta(days=1)
FIRST_RETRY = timedelta(minutes=1)  # doubled after every failure ...
LONGEST_WAIT = timedelta(hours=2)  # ... up to this
# Jitter from the OS: the global random state is not ours to move from a worker thread.
_JITTER = random.SystemRandom()
CLAIM_LEASE = timedelta(minutes=2)
# Few at a time: each may take up to the HTTP timeout, all well within the lease.
CLAIM_BATCH = 5

Post = Callable[[str, bytes, Mapping[str, str]], int]


@dataclass
class Run:
    """What one delivery run did for one merchant."""

    merchant: str
    delivered: int = 0
    retrying: int = 0  # failed, tried again later
    failed: int = 0  # failed for the last time
    skipped: str | None = None  # why nothing was tried

    def summary(self) -> str:
        if self.skipped:
            return f"{self.merchant}: no webhook sent, {self.skipped}"
        return (
            f"{self.merchant}: {self.delivered} webhook(s) delivered, "
            f"{self.retrying} to retry, {self.failed} failed"
        )


def payload(merchant: str, event: Mapping[str, Any]) -> dict[str, Any]:
    """What a receiver gets for an event."""
    return {
        "id": event["id"],
        "type": event["type"],
        "created_at": event["created_at"],
        "merchant": merchant,
        "data": event["data"],
    }


def fan_out(store: Store, merchant: str, config: MerchantConfig, now: datetime) -> int:
    """One delivery per new event and subscribed endpoint; returns how many were queued."""
    queued = 0
    with store.write(merchant) as tx:
        outbox = tx.collection("outbox")
        deliveries = tx.collection("webhook_deliveries")
        for event in outbox.find(kind="event", dispatched_at=None):
            for endpoint in config.webhooks:
                if event["type"] not in endpoint.events:
                    continue
                deliveries.insert(
                    {
                        "id": new_id("whd"),
                        "event_id": event["id"],
                        "event_type": event["type"],
                        "customer_id": event["customer_id"],
                        "url": endpoint.url,
                        "secret_env": endpoint.secret_env,
                        "status": "pending",
                        "attempts": 0,
                        "created_at": iso(now),
                        "next_attempt_at": iso(now),
                        "last_attempt_at": None,
                        "last_status": None,
                        "last_error": None,
                        "delivered_at": None,
                        "claimed_until": None,
                    }
                )
                queued += 1
            outbox.update(event["id"], {"dispatched_at": iso(now)})
    return queued


def deliver_due(
    store: Store,
    loaded: LoadedMerchant,
    clock: Callable[[], datetime],
    post: Post = http.post,
    environ: Mapping[str, str] = os.environ,
) -> Run:
    """Queue the merchant's new events, then send every delivery that is due."""
    run = Run(loaded.slug)
    if loaded.config is None:
        run.skipped = "its file has errors (run portico check)"
        return run
    fan_out(store, loaded.slug, loaded.config, clock())
    namespace = EnvNamespace.of(loaded.slug, loaded.path.parent)
    tried: set[str] = set()
    while batch := _claim(store, loaded.slug, clock(), tried):
        with store.read(loaded.slug) as tx:
            events = {
                entry["event_id"]: tx.collection("outbox").get(entry["event_id"]) for entry in batch
            }
        for entry in batch:
            tried.add(entry["id"])
            changes = _attempt(
                loaded.slug, entry, events[entry["event_id"]], clock(), post, environ, namespace
            )
            with store.write(loaded.slug) as tx:
                tx.collection("webhook_deliveries").update(entry["id"], changes)
            status = changes["status"]
            if status == "delivered":
                run.delivered += 1
            elif status == "failed":
                run.failed += 1
            else:
                run.retrying += 1
    return run


def _claim(store: Store, merchant: str, now: datetime, skip: set[str]) -> list[Document]:
    moment = iso(now)
    return claim(
        store,
        merchant,
        "webhook_deliveries",
        now,
        lease=CLAIM_LEASE,
        limit=CLAIM_BATCH,
        due=lambda entry: entry["id"] not in skip and entry["next_attempt_at"] <= moment,
        status="pending",
    )


def _attempt(
    merchant: str,
    entry: Document,
    event: Document | None,
    now: datetime,
    post: Post,
    environ: Mapping[str, str],
    namespace: EnvNamespace | None = None,
) -> dict[str, Any]:
    """Send one delivery; returns the changes that record how it went.

    The signing secret is read only from a variable in the merchant's own namespace
    (``PORTICO_<SLUG>_…``), whatever the delivery record says: never the operator's
    ``PORTICO_SECRET_KEY`` or another merchant's secret."""
    attempts = entry["attempts"] + 1
    changes: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": iso(now),
        "claimed_until": None,
        "last_status": None,
    }
    namespace = namespace or EnvNamespace(merchant)
    outside = namespace.problem(entry["secret_env"])
    secret = None if outside else environ.get(entry["secret_env"])
    if event is None:
        error = "the event is no longer stored"
    elif outside:
        # The variable's name only, never its value.
        log.error("webhook %s of %s: secret_env refused: %s", entry["id"], merchant, outside)
        error = f"not sent: the signing secret's variable {outside}"
    elif not secret:
        error = f"not sent: the environment variable {entry['secret_env']} (the signing secret) is not set"
    else:
        body = json.dumps(payload(merchant, event), separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Portico-Webhooks/1",
            "Portico-Event-Id": event["id"],
            HEADER: signature(secret, int(now.timestamp()), body),
        }
        try:
            changes["last_status"] = post(entry["url"], body, headers)
        except http.Refused as refused:
            changes["last_status"] = refused.status
            error = str(refused)
        else:
            return changes | {"status": "delivered", "delivered_at": iso(now), "last_error": None}
    changes["last_error"] = error
    retry_at = _retry_at(entry, attempts, now)
    if retry_at is None:
        log.error(
            "webhook %s (%s) of %s to %s failed %d times; not tried again: %s",
            entry["id"],
            entry["event_type"],
            merchant,
            entry["url"],
            attempts,
            error,
        )
        return changes | {"status": "failed"}
    log.warning(
        "webhook %s (%s) of %s to %s failed (%s); tried again at %s",
        entry["id"],
        entry["event_type"],
        merchant,
        entry["url"],
        error,
        iso(retry_at),
    )
    return changes | {"status": "pending", "next_attempt_at": iso(retry_at)}


def _retry_at(entry: Document, attempts: int, now: datetime) -> datetime | None:
    """When to try again after ``attempts`` failures: exponential backoff with jitter
    (so endpoints coming back up are not hit by every sender at once), the last try
    at the end of :data:`RETRY_FOR`; ``None`` once that has passed."""
    deadline = parse_iso(entry["created_at"]) + RETRY_FOR
    if now >= deadline:
        return None
    wait = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_WAIT)
    return min(now + wait * _JITTER.uniform(0.5, 1.0), deadline)


def deliver_all(
    store: Store,
    registry: MerchantRegistry,
    clock: Callable[[], datetime],
    merchant: str | None = None,
) -> list[Run]:
    """Send the due webhooks of one merchant (by slug; else :class:`LookupError`) or of
    all; a merchant whose file has errors is reported, not sent."""
    return [deliver_due(store, loaded, clock) for loaded in selected_merchants(registry, merchant)]


def deliveries(store: Store, merchant: str) -> list[Document]:
    """Every delivery of the merchant, oldest first (for ``portico webhooks log``)."""
    with store.read(merchant) as tx:
        found = list(tx.collection("webhook_deliveries").all())
    return sorted(found, key=lambda entry: entry["created_at"])
