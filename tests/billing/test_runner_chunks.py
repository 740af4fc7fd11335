"""`portico bill` in chunks: few write transactions, whole chunks after a crash, no double charge."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.billing import runner
from app.billing.gateways import ChargeResult, Gateways
from app.cli import main
from app.core.money import Money
from app.store import Store, TinyDBStore, WriteTransaction
from tests.helpers.app import app_settings
from tests.helpers.billing import Shop, demo_config
from tests.helpers.clock import Clock

MONTH_LATER = datetime(2026, 2, 16, tzinfo=UTC)  # one renewal of every subscription


class CountingStore:
    """A real store whose write transactions are counted."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.writes = 0

    def read(self, merchant: str) -> Any:
        return self.inner.read(merchant)

    @contextmanager
    def write(self, merchant: str) -> Iterator[WriteTransaction]:
        self.writes += 1
        with self.inner.write(merchant) as tx:
            yield tx


class Crash(BaseException):
    """The process dying: not an ``Exception`` a run may catch and go on after."""


class RecordingCard:
    """The sandbox card gateway, recording every charge's key; crashes at charge ``crash_at``."""

    def __init__(self, inner: Any, crash_at: int | None = None) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.keys: list[str] = []

    def charge(self, method: Mapping[str, Any], amount: Money, *, key: str) -> ChargeResult:
        self.keys.append(key)
        result = self.inner.charge(method, amount, key=key)
        if len(self.keys) == self.crash_at:
            raise Crash  # charged at the gateway, never committed here
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def signed_up(shop: Shop, count: int) -> None:
    for number in range(count):
        shop.sign_up("basic", fields={"email": f"c{number}@example.de"})


def gateways(shop: Shop, card: RecordingCard) -> Gateways:
    return replace(shop.billing.gateways(shop.config), card=card)


def bill(shop: Shop, store: Any, card: RecordingCard, chunk: int) -> runner.BillingRun:
    return runner.bill_until(
        store, shop.slug, shop.config, MONTH_LATER, gateways(shop, card), chunk=chunk
    )


@pytest.mark.parametrize(("count", "chunk"), [(7, 3), (6, 500)])
def test_one_write_transaction_per_chunk(shop: Shop, count: int, chunk: int) -> None:
    signed_up(shop, count)
    counting = CountingStore(shop.store)
    card = RecordingCard(shop.billing.gateways(shop.config).card)
    run = bill(shop, counting, card, chunk)
    assert (run.invoices, run.payments_succeeded, run.errors) == (count, count, [])
    assert counting.writes <= math.ceil(count / chunk)


def test_a_crash_leaves_whole_chunks_and_a_rerun_charges_nobody_twice(shop: Shop) -> None:
    signed_up(shop, 7)
    card = RecordingCard(shop.billing.gateways(shop.config).card, crash_at=5)
    with pytest.raises(Crash):
        bill(shop, shop.store, card, chunk=3)
    # the sign-ups' invoices and the first chunk's, nothing of the second
    assert len(shop.docs("invoices")) == 7 + 3
    run = bill(shop, shop.store, card, chunk=3)
    assert (run.invoices, run.payments_succeeded) == (4, 4)
    # the crashed chunk's charges were asked again with the same keys: the gateway
    # (idempotent per key) charged each invoice once
    assert len(card.keys) == 5 + 4 and len(set(card.keys)) == 7
    invoices = shop.docs("invoices")
    assert sorted(i["number"] for i in invoices) == [f"GS-2026-{n:06d}" for n in range(1, 15)]
    assert all(i["status"] == "paid" for i in invoices)
    assert len(shop.docs("payments", status="succeeded")) == 14
    again = bill(shop, shop.store, card, chunk=3)
    assert (again.invoices, again.payments_succeeded, again.mails) == (0, 0, 0)


def test_a_broken_subscription_does_not_stop_its_chunk(shop: Shop) -> None:
    signed_up(shop, 5)
    broken = shop.docs("subscriptions")[2]
    with shop.store.write(shop.slug) as tx:
        tx.collection("customers").delete(broken["customer_id"])
    card = RecordingCard(shop.billing.gateways(shop.config).card)
    run = bill(shop, shop.store, card, chunk=10)
    assert run.invoices == 4 and len(run.errors) == 1
    assert run.errors[0].startswith(broken["id"])
    assert len(set(card.keys)) == 4


def test_bill_no_mail_leaves_the_mails_to_mail_deliver(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    store = TinyDBStore(instance / "data")
    shop = Shop(store, Clock(datetime(2026, 1, 10, 12, tzinfo=UTC)), demo_config("acme"), "acme")
    shop.sign_up("business", "invoice", None, fields={"email": "a@b.example"})
    env = app_settings(instance)
    result = CliRunner().invoke(main, ["bill", "--no-mail", "--until", "2026-02-11"], env=env)
    assert result.exit_code == 0, result.output
    assert "acme: 1 invoice(s)" in result.output and "sent" not in result.output
    issued = shop.docs("outbox", template="invoice_issued")
    assert len(issued) == 1 and issued[0]["sent_at"] is None
