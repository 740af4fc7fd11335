"""Both stores for one test suite: TinyDB always, PostgreSQL when ``PORTICO_TEST_POSTGRES`` says where.

Each test session works in a schema of its own (``search_path`` in the
connection URL), created, migrated and dropped by the session, so runs on
one database never see each other's rows, and neither do the worker processes
of one parallel run (``pytest -n``: each is a session of its own, and the
schema name carries its process id); each test starts from empty tables.
Without the variable the PostgreSQL cases skip and say why; with it (CI sets
it) an unreachable server is a failure, never a skip.

The fixtures (``postgres_url``, ``postgres_store``, ``any_store``) are in
``tests/conftest.py``, so every test folder can use them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import orjson
import psycopg
import pytest
from psycopg import sql

from app.store import Store, TinyDBStore, datafiles, files, journal
from app.store.postgres import PostgresStore

POSTGRES_URL = os.environ.get("PORTICO_TEST_POSTGRES", "")
STORES = ("tinydb", "tinydb-journal", "postgresql")


def with_search_path(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` (libpq's ``options`` parameter)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


@contextmanager
def new_schema() -> Iterator[str]:
    """A connection URL to a new, empty schema, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("PORTICO_TEST_POSTGRES not set: no PostgreSQL here")
    # The xdist worker (gw0, gw1 …) and the process in the name: whose schema it is.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    schema = f"portico_test_{worker}_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(f"PORTICO_TEST_POSTGRES is set but PostgreSQL cannot be reached: {error}")
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield with_search_path(POSTGRES_URL, schema)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def empty_tables(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE documents, sequences")


def journaled_store(data_dir: Path) -> TinyDBStore:
    """A TinyDB store that journals even the smallest commits (a big store's path) and
    folds the journal whenever it outgrows the file: both paths, all the time."""
    return TinyDBStore(data_dir, journal_from=0, fold_at=2.0)


def stored_tables(path: Path, parse: Callable[[bytes], Any] = json.loads) -> dict[str, Any]:
    """A data file and its journal as another program would read them: the file with
    ``parse`` (plain ``json``), then the commits of the journal that continues it."""
    tables = parse(path.read_bytes())
    version = tables.pop(files.VERSION_TABLE, {}).get("base", {}).get("version")
    journal_file = datafiles.journal_path(path)
    if not journal_file.exists():
        return tables
    with journal_file.open("rb") as file:
        continues, offset = journal.header_version(file)
        commits = journal.commits(file, offset, journal_file)[0] if continues == version else []
    for changes in commits:
        for name, documents in changes.items():
            table = tables.setdefault(name, {})
            for id, document in documents.items():
                if document is None:
                    table.pop(id, None)
                else:
                    table[id] = document
    return tables


def raw_data(store: Store, merchant: str) -> bytes:
    """Everything stored for ``merchant`` as bytes, for tests that look for what must
    never be stored, or compare before and after: the TinyDB file, or the PostgreSQL
    store's export in the same format."""
    if isinstance(store, TinyDBStore):  # the data file with its journal folded in
        return orjson.dumps(datafiles.load(store.path(merchant)))
    assert isinstance(store, PostgresStore)
    return orjson.dumps(store.export(merchant))
