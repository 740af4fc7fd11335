from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

import pytest
from filelock import FileLock

from app.store import (
    DuplicateId,
    LockTimeout,
    NotFound,
    Store,
    StoreError,
    TinyDBStore,
    UnknownCollection,
    open_store,
)
from app.store.postgres import PostgresStore


def fill(store: Store, *documents: dict) -> None:
    with store.write("acme") as tx:
        for document in documents:
            tx.collection("customers").insert(document)


def test_insert_get_update_delete(store: Store) -> None:
    with store.write("acme") as tx:
        customers = tx.collection("customers")
        inserted = customers.insert({"id": "c1", "email": "a@acme.example", "tags": ["x"]})
        assert inserted == {"id": "c1", "email": "a@acme.example", "tags": ["x"]}
        assert customers.get("c1") == inserted
    with store.write("acme") as tx:
        updated = tx.collection("customers").update("c1", {"email": "b@acme.example", "n": 2})
    assert updated == {"id": "c1", "email": "b@acme.example", "tags": ["x"], "n": 2}
    with store.read("acme") as tx:
        assert tx.merchant == "acme"
        assert tx.collection("customers").get("c1") == updated
        assert tx.collection("customers").get("nope") is None
    with store.write("acme") as tx:
        tx.collection("customers").delete("c1")
    with store.read("acme") as tx:
        assert tx.collection("customers").get("c1") is None
        assert tx.collection("customers").count() == 0


def test_documents_are_stored_under_their_own_id(tinydb_store: TinyDBStore, data_dir: Path) -> None:
    fill(tinydb_store, {"id": "c-7", "email": "a@acme.example"})
    stored = json.loads((data_dir / "acme.json").read_bytes())
    assert stored["customers"] == {"c-7": {"id": "c-7", "email": "a@acme.example"}}
    assert list(stored) == ["customers", "_journal"]  # the file's version: not a collection


def test_find_first_count_all_keep_insertion_order(store: Store) -> None:
    fill(
        store,
        {"id": "z", "plan": "pro", "n": 1},
        {"id": "a", "plan": "starter", "n": 2},
        {"id": "m", "plan": "pro", "n": 3},
    )
    with store.write("acme") as tx:  # an update keeps a document's place
        tx.collection("customers").update("z", {"n": 10})
    with store.read("acme") as tx:
        customers = tx.collection("customers")
        assert [d["id"] for d in customers.find(plan="pro")] == ["z", "m"]
        assert [d["id"] for d in customers.find()] == ["z", "a", "m"]
        assert [d["id"] for d in customers.all()] == ["z", "a", "m"]
        assert customers.first(plan="pro") == {"id": "z", "plan": "pro", "n": 10}
        assert customers.first() == {"id": "z", "plan": "pro", "n": 10}
        assert customers.first(plan="enterprise") is None
        assert customers.count(plan="pro") == 2
        assert customers.count() == 3
        assert customers.find(plan="pro", n=3) == [{"id": "m", "plan": "pro", "n": 3}]
        assert customers.find(missing_field="x") == []


def test_find_compares_exactly(store: Store) -> None:
    fill(
        store,
        {"id": "bool", "paid": True, "email": "a@acme.example"},
        {"id": "int", "paid": 1, "email": "A@acme.example"},
        {"id": "list", "paid": [1, 2]},
    )
    with store.read("acme") as tx:
        customers = tx.collection("customers")
        # Same transaction, so TinyDB's query cache must keep these apart.
        assert [d["id"] for d in customers.find(paid=True)] == ["bool"]
        assert [d["id"] for d in customers.find(paid=1)] == ["int"]
        assert [d["id"] for d in customers.find(paid=1.0)] == []
        assert [d["id"] for d in customers.find(paid=[1, 2])] == ["list"]
        assert [d["id"] for d in customers.find(email="a@acme.example")] == ["bool"]


def test_errors(store: Store) -> None:
    fill(store, {"id": "c1"})
    with store.write("acme") as tx:
        customers = tx.collection("customers")
        with pytest.raises(DuplicateId, match="customers already has a document with id 'c1'"):
            customers.insert({"id": "c1"})
        with pytest.raises(NotFound, match="customers has no document with id 'c2'"):
            customers.update("c2", {"x": 1})
        with pytest.raises(NotFound, match="customers has no document with id 'c2'"):
            customers.delete("c2")
        with pytest.raises(UnknownCollection, match="unknown collection 'customer'"):
            tx.collection("customer")
        with pytest.raises(UnknownCollection):
            tx.collection("_sequences")
    with store.read("acme") as tx, pytest.raises(UnknownCollection):
        tx.collection("nope")


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ({"email": "a@acme.example"}, ValueError, 'non-empty string "id", not None'),
        ({"id": 7}, ValueError, 'non-empty string "id", not 7'),
        ({"id": ""}, ValueError, 'non-empty string "id"'),
        (["id", "c1"], TypeError, "a document must be a mapping, not list"),
        ({"id": "c1", "at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}, TypeError, "datetime"),
        ({"id": "c1", "nested": {1: "x"}}, TypeError, "keys must be strings, not 1"),
        ({"id": "c1", "amount": float("nan")}, ValueError, "nan cannot be stored"),
    ],
)
def test_insert_refuses_what_json_cannot_hold(
    store: Store, document: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message), store.write("acme") as tx:
        tx.collection("customers").insert(document)  # type: ignore[arg-type]
    assert store.merchants() == []


def test_update_cannot_change_the_id(store: Store) -> None:
    fill(store, {"id": "c1"})
    with store.write("acme") as tx:
        customers = tx.collection("customers")
        assert customers.update("c1", {"id": "c1", "x": 1}) == {"id": "c1", "x": 1}
        with pytest.raises(ValueError, match="the id of customers 'c1' cannot change"):
            customers.update("c1", {"id": "c2"})


def test_documents_are_copies(store: Store) -> None:
    """Nothing a caller keeps can change stored (or cached) data behind the store's back."""
    given = {"id": "c1", "tags": ["a"], "address": {"city": "Berlin"}}
    with store.write("acme") as tx:
        returned = tx.collection("customers").insert(given)
        given["tags"].append("given")
        returned["tags"].append("returned")
        tx.collection("customers").get("c1")["address"]["city"] = "got"
    with store.read("acme") as tx:
        tx.collection("customers").get("c1")["tags"].append("read")
        next(tx.collection("customers").all())["address"]["city"] = "all"
        tx.collection("customers").find()[0]["tags"].append("found")
    with store.read("acme") as tx:
        assert tx.collection("customers").get("c1") == {
            "id": "c1",
            "tags": ["a"],
            "address": {"city": "Berlin"},
        }


def test_tuples_are_stored_as_lists(store: Store) -> None:
    fill(store, {"id": "c1", "pair": (1, "a")})
    with store.read("acme") as tx:
        assert tx.collection("customers").get("c1") == {"id": "c1", "pair": [1, "a"]}


@pytest.mark.parametrize("merchant", ["../x", "A", "a", "", "acme/x", "acme\n", "ac me", "x" * 41])
def test_invalid_merchant_slugs_are_refused(store: Store, merchant: str) -> None:
    with pytest.raises(ValueError, match="invalid merchant slug"), store.read(merchant):
        pass
    with pytest.raises(ValueError, match="invalid merchant slug"), store.write(merchant):
        pass


def test_valid_slugs(tinydb_store: TinyDBStore, data_dir: Path) -> None:
    assert tinydb_store.path("ab") == data_dir / "ab.json"
    assert tinydb_store.path("acme-2") == data_dir / "acme-2.json"
    assert tinydb_store.path("x" * 40).name == "x" * 40 + ".json"
    with pytest.raises(ValueError, match="invalid merchant slug"):
        tinydb_store.path("../x")


def test_a_merchant_without_data_reads_empty(store: Store) -> None:
    with store.read("acme") as tx:
        assert tx.collection("customers").count() == 0
        assert list(tx.collection("customers").all()) == []
    assert store.merchants() == []
    fill(store, {"id": "c1"})
    assert store.merchants() == ["acme"]


def test_missing_file_reads_empty_and_first_write_creates_it(
    tinydb_store: TinyDBStore, data_dir: Path
) -> None:
    with tinydb_store.read("acme") as tx:
        assert tx.collection("customers").count() == 0
        assert list(tx.collection("customers").all()) == []
    assert not data_dir.exists()
    fill(tinydb_store, {"id": "c1"})
    assert tinydb_store.path("acme").is_file()


def test_a_failed_write_changes_nothing(store: Store) -> None:
    fill(store, {"id": "c1", "plan": "starter"}, {"id": "c2", "plan": "starter"})
    with pytest.raises(RuntimeError, match="boom"), store.write("acme") as tx:
        customers = tx.collection("customers")
        customers.update("c1", {"plan": "pro"})
        customers.delete("c2")
        customers.insert({"id": "c3"})
        tx.next_number("customer")
        raise RuntimeError("boom")
    with store.read("acme") as tx:
        assert list(tx.collection("customers").all()) == [
            {"id": "c1", "plan": "starter"},
            {"id": "c2", "plan": "starter"},
        ]
    with store.write("acme") as tx:
        assert tx.next_number("customer") == 1


def test_rollback_leaves_file_and_cache_unchanged(tinydb_store: TinyDBStore, parses) -> None:
    fill(tinydb_store, {"id": "c1", "plan": "starter"}, {"id": "c2", "plan": "starter"})
    path = tinydb_store.path("acme")
    before = path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns
    with pytest.raises(RuntimeError, match="boom"), tinydb_store.write("acme") as tx:
        customers = tx.collection("customers")
        customers.update("c1", {"plan": "pro"})  # TinyDB changes documents in place
        customers.delete("c2")
        customers.insert({"id": "c3"})
        tx.next_number("customer")
        raise RuntimeError("boom")
    assert (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns) == before
    with tinydb_store.read("acme") as tx:
        assert list(tx.collection("customers").all()) == [
            {"id": "c1", "plan": "starter"},
            {"id": "c2", "plan": "starter"},
        ]
    assert parses.count == 0  # that was the cache, and the cache kept the old data
    with tinydb_store.write("acme") as tx:
        assert tx.next_number("customer") == 1


def test_a_write_without_changes_does_not_rewrite_the_file(tinydb_store: TinyDBStore) -> None:
    fill(tinydb_store, {"id": "c1"})
    before = tinydb_store.path("acme").stat()
    with tinydb_store.write("acme") as tx:
        assert tx.collection("customers").get("c1") == {"id": "c1"}
    after = tinydb_store.path("acme").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_next_number_is_gapless_per_sequence(store: Store) -> None:
    with store.write("acme") as tx:
        assert [tx.next_number("customer") for _ in range(3)] == [1, 2, 3]
        assert tx.next_number("invoice-2025") == 1
    with pytest.raises(RuntimeError), store.write("acme") as tx:
        assert tx.next_number("customer") == 4
        raise RuntimeError
    with store.write("acme") as tx:
        assert tx.next_number("customer") == 4
        assert tx.next_number("invoice-2025") == 2
    with store.write("other") as tx:
        assert tx.next_number("customer") == 1
    with store.write("acme") as tx, pytest.raises(ValueError, match="non-empty string"):
        tx.next_number("")


def test_merchants_lists_data_files_only(tinydb_store: TinyDBStore, data_dir: Path) -> None:
    assert tinydb_store.merchants() == []
    for merchant in ("beta-2", "acme"):
        with tinydb_store.write(merchant) as tx:
            tx.collection("customers").insert({"id": "c1"})
    (data_dir / "notes.txt").write_text("x")
    (data_dir / "Bad.json").write_text("{}")
    (data_dir / ".acme.json.k3j2.tmp").write_text("{")
    assert tinydb_store.merchants() == ["acme", "beta-2"]


def test_threads_writing_at_once_are_serialised(store: Store) -> None:
    def work(worker: int) -> None:
        for i in range(25):
            with store.write("acme") as tx:
                number = tx.next_number("customer")
                tx.collection("customers").insert({"id": f"{worker}-{i}", "number": number})

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with store.read("acme") as tx:
        numbers = [d["number"] for d in tx.collection("customers").all()]
    assert numbers == list(range(1, 101))


def test_a_held_lock_times_out_with_a_clear_error(data_dir: Path) -> None:
    store = TinyDBStore(data_dir, lock_timeout=0.1)
    data_dir.mkdir()
    with FileLock(f"{store.path('acme')}.lock"):
        timeout = pytest.raises(LockTimeout, match=r"acme.json stayed locked .* for 0.1 s")
        with timeout, store.write("acme"):
            pass
        with store.read("acme") as tx:  # readers take no lock
            assert tx.collection("customers").count() == 0


def test_nested_write_transactions_fail_at_once(store: Store, tmp_path: Path) -> None:
    with store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c1"})
        nested = pytest.raises(StoreError, match=r"already locked by this thread")
        with nested, store.write("acme"):
            pass
        with pytest.raises(StoreError, match="already locked"):
            store.backup("acme", tmp_path / "backup.json")
        with store.write("beta") as other:  # other merchants are independent
            other.collection("customers").insert({"id": "b1"})
    with store.read("acme") as tx:
        assert tx.collection("customers").count() == 1
    with store.write("acme") as tx:  # and the guard was reset
        tx.collection("customers").delete("c1")


def test_open_store() -> None:
    assert isinstance(open_store("tinydb", Path("data")), TinyDBStore)
    assert isinstance(open_store("", Path("data")), TinyDBStore)
    # Connections open at first use: choosing the store needs no database.
    postgres = open_store("postgresql://portico:secret@db/portico", Path("data"))
    assert isinstance(postgres, PostgresStore)
    with pytest.raises(StoreError, match="unknown store 'mysql'") as error:
        open_store("mysql://portico:secret@db/portico", Path("data"))
    assert "secret" not in str(error.value)
