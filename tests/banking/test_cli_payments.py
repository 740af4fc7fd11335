"""``portico payments import|record`` and ``portico refund`` run for real over the demo
merchant ``acme`` (TinyDB in tmp_path), checked against invoices, ledger, outbox, audit."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from app.billing import ledger
from app.cli import main
from app.store import TinyDBStore
from tests.helpers.app import app_settings
from tests.helpers.banking import Line, camt053, mt940
from tests.helpers.billing import GOOD_CARD, Shop, demo_config
from tests.helpers.clock import Clock


class Bank:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.instance = tmp_path / "instance"
        self.store = TinyDBStore(self.instance / "data")
        self.clock = Clock(datetime(2026, 1, 10, 12, tzinfo=UTC))
        self.shop = Shop(self.store, self.clock, demo_config("acme"), "acme")
        self.runner = CliRunner()
        self.env = app_settings(self.instance)

    def customer(self, email: str, language: str = "de") -> tuple[str, str, int]:
        """A new customer paying by invoice: (customer number, invoice number, gross)."""
        result = self.shop.sign_up(
            "business", "invoice", None, fields={"email": email}, language=language
        )
        invoice = self.shop.get("invoices", result.invoice_id or "")
        return result.customer_number, invoice["number"], invoice["gross"]

    def run(self, *args: str, code: int = 0) -> str:
        result = self.runner.invoke(main, list(args), env=self.env)
        assert result.exit_code == code, result.output
        return result.output

    def write(self, name: str, data: bytes) -> str:
        path = self.tmp / name
        path.write_bytes(data)
        return str(path)

    def invoice(self, number: str) -> dict[str, Any]:
        with self.store.read("acme") as tx:
            found = tx.collection("invoices").first(number=number)
            assert found is not None
            return found

    def balance(self, customer_number: str) -> int:
        with self.store.read("acme") as tx:
            customer = tx.collection("customers").first(number=customer_number)
            assert customer is not None
            return ledger.balance(tx, customer["id"])

    def docs(self, collection: str, **equals: Any) -> list[dict[str, Any]]:
        with self.store.read("acme") as tx:
            return tx.collection(collection).find(**equals)


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    return Bank(tmp_path)


def euros(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


@pytest.mark.parametrize("version", ["02", "08"])
def test_camt053_import_matches_and_is_idempotent(bank: Bank, version: str) -> None:
    c1, n1, gross = bank.customer("mueller@example.com")
    _, n2, _ = bank.customer("two@example.com", "en")
    _, n3, _ = bank.customer("three@example.com")
    _, n4, _ = bank.customer("typo@example.com")
    c5, n5, _ = bank.customer("under@example.com")
    c6, n6, _ = bank.customer("over@example.com")
    typo = n4.replace("ACME", "ACNE")  # one wrong character, one edit from n4 only
    lines = [
        Line(euros(gross), f"Müller GmbH, Rechnung {n1}", reference="E1"),
        Line(
            euros(2 * gross), f"Rechnungen {n2.lower()} und {n3.replace('-', ' ')}", reference="E2"
        ),
        Line(euros(gross), f"Rechnung {typo}", payer="Jörg Ärger", reference="E3"),
        Line(euros(gross - 1000), f"Kundennr {c5}", reference="E4"),
        Line(euros(gross + 1500), structured=n6, reference="E5"),
        Line("50.00", "Spende, danke!", payer="Unbekannt", reference="E6"),
        Line("12.00", f"Rückbuchung {n1}", credit=False, reference="E7"),
    ]
    statement = bank.write(f"camt{version}.xml", camt053(lines, version))

    out = bank.run("payments", "import", "acme", statement)
    assert "acme: 3 matched, 1 partly paid, 1 overpaid, 1 unmatched, 0 already" in out
    assert "1 debit(s) ignored" in out
    assert "[no invoice or customer number] Unbekannt Spende, danke!" in out
    for number in (n1, n2, n3, n4, n6):
        assert bank.invoice(number)["status"] == "paid", number
    under = bank.invoice(n5)
    assert under["status"] == "open" and ledger.outstanding(under) == 1000
    assert bank.balance(c5) == 1000
    assert bank.balance(c1) == 0
    assert bank.balance(c6) == -1500  # the excess is credit on the customer's account
    payments_before = bank.docs("payments")
    assert len(payments_before) == 6

    # receipts in the customer's language, one per payment
    receipts = bank.docs("outbox", template="payment_succeeded")
    assert len(receipts) == 6
    assert {r["language"] for r in receipts} == {"de", "en"}
    assert any(r["data"].get("amount_due") == 1000 for r in receipts)
    assert len(bank.docs("audit", actor="merchant cli")) == 6

    again = bank.run("payments", "import", "acme", statement)
    assert "0 matched, 0 partly paid, 0 overpaid, 0 unmatched, 6 already imported" in again
    assert "unmatched from earlier imports (1)" in again
    assert len(bank.docs("payments")) == 6
    assert bank.balance(c6) == -1500


def test_mt940_import_with_umlauts(bank: Bank) -> None:
    c1, n1, gross = bank.customer("mueller@example.com")
    statement = bank.write(
        "stmt.sta",
        mt940(
            [
                Line(euros(gross), f"Müller GmbH Rechnung {n1}", reference="MT-1"),
                Line("3.50", "Gebühren", credit=False, reference="MT-2"),
            ]
        ),
    )
    out = bank.run("payments", "import", "acme", statement)
    assert "1 matched" in out and "1 debit(s) ignored" in out
    assert bank.invoice(n1)["status"] == "paid" and bank.balance(c1) == 0
    assert "1 already imported" in bank.run("payments", "import", "acme", statement)


def test_amount_alone_is_never_matched_and_ambiguous_typos_neither(bank: Bank) -> None:
    _, n1, gross = bank.customer("a@example.com")
    _, n2, _ = bank.customer("b@example.com")
    assert n1[:-1] == n2[:-1]  # ...01 and ...02: "...09" is one edit from both
    lines = [
        Line(euros(gross), "Zahlung", reference="X1"),
        Line(euros(gross), f"Rechnung {n1[:-1]}9", reference="X2"),
    ]
    out = bank.run("payments", "import", "acme", bank.write("s.xml", camt053(lines)))
    assert "0 matched, 0 partly paid, 0 overpaid, 2 unmatched" in out
    assert "[ambiguous typo]" in out
    assert bank.invoice(n1)["status"] == "open" and bank.invoice(n2)["status"] == "open"


def test_foreign_currency_is_not_matched(bank: Bank) -> None:
    _, n1, gross = bank.customer("a@example.com")
    line = Line(euros(gross), f"Rechnung {n1}", reference="F1", currency="SEK")
    out = bank.run("payments", "import", "acme", bank.write("s.xml", camt053([line])))
    assert "[currency SEK]" in out and bank.invoice(n1)["status"] == "open"


def test_bad_statement_file_exits_1(bank: Bank) -> None:
    out = bank.run("payments", "import", "acme", bank.write("s.xml", b"<oops"), code=1)
    assert "not a readable XML file" in out


def test_record_a_payment_then_refund_it(bank: Bank) -> None:
    c1, n1, gross = bank.customer("a@example.com")
    out = bank.run(
        "payments", "record", "acme", n1, "58.31", "--date", "2026-01-20", "--reference", "BANK-77"
    )
    assert f"recorded €58.31 for {n1}" in out
    invoice = bank.invoice(n1)
    assert invoice["amount_paid"] == 5831 and ledger.outstanding(invoice) == gross - 5831
    payment = bank.docs("payments", type="transfer")[0]
    assert payment["reference"] == "BANK-77" and payment["created_at"].startswith("2026-01-20")
    assert bank.docs("outbox", template="payment_succeeded")[0]["language"] == "de"
    bank.run("mail", "deliver", "acme")
    texts = [
        message.get_body(preferencelist=("plain",)).get_content()
        for path in (bank.instance / "outbox").glob("*.eml")
        for message in [email.message_from_bytes(path.read_bytes(), policy=email.policy.default)]
    ]
    receipt = next(text for text in texts if "58,31" in text)
    assert "davon sind noch offen" in receipt
    # the same bank reference twice is refused
    assert "recorded already" in bank.run(
        "payments", "record", "acme", n1, "1.00", "--reference", "BANK-77", code=1
    )

    out = bank.run("refund", "acme", n1, "--amount", "10.00")
    assert "owed to the customer" in out
    refund = bank.docs("payments", type="refund")[0]
    assert refund["amount"] == -1000 and refund["payout"] == "owed"
    assert refund["key"].startswith("refund:")
    # the credit note lowers what is owed by 10.00, the refund owed raises it by 10.00
    assert "credit note" in out
    assert bank.balance(c1) == gross - 5831
    kinds = [e["kind"] for e in bank.docs("ledger")]
    assert kinds.count("refund") == 1 and kinds.count("credit_note") == 1
    actions = [a["action"] for a in bank.docs("audit", actor="merchant cli")]
    assert actions.count("payment.recorded") == 1 and actions.count("payment.refunded") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ACME-1999-999999", "1.00"], "acme has no invoice ACME-1999-999999"),
        (["{n1}", "5.999"], "more decimals"),
        (["--", "{n1}", "-3"], "negative"),
        (["{n1}", "abc"], "not a number"),
        (["{n1}", "0"], "must be positive"),
        (["{n1}", "1.00", "--date", "2999-01-01"], "is in the future"),
    ],
)
def test_record_refuses_bad_input_and_changes_nothing(
    bank: Bank, args: list[str], message: str
) -> None:
    _, n1, _ = bank.customer("a@example.com")
    before = bank.docs("payments")
    out = bank.run("payments", "record", "acme", *[a.format(n1=n1) for a in args], code=1)
    assert message in out
    assert bank.docs("payments") == before


def test_another_merchants_invoice_is_not_found(bank: Bank) -> None:
    other = Shop(bank.store, bank.clock, demo_config("thistle"), "thistle")
    result = other.sign_up("office-small", "invoice", None, fields={"email": "t@example.com"})
    number = other.get("invoices", result.invoice_id or "")["number"]
    out = bank.run("payments", "record", "acme", number, "1.00", code=1)
    assert f"acme has no invoice {number}" in out
    assert "has no invoice" in bank.run("refund", "acme", number, code=1)


def test_refund_of_an_unpaid_invoice_is_refused(bank: Bank) -> None:
    _, n1, _ = bank.customer("a@example.com")
    assert "no payment left to refund" in bank.run("refund", "acme", n1, code=1)


def test_refund_of_a_card_payment_goes_through_the_gateway(bank: Bank) -> None:
    result = bank.shop.sign_up("business", "card", GOOD_CARD, fields={"email": "c@example.com"})
    number = bank.shop.get("invoices", result.invoice_id or "")["number"]
    assert bank.invoice(number)["status"] == "paid"
    out = bank.run("refund", "acme", number)
    assert "refunded through card" in out and "credit note" in out
    refund = bank.docs("payments", type="refund")[0]
    assert refund["reference"].startswith("re_sandbox") and "payout" not in refund
    assert refund["key"].startswith("refund:")
    assert "no payment left to refund" in bank.run("refund", "acme", number, code=1)
