"""Invoice numbers: one gapless series per prefix and year, also under concurrent issue."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.billing import invoices
from app.billing.invoices import Line
from app.store import TinyDBStore
from tests.helpers.billing import make_config

CUSTOMER = {"id": "cus_1", "number": "C-000001", "email": "a@b.de", "fields": {}, "language": "en"}


class Boom(Exception):
    pass


def issue_one(
    store: TinyDBStore, at: datetime, fail: bool = False, prefix: str = "GS-{year}-"
) -> None:
    config = make_config(billing={"invoice_prefix": prefix})
    with store.write("shop") as tx:
        line = Line("plan", "Service", 1000)
        draft = invoices.draft(tx, config, CUSTOMER, (line,), at, subscription_id=None)
        invoices.issue(tx, config, draft)
        if fail:  # a transaction that fails after taking a number uses none
            raise Boom


def numbers(store: TinyDBStore) -> list[str]:
    with store.read("shop") as tx:
        return sorted(invoice["number"] for invoice in tx.collection("invoices").all())


def test_numbers_restart_each_year_of_the_merchants_time_zone(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path)
    issue_one(store, datetime(2026, 12, 31, 22, 0, tzinfo=UTC))  # 23:00 in Berlin
    issue_one(store, datetime(2026, 12, 31, 23, 30, tzinfo=UTC))  # already 2027 in Berlin
    issue_one(store, datetime(2027, 3, 1, tzinfo=UTC))
    issue_one(store, datetime(2027, 3, 1, tzinfo=UTC), prefix="TH-")
    issue_one(store, datetime(2028, 3, 1, tzinfo=UTC), prefix="TH-")
    assert numbers(store) == [
        "GS-2026-000001",
        "GS-2027-000001",
        "GS-2027-000002",
        "TH-000001",
        "TH-000002",
    ]


def test_numbering_is_gapless_when_threads_issue_at_once(tmp_path: Path) -> None:
    store = TinyDBStore(tmp_path, lock_timeout=60)
    at = datetime(2026, 5, 1, tzinfo=UTC)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        for round_ in range(6):
            try:
                issue_one(store, at, fail=(index + round_) % 3 == 0)
            except Boom:
                pass
            except BaseException as error:  # surfaced by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert numbers(store) == [f"GS-2026-{n:06d}" for n in range(1, 25)]


def _process_worker(data_dir: str, count: int) -> None:
    store = TinyDBStore(Path(data_dir), lock_timeout=60)
    for _ in range(count):
        issue_one(store, datetime(2026, 5, 1, tzinfo=UTC))


@pytest.mark.slow
def test_numbering_is_gapless_when_processes_issue_at_once(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_process_worker, args=(str(tmp_path), 5)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert numbers(TinyDBStore(tmp_path)) == [f"GS-2026-{n:06d}" for n in range(1, 16)]
