"""A write transaction's cost per change does not grow with the size of the table.

TinyDB copied a whole table before and after every insert, so adding to a
big store cost O(n) per document (``make bench`` found sign-ups at 10 000
customers many times slower than at 100), and each write transaction then
copied every document of the merchant before its first change. The store now
shares the cached tables and copies a table, and a document, only when the
transaction changes it; these tests hold the speed, that the cache is never
changed in place, and the all-or-nothing promise.
"""

from __future__ import annotations

import time

import pytest

from app.store import TinyDBStore, datafiles

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


def test_a_commit_never_changes_a_cached_document_in_place(tinydb_store: TinyDBStore) -> None:
    """TinyDB updates documents in place: it must get a copy, or a reader holding the
    cached document (or a later failed transaction) would see the change."""
    _fill(tinydb_store, "acme", 3)
    with tinydb_store.write("acme") as tx:
        tx.next_number("invoice")
    cached = datafiles.load(tinydb_store.path("acme"))
    document, counter = cached["customers"]["cus_0"], cached["_sequences"]["invoice"]
    with tinydb_store.write("acme") as tx:
        tx.collection("customers").update("cus_0", {"number": 100, "note": "changed"})
        assert tx.next_number("invoice") == 2  # an upsert, also in place in TinyDB
    assert document == {"id": "cus_0", "number": 0}
    assert counter == {"id": "invoice", "value": 1}
    with tinydb_store.read("acme") as tx:
        assert tx.collection("customers").get("cus_0") == {
            "id": "cus_0",
            "number": 100,
            "note": "changed",
        }


def test_a_write_copies_only_what_it_changes(tinydb_store: TinyDBStore) -> None:
    """Tables and documents a transaction did not change stay shared with the cache,
    so a write in a big store costs what it changes, not the store's size."""
    _fill(tinydb_store, "acme", BIG)
    path = tinydb_store.path("acme")
    before = datafiles.load(path)
    with tinydb_store.write("acme") as tx:
        tx.collection("invoices").insert({"id": "inv_1"})
        tx.collection("customers").update("cus_0", {"number": -1})
    after = datafiles.load(path)
    assert after["invoices"] == {"inv_1": {"id": "inv_1"}}
    assert after["customers"] is not before["customers"]  # changed: its own copy
    assert after["customers"]["cus_0"] is not before["customers"]["cus_0"]
    unchanged = [
        id for id in before["customers"] if after["customers"][id] is before["customers"][id]
    ]
    assert len(unchanged) == BIG - 1
    with tinydb_store.write("acme") as tx:
        tx.collection("invoices").insert({"id": "inv_2"})
    assert datafiles.load(path)["customers"] is after["customers"]  # untouched: still shared
