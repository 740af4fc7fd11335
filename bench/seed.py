"""Stores of a given size, filled fast: one real sign-up, then copies of what it wrote.

A sign-up through the real order page writes the customer, subscription,
first invoice, ledger entry, consents, payment method, sign-up record and
outbox entries. :class:`Copier` repeats those documents with new ids, emails
and gapless customer and invoice numbers (taken from the store's own
sequences), thousands per write transaction, so a store of 100 000 customers
looks exactly like one that 100 000 sign-ups built, without the hours. The
PostgreSQL store gets the same copies by ``COPY`` straight into its documents
table (a million customers are eleven million rows).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import orjson
import psycopg
from psycopg import sql

from app.billing.invoices import invoice_number
from app.config.models import MerchantConfig
from app.container import Portico
from app.factory import create_app
from app.settings import load_settings
from app.store import COLLECTIONS, Document, Store, WriteTransaction
from tests.helpers.orders import VALID, form_token

MERCHANT = "acme"
BATCH = 2000  # copies per write transaction
SKIP = {"metrics"}  # page-view counters: per day, not per customer

Documents = dict[str, list[Document]]


def app_settings(instance_dir: Path, config_dir: Path, store: str = "tinydb") -> dict[str, str]:
    """The ``PORTICO_*`` variables of every Portico the bench runs: gunicorn, commands, seeding."""
    return {
        "PORTICO_STORE": store,
        "PORTICO_INSTANCE_DIR": str(instance_dir),
        "PORTICO_CONFIG_DIR": str(config_dir),
        "PORTICO_SECRET_KEY": "bench-secret-key-not-for-production",
        "PORTICO_SMTP_URL": "",
        "PORTICO_MIN_FILL_SECONDS": "0",
        "PORTICO_SIGNUP_RATE_LIMIT": "1000000 per minute",
    }


def open_portico(instance_dir: Path, config_dir: Path, store: str = "tinydb") -> Portico:
    """Portico's services over that instance folder, without a web app."""
    return Portico(load_settings(app_settings(instance_dir, config_dir, store)))


def merchant_config(portico: Portico, merchant: str = MERCHANT) -> MerchantConfig:
    loaded = portico.merchants.get(merchant)
    if loaded is None or loaded.config is None:
        raise RuntimeError(f"{merchant}: no valid merchant file")
    return loaded.config


def signup_documents(scratch: Path, config_dir: Path, merchant: str = MERCHANT) -> Documents:
    """Everything one valid sign-up on ``merchant``'s order page writes, by collection."""
    shutil.rmtree(scratch, ignore_errors=True)
    app = create_app(app_settings(scratch, config_dir))
    client = app.test_client()
    page = client.get(f"/{merchant}/order").get_data(as_text=True)
    answer = client.post(
        f"/{merchant}/order", data={**VALID[merchant], "form_token": form_token(page)}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"the template sign-up was refused with {answer.status_code}")
    with app.extensions["portico"].store.read(merchant) as tx:
        return {name: list(tx.collection(name).all()) for name in sorted(COLLECTIONS - SKIP)}


class Copier:
    """Copies of a group of documents, each with its own ids and numbers.

    Every document id of the group, the customer's number, email and the
    sign-up's nonce, and the invoice numbers are replaced in the group's JSON
    text; ``tag`` keeps the ids of different copiers apart.
    """

    def __init__(self, documents: Documents, tag: str) -> None:
        self.documents = {name: docs for name, docs in documents.items() if docs}
        self._text = orjson.dumps(self.documents).decode()
        self._tag = tag
        self.ids = [doc["id"] for docs in self.documents.values() for doc in docs]
        self.invoices = [doc["number"] for doc in self.documents.get("invoices", [])]
        customers = self.documents.get("customers", [])
        self.customer = customers[0] if customers else None
        literals = [*self.ids, *self.invoices]
        if self.customer is not None:
            literals += [
                self.customer["number"],
                self.customer["email"],
                self.customer["email_key"],
            ]
        literals += [doc["nonce"] for doc in self.documents.get("signups", [])]
        self._pattern = re.compile("|".join(re.escape(x) for x in sorted(literals, key=len)[::-1]))

    def copy(self, number: int, customer_number: int | None, invoices: list[str]) -> Documents:
        """Copy ``number``: new ids, ``customer_number`` and the given invoice numbers."""
        replacements = {
            old: f"{old.partition('_')[0]}_{self._tag}{index:02x}{number:0{22 - len(self._tag)}x}"
            for index, old in enumerate(self.ids)
        }
        replacements.update(zip(self.invoices, invoices, strict=True))
        if self.customer is not None and customer_number is not None:
            email = f"seed.{number}@example.com"
            replacements[self.customer["number"]] = f"C-{customer_number:06d}"
            replacements[self.customer["email"]] = email
            replacements[self.customer["email_key"]] = email
        for signup in self.documents.get("signups", []):
            replacements[signup["nonce"]] = f"seed-{self._tag}-{number}"
        text = self._pattern.sub(lambda match: replacements[match.group()], self._text)
        return orjson.loads(text)


def _insert(tx: WriteTransaction, documents: Documents) -> None:
    for name, docs in documents.items():
        collection = tx.collection(name)
        for doc in docs:
            collection.insert(doc)


def _batches(total: int) -> Iterator[range]:
    for start in range(0, total, BATCH):
        yield range(start, min(total, start + BATCH))


def add_customers(
    store: Store, config: MerchantConfig, template: Documents, count: int, start: int = 0
) -> None:
    """``count`` more customers like the template's, each with its own number and invoice."""
    copier = Copier(template, tag="c")
    issued = [datetime.fromisoformat(doc["issued_at"]) for doc in template.get("invoices", [])]
    for batch in _batches(count):
        with store.write(MERCHANT) as tx:
            for number in batch:
                customer = tx.next_number("customer")
                invoices = [invoice_number(tx, config, moment) for moment in issued]
                _insert(tx, copier.copy(start + number, customer, invoices))


class _Counters:
    """``next_number`` for a bulk load in one transaction: the counters are read first (the
    connection is busy during ``COPY``), counted on here and written back by :meth:`save`."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._conn = conn
        rows = conn.execute("SELECT name, value FROM sequences WHERE merchant = %s", (MERCHANT,))
        self._values: dict[str, int] = dict(rows.fetchall())

    def next_number(self, name: str) -> int:
        self._values[name] = self._values.get(name, 0) + 1
        return self._values[name]

    def save(self) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO sequences (merchant, name, value) VALUES (%s, %s, %s)"
                " ON CONFLICT (merchant, name) DO UPDATE SET value = EXCLUDED.value",
                [(MERCHANT, name, value) for name, value in self._values.items()],
            )


def copy_customers(
    url: str, config: MerchantConfig, template: Documents, count: int, start: int = 0
) -> None:
    """:func:`add_customers` for the PostgreSQL store at ``url``, in one transaction.

    As PostgreSQL's "Populating a Database" advises, the documents table's secondary
    indexes (the migrations' GIN and order indexes) are dropped, the copies written with
    ``COPY`` and the indexes built again from their own definitions: building a GIN
    index once is many times faster than growing it row by row. Dropping them locks
    the table, so nothing else writes meanwhile. ``ANALYZE`` then tells the planner the
    new size before the first sign-up.
    """
    copier = Copier(template, tag="c")
    issued = [datetime.fromisoformat(doc["issued_at"]) for doc in template.get("invoices", [])]
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction():
            indexes = conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
                " AND tablename = 'documents'"
                " AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ).fetchall()
            for name, _ in indexes:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            counters = _Counters(conn)
            with conn.cursor().copy(
                "COPY documents (merchant, collection, id, doc) FROM STDIN"
            ) as copy:
                for number in range(start, start + count):
                    customer = counters.next_number("customer")
                    invoices = [invoice_number(counters, config, moment) for moment in issued]
                    for name, docs in copier.copy(number, customer, invoices).items():
                        for doc in docs:
                            copy.write_row((MERCHANT, name, doc["id"], orjson.dumps(doc).decode()))
            counters.save()
            conn.execute("SET LOCAL maintenance_work_mem = '1GB'")
            for _, definition in indexes:
                conn.execute(definition)
        conn.execute("ANALYZE documents")


def empty_postgres(url: str) -> None:
    """Empty the scratch database at ``url``; refused if it holds any merchant but the
    bench's (then it is no scratch database)."""
    with psycopg.connect(url, autocommit=True) as conn:
        other = conn.execute(
            "SELECT merchant FROM sequences WHERE merchant <> %s LIMIT 1", (MERCHANT,)
        ).fetchone()
        if other is not None:
            raise RuntimeError(
                f"{url} holds merchant {other[0]!r}: PORTICO_BENCH_POSTGRES must name a"
                " scratch database, which the bench empties"
            )
        conn.execute("TRUNCATE documents, sequences")


def add_invoices(store: Store, config: MerchantConfig, template: Documents, count: int) -> None:
    """``count`` more invoices (with their ledger entries) for the template's customer."""
    one_invoice = {name: template[name] for name in ("invoices", "ledger")}
    copier = Copier(one_invoice, tag="f")
    issued = datetime.fromisoformat(template["invoices"][0]["issued_at"])
    for batch in _batches(count):
        with store.write(MERCHANT) as tx:
            for number in batch:
                _insert(tx, copier.copy(number, None, [invoice_number(tx, config, issued)]))


def top_up(instance_dir: Path, config_dir: Path, store: str, template: Documents, size: int) -> int:
    """Add customers until ``MERCHANT`` has ``size`` (none if it has more); returns how many
    it has. Run it in a child process: the parsed store stays out of the bench's memory."""
    portico = open_portico(instance_dir, config_dir, store)
    with portico.store.read(MERCHANT) as tx:
        count = tx.collection("customers").count()
    # Copies numbered from the count on: never an id an earlier copy took.
    if size > count and store.startswith("postgresql"):
        copy_customers(store, merchant_config(portico), template, size - count, count)
    elif size > count:
        add_customers(portico.store, merchant_config(portico), template, size - count, count)
    return max(size, count)
