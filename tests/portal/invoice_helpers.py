"""Helpers of the invoice-list and overview tests: a customer with a long history."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask

from app.billing.invoices import invoice_number
from app.core.clock import iso
from app.core.ids import new_id


def add_invoices(app: Flask, merchant: str, customer_id: str, count: int) -> list[dict]:
    """``count`` more invoices like the customer's first one, issued an hour apart after
    it, each with its own id, number and ledger entry: the history years of ``portico
    bill`` leave, written in one transaction. Returns them, oldest first."""
    portico = app.extensions["portico"]
    config = portico.merchants.get(merchant).config
    added = []
    with portico.store.write(merchant) as tx:
        invoices, ledger = tx.collection("invoices"), tx.collection("ledger")
        first = invoices.first(customer_id=customer_id)
        entry = ledger.first(invoice_id=first["id"])
        issued, due = (datetime.fromisoformat(first[k]) for k in ("issued_at", "due_at"))
        for hours in range(1, count + 1):
            at = issued + timedelta(hours=hours)
            invoice = first | {
                "id": new_id("inv"),
                "number": invoice_number(tx, config, at),
                "issued_at": iso(at),
                "due_at": iso(due + timedelta(hours=hours)),
                "key": f"history:{customer_id}:{hours}",
            }
            added.append(invoices.insert(invoice))
            ledger.insert(
                entry | {"id": new_id("led"), "invoice_id": invoice["id"], "created_at": iso(at)}
            )
    return added


def newest_first(invoices: list[dict]) -> list[str]:
    """The numbers in the list's order."""
    ordered = sorted(invoices, key=lambda i: (i["issued_at"], i["number"]), reverse=True)
    return [invoice["number"] for invoice in ordered]
