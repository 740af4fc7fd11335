"""Moving a merchant's data from the TinyDB store to PostgreSQL, and proving it arrived.

The copy upserts documents by id and only moves counters forward, so running
it again (after a failure, or to take up sign-ups made meanwhile) changes
nothing that already arrived. The proof compares, per collection, the number
of documents and the sum of every integer field: money is stored as integers
of minor units, so a lost or altered invoice, payment or ledger entry shows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from app.store import datafiles
from app.store.files import Tables
from app.store.postgres import PostgresStore
from app.store.tinydb_store import SEQUENCES, TinyDBStore


@dataclass(frozen=True)
class Copied:
    merchant: str
    documents: int
    collections: int
    differences: list[str]

    def summary(self) -> str:
        if self.differences:
            return f"{self.merchant}: copied, but the copy differs: " + "; ".join(self.differences)
        return (
            f"{self.merchant}: {self.documents} document(s) in {self.collections} collection(s)"
            " copied; counts and sums match"
        )


def copy_merchant(source: TinyDBStore, target: PostgresStore, merchant: str) -> Copied:
    """Copy one merchant (a file that is replaced atomically, so one consistent
    version of it) and compare what the target holds afterwards."""
    tables = datafiles.load(source.path(merchant))
    target.load(merchant, tables, replace=False)
    documents = {name: table for name, table in tables.items() if name != SEQUENCES}
    return Copied(
        merchant,
        documents=sum(len(table) for table in documents.values()),
        collections=len(documents),
        differences=differences(tables, target.export(merchant)),
    )


def differences(source: Tables, target: Tables) -> list[str]:
    """How ``target`` falls short of ``source``: counts and integer sums per collection,
    and counters behind the source's."""
    found = []
    for name in sorted((set(source) | set(target)) - {SEQUENCES}):
        wanted, got = source.get(name, {}), target.get(name, {})
        if len(wanted) != len(got):
            found.append(f"{name}: {len(wanted)} document(s) in TinyDB, {len(got)} in PostgreSQL")
            continue
        wanted_sums, got_sums = integer_sums(wanted.values()), integer_sums(got.values())
        for field in sorted(set(wanted_sums) | set(got_sums)):
            if wanted_sums[field] != got_sums[field]:
                found.append(
                    f"{name}.{field}: sums to {wanted_sums[field]} in TinyDB,"
                    f" {got_sums[field]} in PostgreSQL"
                )
    for name, counter in sorted(source.get(SEQUENCES, {}).items()):
        value = target.get(SEQUENCES, {}).get(name, {}).get("value", 0)
        if value < counter["value"]:
            found.append(f"sequence {name}: {counter['value']} in TinyDB, {value} in PostgreSQL")
    return found


def integer_sums(documents: Any) -> Counter[str]:
    """The sum of each integer field over ``documents``, by path (``totals.gross``,
    ``lines[].amount``); booleans are not integers here."""
    sums: Counter[str] = Counter()

    def add(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                add(item, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for item in value:
                add(item, f"{path}[]")
        elif type(value) is int:
            sums[path] += value

    for document in documents:
        add(document, "")
    return sums
