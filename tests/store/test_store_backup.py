from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.store import CorruptData, NotFound, Store, TinyDBStore, datafiles
from tests.helpers.stores import journaled_store


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


@pytest.mark.parametrize("journaled", [False, True], ids=["whole file", "journaled"])
def test_a_tinydb_backup_is_one_plain_tinydb_file(
    data_dir: Path, tmp_path: Path, journaled: bool, parses
) -> None:
    """Also when the latest commits are still in the journal: the backup holds them."""
    store = journaled_store(data_dir) if journaled else TinyDBStore(data_dir)
    add_customer(store, "acme", "c1")
    add_customer(store, "acme", "c2")
    assert datafiles.journal_path(store.path("acme")).exists() == journaled
    backup = tmp_path / "acme.json"
    store.backup("acme", backup)
    plain = json.loads(backup.read_bytes())
    assert list(plain["customers"].values()) == customers(store, "acme")
    # Restoring into a fresh instance, as after losing a disk.
    fresh = TinyDBStore(tmp_path / "elsewhere")
    fresh.restore("acme", backup)
    assert customers(fresh, "acme") == [{"id": "c1", "number": 1}, {"id": "c2", "number": 2}]
    assert fresh.merchants() == ["acme"]
    # Parsed once, by the restore; the backup wrote from the cache and reads found it filled.
    assert parses.count == 1


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
