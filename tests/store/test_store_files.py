from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from app.store import CorruptData, TinyDBStore, files


def test_atomic_write_replaces_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "acme.json"
    target.write_bytes(b"old")
    identity = files.atomic_write(target, b'{"a":{}}')
    assert target.read_bytes() == b'{"a":{}}'
    stat = target.stat()
    assert identity == (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    assert [p.name for p in tmp_path.iterdir()] == ["acme.json"]


def test_each_version_is_stamped_later_than_the_one_it_replaces(tmp_path: Path) -> None:
    """Inode numbers come back at once, so the cache key relies on the stamp."""
    target = tmp_path / "acme.json"
    far_future = 4_000_000_000 * 10**9
    files.atomic_write(target, b"{}")
    os.utime(target, ns=(far_future, far_future))
    identities = [files.atomic_write(target, b"{}") for _ in range(20)]
    stamps = [identity[2] for identity in identities]
    assert stamps == sorted(set(stamps))
    assert stamps[0] == far_future + 1


def test_an_unchanged_file_is_parsed_once(tinydb_store: TinyDBStore, parses) -> None:
    with tinydb_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c1"})
    for _ in range(3):
        with tinydb_store.read("acme") as tx:
            assert tx.collection("customers").get("c1") == {"id": "c1"}
    with tinydb_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c2"})
    with tinydb_store.read("acme") as tx:
        assert tx.collection("customers").count() == 2
    assert parses.count == 0  # our own commits went straight into the cache

    TinyDBStore(tinydb_store.data_dir).path("acme").touch()  # a change we did not make
    for _ in range(3):
        with tinydb_store.read("acme") as tx:
            assert tx.collection("customers").count() == 2
    assert parses.count == 1


def test_a_file_replaced_behind_our_back_is_read_again(tinydb_store: TinyDBStore) -> None:
    with tinydb_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c1"})
    with tinydb_store.read("acme") as tx:
        assert tx.collection("customers").count() == 1
    files.atomic_write(
        tinydb_store.path("acme"), json.dumps({"customers": {"c9": {"id": "c9"}}}).encode()
    )
    with tinydb_store.read("acme") as tx:
        assert [d["id"] for d in tx.collection("customers").all()] == ["c9"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is not valid JSON"),
        (b'{"customers": {"c1": {"id": "c1"}', "is not valid JSON"),
        (b"[]", "the top level is not an object"),
        (b'{"customers": []}', "table 'customers' is not an object"),
        (b'{"customers": {"c1": 5}}', "customers\\['c1'\\] is not an object with a matching"),
        (b'{"customers": {"c1": {"id": "c2"}}}', "customers\\['c1'\\] .* matching \"id\""),
    ],
)
def test_a_corrupt_file_is_an_error_never_an_empty_store(
    tinydb_store: TinyDBStore, content: bytes, message: str
) -> None:
    path = tinydb_store.path("acme")
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(CorruptData, match=message) as error, tinydb_store.read("acme"):
        pass
    assert str(path) in str(error.value)
    with pytest.raises(CorruptData), tinydb_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c1"})
    assert path.read_bytes() == content


def test_the_first_write_removes_what_a_killed_writer_left_behind(data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    orphan = data_dir / ".acme.json.k2j4x9.tmp"  # as atomic_write names its temporary file
    orphan.write_bytes(b'{"half": ')
    others = [data_dir / ".stromma.json.a1b2c3.tmp", data_dir / "acme.json.notes"]
    for other in others:
        other.write_bytes(b"keep")
    with TinyDBStore(data_dir).write("acme") as tx:
        tx.collection("customers").insert({"id": "c1"})
    assert not orphan.exists()
    assert all(other.read_bytes() == b"keep" for other in others)
