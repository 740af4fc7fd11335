"""The journal of a big data file: commits appended, folded in, and what crashes leave."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from app.store import CorruptData, TinyDBStore, datafiles, files, journal
from tests.helpers.stores import stored_tables

BALLAST = "x" * 4000  # makes a file "big" for a store that journals from 4 000 bytes on


def big_store(data_dir: Path, fold_at: float = datafiles.FOLD_AT) -> TinyDBStore:
    store = TinyDBStore(data_dir, journal_from=4000, fold_at=fold_at)
    with store.write("acme") as tx:
        tx.collection("audit").insert({"id": "ballast", "text": BALLAST})
    return store


def insert(store: TinyDBStore, *ids: str) -> None:
    for id in ids:
        with store.write("acme") as tx:
            tx.collection("customers").insert({"id": id, "number": tx.next_number("customer")})


def customers(store: TinyDBStore) -> list[str]:
    with store.read("acme") as tx:
        return [d["id"] for d in tx.collection("customers").all()]


def test_a_small_store_is_written_whole(tinydb_store: TinyDBStore) -> None:
    insert(tinydb_store, "c1", "c2")
    assert not datafiles.journal_path(tinydb_store.path("acme")).exists()
    assert list(json.loads(tinydb_store.path("acme").read_bytes())["customers"]) == ["c1", "c2"]


def test_a_big_store_appends_commits_and_leaves_the_data_file_alone(data_dir: Path) -> None:
    store = big_store(data_dir)
    path = store.path("acme")
    written = path.read_bytes()
    insert(store, "c1", "c2")
    with store.write("acme") as tx:
        tx.collection("customers").update("c1", {"email": "a@example.com"})
        tx.collection("customers").delete("c2")
    assert path.read_bytes() == written
    assert customers(store) == ["c1"]
    assert stored_tables(path)["customers"] == {
        "c1": {"id": "c1", "number": 1, "email": "a@example.com"}
    }
    # Each commit is one frame holding only what it changed.
    with datafiles.journal_path(path).open("rb") as file:
        version, offset = journal.header_version(file)
        commits = journal.commits(file, offset, path)[0]
    assert version == json.loads(written)[files.VERSION_TABLE]["base"]["version"]
    assert commits[-1] == {
        "customers": {"c1": {"id": "c1", "number": 1, "email": "a@example.com"}, "c2": None}
    }
    assert [sorted(changes) for changes in commits] == [
        ["_sequences", "customers"],
        ["_sequences", "customers"],
        ["customers"],
    ]


def test_the_journal_is_folded_in_when_it_outgrows_its_share(data_dir: Path) -> None:
    store = big_store(data_dir, fold_at=0.25)
    path = store.path("acme")
    journal_file = datafiles.journal_path(path)
    count = 0
    while count == 0 or journal_file.exists():
        count += 1
        insert(store, f"c{count}")
        assert count < 100, "never folded"
    assert count > 5  # several commits were journaled before the fold
    stored = json.loads(path.read_bytes())
    assert list(stored["customers"]) == [f"c{n}" for n in range(1, count + 1)]
    assert customers(store) == list(stored["customers"])


def test_a_journal_older_than_its_data_file_is_ignored_and_replaced(data_dir: Path) -> None:
    """A crash between a fold's replace and its unlink leaves the folded journal behind."""
    store = big_store(data_dir)
    path = store.path("acme")
    insert(store, "c1", "c2")
    journal_file = datafiles.journal_path(path)
    shutil.copy(journal_file, data_dir / "old-journal")
    with store.write("acme") as tx:
        tx.collection("customers").delete("c2")
    datafiles.write_whole(path, datafiles.load(path))  # a fold, as at the quarter
    shutil.copy(data_dir / "old-journal", journal_file)  # back, as if never unlinked
    assert customers(store) == ["c1"]  # c2 does not come back from the old journal
    assert customers(TinyDBStore(data_dir)) == ["c1"]
    insert(store, "c3")
    assert stored_tables(path)["customers"].keys() == {"c1", "c3"}


def test_a_data_file_replaced_behind_our_back_ignores_the_journal(data_dir: Path) -> None:
    store = big_store(data_dir)
    insert(store, "c1")
    files.atomic_write(store.path("acme"), b'{"customers": {"c9": {"id": "c9"}}}')
    assert customers(store) == ["c9"]


def test_a_commit_that_is_not_one_is_an_error(data_dir: Path) -> None:
    store = big_store(data_dir)
    insert(store, "c1")
    with datafiles.journal_path(store.path("acme")).open("ab") as file:
        file.write(journal.frame({"customers": {"c2": {"id": "other"}}}))
    with pytest.raises(CorruptData, match="is not a journal of this store"):
        customers(store)
