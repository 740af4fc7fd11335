"""What only the PostgreSQL store has: its schema, its locks across connections and
processes, its snapshots, and backups that move between the two stores.

The tests every store passes are in the other files (``store`` runs them on both).
"""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path

import psycopg
import pytest

from app.store import LockTimeout, StoreError, TinyDBStore
from app.store.migrate import latest_version, migrations, upgrade
from app.store.postgres import WRITE_LOCKS, PostgresStore
from tests.helpers.stores import new_schema

spawn = multiprocessing.get_context("spawn")


def insert_customers(url: str, worker: int, count: int) -> None:
    store = PostgresStore(url)
    for i in range(count):
        with store.write("acme") as tx:
            number = tx.next_number("customer")
            tx.collection("customers").insert({"id": f"{worker}-{i}", "number": number})
    store.close()


def test_processes_writing_at_once_number_without_gaps(postgres_store: PostgresStore) -> None:
    """Separate processes stand for separate servers: one database, one lock per merchant."""
    workers, each = 4, 25
    children = [
        spawn.Process(target=insert_customers, args=(postgres_store.conninfo, worker, each))
        for worker in range(workers)
    ]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
    assert [child.exitcode for child in children] == [0] * workers
    with postgres_store.read("acme") as tx:
        documents = list(tx.collection("customers").all())
    assert sorted(d["number"] for d in documents) == list(range(1, workers * each + 1))


def test_a_read_sees_one_snapshot(postgres_store: PostgresStore) -> None:
    with postgres_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c1"})
    with postgres_store.read("acme") as tx:
        customers = tx.collection("customers")
        assert customers.count() == 1
        with postgres_store.write("acme") as writer:  # another connection commits meanwhile
            writer.collection("customers").insert({"id": "c2"})
        assert customers.count() == 1
        assert customers.get("c2") is None
    with postgres_store.read("acme") as tx:
        assert tx.collection("customers").count() == 2


def test_a_held_lock_times_out_with_a_clear_error(postgres_store: PostgresStore) -> None:
    url = postgres_store.conninfo
    store = PostgresStore(url, lock_timeout=0.2)
    with psycopg.connect(url, autocommit=True) as other, other.transaction():
        other.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema() || '/acme'))",
            (WRITE_LOCKS,),
        )
        timeout = pytest.raises(LockTimeout, match=r"'acme' stayed locked .* for 0.2 s")
        with timeout, store.write("acme"):
            pass
        with store.read("acme") as tx:  # readers take no lock
            assert tx.collection("customers").count() == 0
        with store.write("beta") as tx:  # nor does another merchant wait
            tx.collection("customers").insert({"id": "b1"})
    store.close()


def test_a_database_without_the_schema_is_a_clear_error() -> None:
    with new_schema() as url:
        store = PostgresStore(url)
        message = rf"schema is at migration none, this Portico needs {latest_version()}"
        with pytest.raises(StoreError, match=message), store.read("acme"):
            pass
        with pytest.raises(StoreError, match="run `portico db upgrade`"):
            store.merchants()


def test_upgrade_applies_each_migration_once_even_when_servers_race() -> None:
    with new_schema() as url:
        results: list[list] = []
        threads = [threading.Thread(target=lambda: results.append(upgrade(url))) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(len(applied) for applied in results) == [0, 0, len(migrations())]
        assert upgrade(url) == []
        with psycopg.connect(url) as conn:
            versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations")]
        assert versions == [migration.version for migration in migrations()]
        store = PostgresStore(url)
        assert store.merchants() == []
        store.close()


def test_migration_files_are_numbered_in_order() -> None:
    versions = [migration.version for migration in migrations()]
    assert versions == [f"{n:04d}" for n in range(1, len(versions) + 1)]


def test_backups_move_between_the_stores(
    postgres_store: PostgresStore, tinydb_store: TinyDBStore, tmp_path: Path
) -> None:
    with tinydb_store.write("acme") as tx:
        for id in ("z", "a", "m"):
            tx.collection("invoices").insert({"id": id, "number": tx.next_number("invoice")})
        tx.collection("customers").insert({"id": "c1", "tags": ["x"], "paid": 1.0})
    tinydb_store.backup("acme", tmp_path / "from-tinydb.json")
    postgres_store.restore("acme", tmp_path / "from-tinydb.json")
    with postgres_store.read("acme") as tx:
        assert [d["id"] for d in tx.collection("invoices").all()] == ["z", "a", "m"]
        assert tx.collection("customers").find(paid=1.0) == [
            {"id": "c1", "tags": ["x"], "paid": 1.0}
        ]
    with postgres_store.write("acme") as tx:
        assert tx.next_number("invoice") == 4

    postgres_store.backup("acme", tmp_path / "from-postgres.json")
    fresh = TinyDBStore(tmp_path / "fresh")
    fresh.restore("acme", tmp_path / "from-postgres.json")
    with fresh.read("acme") as tx:
        assert [d["number"] for d in tx.collection("invoices").all()] == [1, 2, 3]
    with fresh.write("acme") as tx:
        assert tx.next_number("invoice") == 5


@pytest.mark.parametrize(
    "document", [{"id": "c1", "name": "a\x00b"}, {"id": "c1", "x": {"k\x00": 1}}]
)
def test_text_with_nul_is_refused_clearly(postgres_store: PostgresStore, document: dict) -> None:
    refused = pytest.raises(ValueError, match=r"U\+0000 \(NUL\) cannot be stored")
    with refused, postgres_store.write("acme") as tx:
        tx.collection("customers").insert(document)
    with postgres_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c1", "name": "a\\u0000b"})  # no NUL: fine
        with pytest.raises(ValueError, match="NUL"):
            tx.collection("customers").update("c1", {"name": "\x00"})
    with postgres_store.read("acme") as tx:
        assert tx.collection("customers").get("c1") == {"id": "c1", "name": "a\\u0000b"}
