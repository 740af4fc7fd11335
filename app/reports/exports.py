"""Exports of one merchant's customers, subscriptions, invoices and consents as CSV or JSON.

Rows are built from the store with the merchant's config, one flat dict per
document; the writers turn them into text. CSV is written with :mod:`csv`
(RFC 4180 quoting) and is safe to open in a spreadsheet: a text cell that
starts like a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a leading
``'``. Numbers Portico computes itself (amounts as decimals) are left alone,
so a credit note's ``-9.00`` stays a number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from app.billing.parties import buyer_of
from app.config.models import MerchantConfig
from app.core.money import to_decimal
from app.store import ReadTransaction, Store

Row = dict[str, Any]
KINDS = ("customers", "subscriptions", "invoices", "consents")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXCEL_BOM = "\ufeff"  # Excel reads a CSV as UTF-8 only when it starts with this


def rows(store: Store, merchant: str, config: MerchantConfig, kind: str) -> list[Row]:
    """Every document of ``kind`` as a flat row, oldest first."""
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}; choose one of: {', '.join(KINDS)}")
    with store.read(merchant) as tx:
        return list(_BUILDERS[kind](tx, config))


def _amount(minor: int | None, currency: str) -> Decimal | None:
    return None if minor is None else to_decimal(minor, currency)


def _customers(tx: ReadTransaction, config: MerchantConfig) -> Iterable[Row]:
    country = config.merchant.address.country
    latest = {s["customer_id"]: s for s in tx.collection("subscriptions").all()}
    for customer in tx.collection("customers").all():
        buyer = buyer_of(customer, country)
        subscription = latest.get(customer["id"]) or {}
        yield {
            "customer_number": customer["number"],
            "name": buyer.name if buyer.name != buyer.email else "",
            "email": customer["email"],
            "company": buyer.company,
            "vat_id": buyer.vat_id or "",
            "country": buyer.country,
            "language": customer.get("language") or "",
            "payment_method": customer.get("payment_method") or "",
            "plan": subscription.get("plan_id", ""),
            "status": subscription.get("status", ""),
            "created_at": customer["created_at"],
        }


def _subscriptions(tx: ReadTransaction, config: MerchantConfig) -> Iterable[Row]:
    numbers = {c["id"]: c["number"] for c in tx.collection("customers").all()}
    for s in tx.collection("subscriptions").all():
        yield {
            "customer_number": numbers.get(s["customer_id"], ""),
            "plan": s["plan_id"],
            "status": s["status"],
            "price": _amount(s["price"], s["currency"]),
            "currency": s["currency"],
            "interval": s["interval"],
            "interval_count": s["interval_count"],
            "coupon": s.get("coupon_code") or "",
            "trial_end": s.get("trial_end") or "",
            "current_period_end": s.get("current_period_end") or "",
            "cancel_at_period_end": bool(s.get("cancel_at_period_end")),
            "cancel_reason": s.get("cancel_reason") or "",
            "created_at": s["created_at"],
            "canceled_at": s.get("canceled_at") or "",
            "ended_at": s.get("ended_at") or "",
        }


def _invoices(tx: ReadTransaction, config: MerchantConfig) -> Iterable[Row]:
    for invoice in tx.collection("invoices").all():
        buyer = invoice.get("buyer") or {}
        currency = invoice["currency"]
        yield {
            "number": invoice["number"],
            "kind": invoice["kind"],
            "status": invoice["status"],
            "customer_number": invoice.get("customer_number") or "",
            "name": buyer.get("name", ""),
            "company": buyer.get("company", ""),
            "vat_id": buyer.get("vat_id") or "",
            "country": buyer.get("country", ""),
            "issued_at": invoice["issued_at"],
            "due_at": invoice.get("due_at") or "",
            "net": _amount(invoice["net"], currency),
            "tax_rate": invoice.get("tax_rate", ""),
            "tax": _amount(invoice["tax"], currency),
            "gross": _amount(invoice["gross"], currency),
            "amount_paid": _amount(invoice.get("amount_paid", 0), currency),
            "currency": currency,
            "paid_at": invoice.get("paid_at") or "",
        }


def _consents(tx: ReadTransaction, config: MerchantConfig) -> Iterable[Row]:
    customers = {c["id"]: c for c in tx.collection("customers").all()}
    for consent in tx.collection("consents").all():
        customer = customers.get(consent["customer_id"]) or {}
        yield {
            "customer_number": customer.get("number", ""),
            "email": customer.get("email", ""),
            "consent": consent["name"],
            "text": consent["text"],
            "language": consent.get("language") or "",
            "given_at": consent["given_at"],
        }


_BUILDERS: Mapping[str, Callable[[ReadTransaction, MerchantConfig], Iterable[Row]]] = {
    "customers": _customers,
    "subscriptions": _subscriptions,
    "invoices": _invoices,
    "consents": _consents,
}


# --- writers ------------------------------------------------------------------


def safe_cell(value: Any) -> str:
    """A CSV cell: text that a spreadsheet would run as a formula is defused with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(
    rows: list[Row], columns: Iterable[str], *, excel: bool = False, delimiter: str = ","
) -> str:
    """CSV text with a header row; ``excel`` starts it with the UTF-8 byte order mark."""
    buffer = io.StringIO()
    if excel:
        buffer.write(EXCEL_BOM)
    writer = csv.writer(buffer, delimiter=delimiter)
    columns = list(columns)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(safe_cell(row.get(column)) for column in columns)
    return buffer.getvalue()


def to_json(rows: list[Row]) -> str:
    """A JSON array of objects; amounts as decimal strings, like prices in the YAML."""
    return json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n"


COLUMNS = {  # also the header of an export without rows
    "customers": (
        "customer_number", "name", "email", "company", "vat_id", "country", "language",
        "payment_method", "plan", "status", "created_at",
    ),
    "subscriptions": (
        "customer_number", "plan", "status", "price", "currency", "interval", "interval_count",
        "coupon", "trial_end", "current_period_end", "cancel_at_period_end", "cancel_reason",
        "created_at", "canceled_at", "ended_at",
    ),
    "invoices": (
        "number", "kind", "status", "customer_number", "name", "company", "vat_id", "country",
        "issued_at", "due_at", "net", "tax_rate", "tax", "gross", "amount_paid", "currency",
        "paid_at",
    ),
    "consents": ("customer_number", "email", "consent", "text", "language", "given_at"),
}  # fmt: skip
