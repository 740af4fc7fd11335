from __future__ import annotations

from pathlib import Path

import pytest

from app.store import CorruptData, NotFound, Store, TinyDBStore


def add_customer(store: Store, merchant: str, id: str) -> None:
    with store.write(merchant) as tx:
        number = tx.next_number("customer")
        tx.collection("customers").insert({"id": id, "number": number})


def customers(store: Store, merchant: str) -> list[dict]:
    with store.read(merchant) as tx:
        return list(tx.collection("customers").all())


def test_backup_and_restore_round_trip(store: Store, tmp_path: Path) -> None:
    add_customer(store, "acme", "c1")
    add_customer(store, "acme", "c2")
    add_customer(store, "other", "o1")
    backup = tmp_path / "backups" / "acme.json"
    backup.parent.mkdir()
    store.backup("acme", backup)

    add_customer(store, "acme", "c3")
    store.restore("acme", backup)
    assert customers(store, "acme") == [{"id": "c1", "number": 1}, {"id": "c2", "number": 2}]
    add_customer(store, "acme", "c3")  # the counters come back with the data
    assert customers(store, "acme")[-1] == {"id": "c3", "number": 3}
    assert customers(store, "other") == [{"id": "o1", "number": 1}]  # untouched


def test_a_tinydb_backup_is_the_data_file(
    tinydb_store: TinyDBStore, tmp_path: Path, parses
) -> None:
    add_customer(tinydb_store, "acme", "c1")
    add_customer(tinydb_store, "acme", "c2")
    backup = tmp_path / "acme.json"
    tinydb_store.backup("acme", backup)
    assert backup.read_bytes() == tinydb_store.path("acme").read_bytes()
    # Restoring into a fresh instance, as after losing a disk.
    fresh = TinyDBStore(tmp_path / "elsewhere")
    fresh.restore("acme", backup)
    assert customers(fresh, "acme") == [{"id": "c1", "number": 1}, {"id": "c2", "number": 2}]
    assert fresh.merchants() == ["acme"]
    # The backup was checked once and parsed once by the restore; reads found the cache filled.
    assert parses.count == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not json at all", "is not valid JSON"),
        (b'{"customers": [1, 2]}', "is not a TinyDB database of this store"),
    ],
)
def test_restore_refuses_what_is_not_a_backup(
    store: Store, tmp_path: Path, content: bytes, message: str
) -> None:
    add_customer(store, "acme", "c1")
    source = tmp_path / "bad.json"
    source.write_bytes(content)
    with pytest.raises(CorruptData, match=message) as error:
        store.restore("acme", source)
    assert str(source) in str(error.value)
    assert customers(store, "acme") == [{"id": "c1", "number": 1}]


def test_backup_refuses_a_merchant_without_data(store: Store, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no stored data for merchant 'acme'"):
        store.backup("acme", tmp_path / "acme.json")
    assert not (tmp_path / "acme.json").exists()


def test_backup_refuses_a_corrupt_file(tinydb_store: TinyDBStore, tmp_path: Path) -> None:
    tinydb_store.path("acme").parent.mkdir()
    tinydb_store.path("acme").write_bytes(b"{")
    with pytest.raises(CorruptData):
        tinydb_store.backup("acme", tmp_path / "acme.json")
    assert not (tmp_path / "acme.json").exists()


def test_backup_and_restore_check_the_slug(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="invalid merchant slug"):
        store.backup("../acme", tmp_path / "x.json")
    with pytest.raises(ValueError, match="invalid merchant slug"):
        store.restore("../acme", tmp_path / "x.json")
