"""A write transaction's cost per change does not grow with the size of the table.

TinyDB copied a whole table before and after every insert, so adding to a
big store cost O(n) per document (``make bench`` found sign-ups at 10 000
customers many times slower than at 100). The store changes its private
working copy in place instead; these tests hold both the speed and the
all-or-nothing promise that the copy keeps.
"""

from __future__ import annotations

import time

import pytest

from app.store import TinyDBStore

BIG = 20_000
ADDED = 300


def _fill(store: TinyDBStore, merchant: str, count: int) -> None:
    with store.write(merchant) as tx:
        customers = tx.collection("customers")
        for number in range(count):
            customers.insert({"id": f"cus_{number}", "number": number})


def _seconds_to_add(store: TinyDBStore, merchant: str) -> float:
    """The best of three: time to insert, update and delete ``ADDED`` documents, changes
    only (the transaction's fixed cost of reading and writing the file is left out)."""
    best = float("inf")
    for attempt in range(3):
        with store.write(merchant) as tx:
            customers = tx.collection("customers")
            started = time.perf_counter()
            for number in range(ADDED):
                id = f"new_{attempt}_{number}"
                customers.insert({"id": id, "number": number})
                customers.update(id, {"number": -number})
                customers.delete(id)
            best = min(best, time.perf_counter() - started)
    return best


def test_changes_in_a_big_table_cost_about_what_they_cost_in_a_small_one(
    tinydb_store: TinyDBStore,
) -> None:
    _fill(tinydb_store, "small", 100)
    _fill(tinydb_store, "big", BIG)
    small = _seconds_to_add(tinydb_store, "small")
    big = _seconds_to_add(tinydb_store, "big")
    # Copying the table on every change made this ratio about 100 (BIG / 200 per change).
    assert big < 10 * small + 0.05, f"{ADDED} changes: {big:.3f} s in {BIG}, {small:.3f} s in 100"


def test_a_failed_transaction_leaves_no_trace_of_its_in_place_changes(
    tinydb_store: TinyDBStore,
) -> None:
    _fill(tinydb_store, "acme", 3)
    with pytest.raises(RuntimeError), tinydb_store.write("acme") as tx:
        customers = tx.collection("customers")
        customers.insert({"id": "cus_new", "number": 9})
        customers.update("cus_0", {"number": 100})
        customers.delete("cus_1")
        tx.collection("invoices").insert({"id": "inv_1"})
        raise RuntimeError("the sign-up failed halfway")
    with tinydb_store.read("acme") as tx:
        assert list(tx.collection("customers").all()) == [
            {"id": "cus_0", "number": 0},
            {"id": "cus_1", "number": 1},
            {"id": "cus_2", "number": 2},
        ]
        assert tx.collection("invoices").count() == 0
    with tinydb_store.write("acme") as tx:  # and the next transaction starts from the same data
        assert tx.collection("customers").get("cus_0") == {"id": "cus_0", "number": 0}
        assert tx.collection("customers").get("cus_new") is None
