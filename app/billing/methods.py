"""Stored payment methods: tokens and what may be shown of them, never card numbers.

A customer has at most one *default* method (``customers.default_payment_method_id``);
billing collects from it when the customer's ``auto_pay`` is on and the method
is a card or a SEPA mandate. Removing a method keeps its record (invoices and
payments refer to it) and marks it removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.billing.gateways import Tokenized
from app.core.clock import iso
from app.core.ids import new_id
from app.store import ReadTransaction, WriteTransaction

AUTOMATIC_KINDS = frozenset({"card", "sepa_debit"})


def store_method(
    tx: WriteTransaction,
    customer: Mapping[str, Any],
    tokenized: Tokenized,
    at: datetime,
    *,
    make_default: bool = True,
) -> dict[str, Any]:
    """Keep a tokenized method; a SEPA method gets its mandate reference and date here."""
    methods = tx.collection("payment_methods")
    document: dict[str, Any] = {
        "id": new_id("pm"),
        "customer_id": customer["id"],
        "kind": tokenized.kind,
        "gateway": tokenized.gateway,
        "token": tokenized.token,
        **tokenized.details,
        "created_at": iso(at),
        "removed_at": None,
    }
    if tokenized.kind == "sepa_debit":
        earlier = methods.count(customer_id=customer["id"], kind="sepa_debit")
        document["mandate_reference"] = f"{customer['number']}-{earlier + 1:03d}"
        document["mandate_date"] = iso(at)
    stored = methods.insert(document)
    if make_default:
        set_default(tx, customer["id"], stored)
    return stored


def set_default(tx: WriteTransaction, customer_id: str, method: Mapping[str, Any]) -> None:
    tx.collection("customers").update(
        customer_id, {"default_payment_method_id": method["id"], "payment_method": method["kind"]}
    )


def active_methods(tx: ReadTransaction, customer_id: str) -> list[dict[str, Any]]:
    return [
        method
        for method in tx.collection("payment_methods").find(customer_id=customer_id)
        if method["removed_at"] is None
    ]


def default_method(tx: ReadTransaction, customer: Mapping[str, Any]) -> dict[str, Any] | None:
    method_id = customer.get("default_payment_method_id")
    method = tx.collection("payment_methods").get(method_id) if method_id else None
    return method if method and method["removed_at"] is None else None


def collects_automatically(customer: Mapping[str, Any], method: Mapping[str, Any] | None) -> bool:
    """Billing takes the money itself: a card or mandate on file and auto-pay on."""
    return bool(method and method["kind"] in AUTOMATIC_KINDS and customer.get("auto_pay", True))


def public_view(method: Mapping[str, Any] | None) -> dict[str, Any]:
    """What invoices and pages may show of a method (no token)."""
    if method is None:
        return {"kind": None}
    shown = ("kind", "brand", "last4", "exp_month", "exp_year", "iban_masked", "holder")
    view = {key: method[key] for key in shown if key in method}
    if method["kind"] == "sepa_debit":
        view |= {
            "mandate_reference": method["mandate_reference"],
            "mandate_date": method["mandate_date"],
        }
    return {"id": method["id"], **view}
