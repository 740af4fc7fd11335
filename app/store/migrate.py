"""Schema migrations of the PostgreSQL store: ordered SQL files, each applied once.

``app/store/migrations/NNNN_name.sql`` run in the order of their numbers, each
in its own transaction together with its row in ``schema_migrations``, so a
failed file leaves neither a half-applied schema nor a record of it. A
session-level advisory lock makes servers that upgrade at the same moment
take turns; the second one finds nothing left to do.

Plain SQL files are enough here: the schema is two tables that only ever grow
by new files, and every change must be reviewable as the SQL that runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

from app.store.base import StoreError

MIGRATION_LOCK = (0x706F7274, 0)  # ("port", 0): pg_advisory_lock's two-integer key
_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: str  # "0001"
    name: str
    sql: str


def migrations() -> list[Migration]:
    """The migrations shipped with this version of Portico, in order."""
    found = []
    for entry in resources.files("app.store").joinpath("migrations").iterdir():
        if match := _FILE_NAME.fullmatch(entry.name):
            found.append(Migration(match[1], match[2], entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda migration: migration.version)


def latest_version() -> str:
    return migrations()[-1].version


def upgrade(conninfo: str) -> list[Migration]:
    """Apply every migration the database lacks; returns those applied now.
    A database that cannot be reached or refuses a migration is a :class:`StoreError`."""
    try:
        return _upgrade(conninfo)
    except psycopg.Error as error:
        raise StoreError(f"the upgrade failed: {error}") from None


def _upgrade(conninfo: str) -> list[Migration]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", MIGRATION_LOCK)
        try:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            done = []
            for migration in migrations():
                if migration.version in applied:
                    continue
                with conn.transaction():
                    conn.execute(sql.SQL(migration.sql))  # our own file, not user input
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
                done.append(migration)
            return done
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", MIGRATION_LOCK)


def current_version(conn: psycopg.Connection) -> str | None:
    """The newest migration applied to the database, or ``None`` before the first."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] if row else None
