"""Reconciliation on every store (TinyDB, journaled TinyDB, PostgreSQL): the same
statement twice records once; the ledger agrees."""

from __future__ import annotations

from app.banking.reconcile import ALREADY, OVER, PAID, PARTLY, UNMATCHED, BankTransfers, match
from app.banking.statements import parse
from app.billing import ledger
from app.store import Store
from tests.helpers.banking import Line, camt053, mt940
from tests.helpers.billing import Shop, make_config
from tests.helpers.clock import Clock


def euros(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def test_import_on_every_store(any_store: Store) -> None:
    clock = Clock()
    config = make_config()
    shop = Shop(any_store, clock, config, "shop")  # type: ignore[arg-type]
    signed = [
        shop.sign_up("basic", "invoice", None, fields={"email": f"c{i}@example.com"})
        for i in range(4)
    ]
    invoices = [shop.get("invoices", s.invoice_id or "") for s in signed]
    gross = invoices[0]["gross"]
    n = [invoice["number"] for invoice in invoices]
    data = mt940(
        [
            Line(euros(2 * gross), f"{n[0]} {n[1]} Müller", reference="A"),
            Line(euros(gross - 100), f"Rechnung {n[2]}", reference="B"),
            Line(euros(gross + 250), f"Kunde {signed[3].customer_number}", reference="C"),
            Line("1.00", "???", reference="D"),
            Line("1.00", n[0], reference="E", credit=False),
        ]
    )
    transfers = BankTransfers(any_store, clock)
    report = transfers.import_entries("shop", config, parse(data))
    assert [o.status for o in report.outcomes] == [PAID, PARTLY, OVER, UNMATCHED]
    assert report.outcomes[0].invoices == n[:2] and report.debits == 1
    with any_store.read("shop") as tx:
        balances = [ledger.balance(tx, s.customer_id) for s in signed]
    assert balances == [0, 0, 100, -250]
    again = transfers.import_entries("shop", config, parse(data))
    assert [o.status for o in again.outcomes] == [ALREADY] * 4
    assert len(again.unmatched_before) == 1
    assert len(shop.docs("payments")) == 4
    assert len(transfers.unmatched("shop")) == 1


def test_camt_08_on_every_store(any_store: Store) -> None:
    clock = Clock()
    config = make_config()
    shop = Shop(any_store, clock, config, "shop")  # type: ignore[arg-type]
    signed = shop.sign_up("basic", "invoice", None, fields={"email": "x@example.com"})
    invoice = shop.get("invoices", signed.invoice_id or "")
    data = camt053([Line(euros(invoice["gross"]), structured=invoice["number"])], "08")
    report = BankTransfers(any_store, clock).import_entries("shop", config, parse(data))
    assert [o.status for o in report.outcomes] == [PAID]
    assert shop.get("invoices", invoice["id"])["status"] == "paid"


def test_matching_rules() -> None:
    invoices = [
        {
            "id": "1",
            "number": "GS-2026-000010",
            "customer_id": "c1",
            "kind": "invoice",
            "status": "open",
            "amount_due": 500,
            "gross": 500,
            "credit_applied": 0,
            "amount_paid": 0,
        },
    ]
    customers = [{"id": "c1", "number": "C-000001"}]
    assert match("gs 2026 000010", 5, invoices, customers)[1] == "number"
    assert match("GS-2026-0000101", 5, invoices, customers)[1] != "number"
    assert match("Kd C000001", 5, invoices, customers)[1] == "customer"
    assert match("Kd C-0000011", 5, invoices, customers)[0] == []
    # one character wrong: matched only when the amount is exactly what is outstanding
    assert match("GS-2026-000O10", 500, invoices, customers)[1] == "typo"
    assert match("GS-2026-000O10", 499, invoices, customers)[0] == []
