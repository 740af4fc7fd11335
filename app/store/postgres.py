"""The PostgreSQL store: every merchant's documents as rows, for several app servers at once.

Rows are scoped by merchant like the TinyDB store's files (see
``migrations/0001_documents.sql``). The rules of :mod:`app.store.base` hold
across processes and machines:

- a write transaction first takes a transaction-level advisory lock on its
  merchant, so writers of one merchant take turns on every server (the
  services' read-check-write steps such as idempotent sign-ups and outbox
  claims rely on that) while other merchants write in parallel;
- a read transaction is ``REPEATABLE READ READ ONLY``: one snapshot, no lock;
- ``next_number`` updates its counter row inside the write transaction, so a
  rollback gives the number back;
- ``find(**equals)`` narrows with jsonb containment (``doc @> …``, GIN
  indexed) and then compares exactly in Python, because containment treats
  ``1`` and ``1.0`` as equal and a list as matching any list it contains.

Backups use the TinyDB file format (one object per collection, documents by
id, counters under ``_sequences``), so a backup moves between the two stores.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb, set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool, PoolTimeout

from app.store import files
from app.store.base import (
    COLLECTIONS,
    Collection,
    Document,
    DuplicateId,
    LockTimeout,
    NotFound,
    ReadCollection,
    ReadTransaction,
    StoreError,
    UnknownCollection,
    WriteTransaction,
)
from app.store.files import Tables
from app.store.migrate import current_version, latest_version
from app.store.tinydb_store import SEQUENCES
from app.store.values import (
    check_sequence,
    check_slug,
    is_exactly,
    json_document,
    plain_query,
)

WRITE_LOCKS = 0x706F7275  # pg_advisory_xact_lock(WRITE_LOCKS, hashtext(schema/merchant))

# The merchants whose write lock each thread holds: taking one again would wait for itself.
_held_locks = threading.local()


class PostgresStore:
    """The :class:`~app.store.base.Store` in a PostgreSQL database (``postgresql://…``)."""

    def __init__(self, conninfo: str, *, pool_size: int = 4, lock_timeout: float = 10.0) -> None:
        self.conninfo = conninfo
        self.pool_size = pool_size
        self.lock_timeout = lock_timeout
        self._pool: ConnectionPool | None = None
        self._pool_pid = 0
        self._pool_lock = threading.Lock()

    @contextmanager
    def read(self, merchant: str) -> Iterator[ReadTransaction]:
        """One snapshot of the merchant's committed data; takes no lock."""
        check_slug(merchant)
        with self._connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _ReadTransaction(merchant, conn)

    @contextmanager
    def write(self, merchant: str) -> Iterator[WriteTransaction]:
        """All-or-nothing changes, serialised per merchant across every server."""
        with self._locked(merchant) as conn:
            yield _WriteTransaction(merchant, conn)

    def merchants(self) -> list[str]:
        """Slugs of the merchants that have stored data, sorted."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT merchant FROM documents UNION SELECT merchant FROM sequences ORDER BY 1"
            ).fetchall()
        return [row[0] for row in rows]

    def export(self, merchant: str) -> Tables:
        """The merchant's data in the TinyDB file format, taken under its write lock."""
        with self._locked(merchant) as conn:
            return _export(conn, merchant)

    def load(self, merchant: str, tables: Tables, *, replace: bool) -> None:
        """Put data in the TinyDB file format into the store, in one transaction.

        ``replace`` removes what the merchant had first (a restore); otherwise
        documents are upserted by id and counters only move forward, so
        loading the same data again changes nothing (``portico db copy``).
        """
        with self._locked(merchant) as conn:
            if replace:
                conn.execute("DELETE FROM documents WHERE merchant = %s", (merchant,))
                conn.execute("DELETE FROM sequences WHERE merchant = %s", (merchant,))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO documents (merchant, collection, id, doc) VALUES (%s, %s, %s, %s)"
                    " ON CONFLICT (merchant, collection, id) DO UPDATE SET doc = EXCLUDED.doc"
                    " WHERE documents.doc IS DISTINCT FROM EXCLUDED.doc",
                    [
                        (merchant, name, id, Jsonb(document))
                        for name, table in tables.items()
                        if name != SEQUENCES
                        for id, document in table.items()
                    ],
                )
                cursor.executemany(
                    "INSERT INTO sequences (merchant, name, value) VALUES (%s, %s, %s)"
                    " ON CONFLICT (merchant, name)"
                    " DO UPDATE SET value = greatest(sequences.value, EXCLUDED.value)",
                    [
                        (merchant, name, counter["value"])
                        for name, counter in tables.get(SEQUENCES, {}).items()
                    ],
                )

    def backup(self, merchant: str, destination: Path) -> None:
        """Write the merchant's data as JSON (the TinyDB file format), atomically;
        :class:`NotFound` for a merchant without data."""
        tables = self.export(merchant)
        if not tables:
            raise NotFound(f"no stored data for merchant {merchant!r}")
        files.atomic_write(Path(destination), orjson.dumps(tables))

    def restore(self, merchant: str, source: Path) -> None:
        """Replace the merchant's data with a backup of either store; a source that
        does not parse (:class:`~app.store.files.CorruptData`) changes nothing."""
        check_slug(merchant)
        self.load(merchant, files.parse(Path(source).read_bytes(), Path(source)), replace=True)

    def close(self) -> None:
        """Close the connection pool (a later call opens a new one)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    @contextmanager
    def _locked(self, merchant: str) -> Iterator[psycopg.Connection]:
        """A write transaction holding the merchant's advisory lock."""
        check_slug(merchant)
        held: set[tuple[str, str]] = _held_locks.__dict__.setdefault("merchants", set())
        key = (self.conninfo, merchant)
        if key in held:
            raise StoreError(
                f"merchant {merchant!r} is already locked by this thread: a write transaction"
                " cannot be nested in another one for the same merchant"
            )
        held.add(key)
        try:
            with self._connection() as conn, conn.transaction():
                conn.execute(
                    "SELECT set_config('lock_timeout', %s, true)",
                    (f"{round(self.lock_timeout * 1000)}ms",),
                )
                try:
                    conn.execute(
                        # Keyed by schema too: stores in other schemas of the database
                        # (test sessions, the benchmark) never wait for each other.
                        "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema() || '/' || %s))",
                        (WRITE_LOCKS, merchant),
                    )
                except psycopg.errors.LockNotAvailable:
                    raise LockTimeout(
                        f"merchant {merchant!r} stayed locked by another writer"
                        f" for {self.lock_timeout} s"
                    ) from None
                yield conn
        finally:
            held.discard(key)

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        try:
            with self._opened_pool().connection() as conn:
                yield conn
        except PoolTimeout:
            raise StoreError("PostgreSQL did not answer: no connection within 10 s") from None

    def _opened_pool(self) -> ConnectionPool:
        """The pool of this process, opened at first use (a forked worker opens its own)."""
        with self._pool_lock:
            if self._pool is None or self._pool_pid != os.getpid():
                pool = ConnectionPool(
                    self.conninfo,
                    min_size=1,
                    max_size=self.pool_size,
                    kwargs={"autocommit": True},
                    configure=_configure,
                    check=ConnectionPool.check_connection,
                    timeout=10,
                    open=False,
                )
                try:
                    pool.open(wait=True, timeout=10)
                    with pool.connection() as conn:
                        _check_schema(conn)
                except BaseException:
                    pool.close()
                    raise
                self._pool, self._pool_pid = pool, os.getpid()
            return self._pool


def _configure(conn: psycopg.Connection) -> None:
    """orjson for jsonb in both directions: faster, and as strict as the TinyDB files."""
    set_json_loads(orjson.loads, conn)
    set_json_dumps(orjson.dumps, conn)


def _check_schema(conn: psycopg.Connection) -> None:
    version = current_version(conn)
    if version is None or version < latest_version():
        raise StoreError(
            f"the PostgreSQL schema is at migration {version or 'none'}, this Portico needs"
            f" {latest_version()}: run `portico db upgrade`"
        )


def _export(conn: psycopg.Connection, merchant: str) -> Tables:
    tables: Tables = {}
    rows = conn.execute(
        "SELECT collection, id, doc FROM documents WHERE merchant = %s ORDER BY seq", (merchant,)
    )
    for name, id, document in rows:
        tables.setdefault(name, {})[id] = document
    counters = conn.execute(
        "SELECT name, value FROM sequences WHERE merchant = %s ORDER BY name", (merchant,)
    )
    for name, value in counters:
        tables.setdefault(SEQUENCES, {})[name] = {"id": name, "value": value}
    return tables


class _ReadTransaction:
    """One merchant's data in one snapshot (:class:`~app.store.base.ReadTransaction`)."""

    def __init__(self, merchant: str, conn: psycopg.Connection) -> None:
        self.merchant = merchant
        self._conn = conn

    def collection(self, name: str) -> ReadCollection:
        return _ReadCollection(self._conn, self.merchant, _known(name))


class _WriteTransaction(_ReadTransaction):
    """One merchant's data inside a write block (:class:`~app.store.base.WriteTransaction`)."""

    def collection(self, name: str) -> Collection:
        return _Collection(self._conn, self.merchant, _known(name))

    def next_number(self, sequence: str) -> int:
        row = self._conn.execute(
            "INSERT INTO sequences (merchant, name, value) VALUES (%s, %s, 1)"
            " ON CONFLICT (merchant, name) DO UPDATE SET value = sequences.value + 1"
            " RETURNING value",
            (self.merchant, check_sequence(sequence)),
        ).fetchone()
        assert row is not None
        return row[0]


def _known(name: str) -> str:
    if name not in COLLECTIONS:
        raise UnknownCollection(f"unknown collection {name!r}")
    return name


class _ReadCollection:
    """Queries on one merchant's collection; every document returned is a fresh copy."""

    def __init__(self, conn: psycopg.Connection, merchant: str, name: str) -> None:
        self._conn = conn
        self._merchant = merchant
        self._name = name

    def get(self, id: str) -> Document | None:
        row = self._conn.execute(
            "SELECT doc FROM documents WHERE merchant = %s AND collection = %s AND id = %s",
            (self._merchant, self._name, id),
        ).fetchone()
        return None if row is None else row[0]

    def find(self, **equals: Any) -> list[Document]:
        equals = plain_query(equals)
        return list(self._matching(equals))

    def first(self, **equals: Any) -> Document | None:
        equals = plain_query(equals)
        return next(self._matching(equals, limit=1), None)

    def count(self, **equals: Any) -> int:
        equals = plain_query(equals)
        if not _containment_is_equality(equals):
            return sum(1 for _ in self._matching(equals))
        query = "SELECT count(*) FROM documents WHERE merchant = %s AND collection = %s"
        params: list[Any] = [self._merchant, self._name]
        if equals:
            query += " AND doc @> %s"
            params.append(Jsonb(json_document(equals)))
        row = self._conn.execute(query, params).fetchone()
        assert row is not None
        return row[0]

    def all(self) -> Iterator[Document]:
        return self._matching({})

    def _matching(self, equals: Mapping[str, Any], limit: int | None = None) -> Iterator[Document]:
        """Documents whose fields equal ``equals`` exactly, oldest first."""
        exact = _containment_is_equality(equals)
        where = "merchant = %s AND collection = %s"
        params: list[Any] = [self._merchant, self._name]
        if equals:
            where += " AND doc @> %s"
            params.append(Jsonb(json_document(equals)))
        query = f"SELECT doc FROM documents WHERE {where}"
        if equals and exact and limit is not None:
            # With a LIMIT the planner may walk documents_order in seq order, testing each
            # row for containment: for a value no row holds (a new sign-up's nonce) that
            # reads the whole collection. Materialised, the GIN index finds the matches
            # first, and only those are sorted.
            query = (
                f"WITH matching AS MATERIALIZED (SELECT doc, seq FROM documents WHERE {where})"
                " SELECT doc FROM matching"
            )
        query += " ORDER BY seq"
        if exact and limit is not None:
            query += " LIMIT %s"
            params.append(limit)
        rows = self._conn.execute(query, params)
        wanted = [(field, value, type(value)) for field, value in equals.items()]
        for (document,) in rows:
            if exact or all(
                field in document and is_exactly(document[field], value, kind)
                for field, value, kind in wanted
            ):
                yield document


class _Collection(_ReadCollection):
    """A collection inside a write transaction."""

    def insert(self, document: Mapping[str, Any]) -> Document:
        stored = _without_nul(json_document(document))
        id = stored.get("id")
        if not isinstance(id, str) or not id:
            raise ValueError(f'a document needs a non-empty string "id", not {id!r}')
        inserted = self._conn.execute(
            "INSERT INTO documents (merchant, collection, id, doc) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (self._merchant, self._name, id, Jsonb(stored)),
        )
        if inserted.rowcount == 0:
            raise DuplicateId(f"{self._name} already has a document with id {id!r}")
        return stored

    def update(self, id: str, changes: Mapping[str, Any]) -> Document:
        fields = _without_nul(json_document(changes))
        if fields.get("id", id) != id:
            raise ValueError(f"the id of {self._name} {id!r} cannot change")
        row = self._conn.execute(
            "UPDATE documents SET doc = doc || %s"
            " WHERE merchant = %s AND collection = %s AND id = %s RETURNING doc",
            (Jsonb(fields), self._merchant, self._name, id),
        ).fetchone()
        if row is None:
            raise NotFound(f"{self._name} has no document with id {id!r}")
        return row[0]

    def delete(self, id: str) -> None:
        deleted = self._conn.execute(
            "DELETE FROM documents WHERE merchant = %s AND collection = %s AND id = %s",
            (self._merchant, self._name, id),
        )
        if deleted.rowcount == 0:
            raise NotFound(f"{self._name} has no document with id {id!r}")


def _containment_is_equality(equals: Mapping[str, Any]) -> bool:
    """Whether ``doc @> equals`` already means exact equality: for text, booleans and
    null it does; numbers (1 = 1.0) and lists or objects (subsets match) need a check."""
    return all(value is None or type(value) in (str, bool) for value in equals.values())


def _without_nul(document: Document) -> Document:
    """``document`` unless a text in it holds U+0000, which jsonb cannot store
    (:class:`ValueError`, before the database refuses it less clearly)."""
    if _has_nul(document):
        raise ValueError("text with the character U+0000 (NUL) cannot be stored in PostgreSQL")
    return document


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False
