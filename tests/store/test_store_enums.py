"""Billing names statuses with StrEnums; every store keeps and finds them as plain text."""

from __future__ import annotations

import json

from app.billing.records import InvoiceStatus
from app.store import Store


def test_an_enum_is_stored_and_found_as_its_text(store: Store) -> None:
    with store.write("acme") as tx:
        invoices = tx.collection("invoices")
        invoices.insert({"id": "i1", "status": InvoiceStatus.OPEN})
        invoices.insert({"id": "i2", "status": "paid"})
        invoices.update("i2", {"status": InvoiceStatus.VOID})
    with store.read("acme") as tx:
        invoices = tx.collection("invoices")
        first = invoices.get("i1")
        assert first is not None and type(first["status"]) is str
        assert json.dumps(first) == '{"id": "i1", "status": "open"}'
        assert [i["id"] for i in invoices.find(status=InvoiceStatus.OPEN)] == ["i1"]
        assert [i["id"] for i in invoices.find(status="void")] == ["i2"]
        assert invoices.first(status=InvoiceStatus.VOID) == {"id": "i2", "status": "void"}
        assert invoices.count(status=InvoiceStatus.PAID) == 0
