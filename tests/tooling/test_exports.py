"""``portico export``: hostile values survive CSV and JSON unchanged and cannot run as
spreadsheet formulas; amounts are decimals with their currency."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.reports.exports import COLUMNS, safe_cell
from app.settings import load_settings
from app.store import open_store
from tests.helpers.app import DEMO_CONFIG

HOSTILE = [
    "Müller, Jürgen",
    'Say "hi"',
    "two\nlines",
    "=cmd|' /C calc'!A0",
    "+49 30 123",
    "-2+3",
    "@SUM(A1)",
    "\tTabbed",
    "\rCarriage",
    "Åsa Öberg",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def env(instance_dir: Path) -> dict[str, str]:
    return {
        "PORTICO_INSTANCE_DIR": str(instance_dir),
        "PORTICO_CONFIG_DIR": str(DEMO_CONFIG),
        "PORTICO_SECRET_KEY": "",
    }


@pytest.fixture
def seeded(env: dict[str, str]) -> None:
    """One customer per hostile value, each with a subscription, an invoice and a consent."""
    settings = load_settings({**env, "PORTICO_SECRET_KEY": "-"})
    store = open_store(settings.store_url, settings.data_dir)
    with store.write("acme") as tx:
        for n, value in enumerate(HOSTILE, start=1):
            customer_id = f"cus_{n}"
            tx.collection("customers").insert(
                {
                    "id": customer_id,
                    "number": f"C-{n:06d}",
                    "email": f"user{n}@example.com",
                    "fields": {"name": value, "company": value, "country": "DE"},
                    "language": "de",
                    "payment_method": "invoice",
                    "created_at": "2026-01-02T10:00:00+00:00",
                }
            )
            tx.collection("subscriptions").insert(
                {
                    "id": f"sub_{n}", "customer_id": customer_id, "plan_id": "business",
                    "status": "active", "price": 4900, "currency": "EUR", "interval": "month",
                    "interval_count": 1, "cancel_reason": value,
                    "created_at": "2026-01-02T10:00:00+00:00",
                }
            )  # fmt: skip
            tx.collection("invoices").insert(
                {
                    "id": f"inv_{n}", "number": f"ACME-2026-{n:06d}",
                    "kind": "credit_note" if n == 1 else "invoice", "status": "open",
                    "customer_number": f"C-{n:06d}", "buyer": {"name": value, "company": value,
                    "vat_id": None, "country": "DE"}, "issued_at": "2026-01-02T10:00:00+00:00",
                    "due_at": "2026-01-16T10:00:00+00:00", "net": -900 if n == 1 else 4118,
                    "tax_rate": "19", "tax": 0 if n == 1 else 782, "gross": -900 if n == 1 else 4900,
                    "amount_paid": 0, "currency": "EUR", "paid_at": None,
                }
            )  # fmt: skip
            tx.collection("consents").insert(
                {
                    "id": f"con_{n}", "customer_id": customer_id, "name": "terms",
                    "text": value, "language": "de", "given_at": "2026-01-02T10:00:00+00:00",
                }
            )  # fmt: skip


def export(runner: CliRunner, env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(main, ["export", "acme", *args], env=env)


def undo(cell: str) -> str:
    """A defused cell back as stored."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


@pytest.mark.parametrize(
    ("kind", "column"),
    [("customers", "name"), ("customers", "company"), ("subscriptions", "cancel_reason"),
     ("invoices", "name"), ("consents", "text")],
)  # fmt: skip
def test_csv_round_trips_hostile_values_and_defuses_formulas(
    runner: CliRunner, env: dict[str, str], seeded: None, kind: str, column: str
) -> None:
    result = export(runner, env, kind)
    assert result.exit_code == 0, result.output
    table = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert table[0] == list(COLUMNS[kind])
    cells = [dict(zip(table[0], row, strict=True))[column] for row in table[1:]]
    # a customer's name and company are trimmed as on invoices (app.billing.parties)
    expected = [v.strip() for v in HOSTILE] if kind == "customers" else HOSTILE
    assert [undo(cell) for cell in cells] == expected
    for row in table[1:]:
        for cell in row:
            assert (
                not cell.startswith(FORMULA_STARTS) or cell.lstrip("-").replace(".", "").isdigit()
            )
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(A1)" in cells and "Müller, Jürgen" in cells


def test_amounts_are_decimals_and_a_credit_note_stays_a_number(
    runner: CliRunner, env: dict[str, str], seeded: None
) -> None:
    table = list(csv.DictReader(io.StringIO(export(runner, env, "invoices").stdout, newline="")))
    assert (table[0]["gross"], table[0]["currency"], table[0]["kind"]) == (
        "-9.00",
        "EUR",
        "credit_note",
    )
    assert (table[1]["net"], table[1]["tax"], table[1]["gross"]) == ("41.18", "7.82", "49.00")
    subscriptions = list(csv.DictReader(io.StringIO(export(runner, env, "subscriptions").stdout)))
    assert (
        subscriptions[0]["price"] == "49.00" and subscriptions[0]["customer_number"] == "C-000001"
    )


def test_json_round_trips_hostile_values_unchanged(
    runner: CliRunner, env: dict[str, str], seeded: None
) -> None:
    result = export(runner, env, "customers", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["company"] for row in rows] == [
        v.strip() for v in HOSTILE
    ]  # JSON is no spreadsheet: nothing added
    assert rows[0]["customer_number"] == "C-000001" and rows[0]["plan"] == "business"
    invoices = json.loads(export(runner, env, "invoices", "--format", "json").stdout)
    assert invoices[1]["gross"] == "49.00"


def test_excel_csv_starts_with_a_bom_and_output_goes_to_a_file(
    runner: CliRunner, env: dict[str, str], seeded: None, tmp_path: Path
) -> None:
    target = tmp_path / "customers.csv"
    result = export(
        runner, env, "customers", "--excel", "--delimiter", ";", "--output", str(target)
    )
    assert result.exit_code == 0, result.output
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert [row[1] for row in table[1:]] == [safe_cell(value.strip()) for value in HOSTILE]
    assert "Åsa Öberg" in text


def test_an_empty_export_still_has_its_header(runner: CliRunner, env: dict[str, str]) -> None:
    result = export(runner, env, "consents")
    assert result.exit_code == 0
    assert result.stdout.strip() == ",".join(COLUMNS["consents"])


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["nosuch", "customers"], 1, "unknown merchant 'nosuch'"),
        (["acme", "secrets"], 2, "'secrets' is not one of 'customers'"),
        (["acme", "customers", "--format", "xml"], 2, "Invalid value for '--format'"),
        (
            ["acme", "customers", "--format", "json", "--excel"],
            2,
            "--excel applies to --format csv",
        ),
    ],
)
def test_bad_arguments_get_a_clear_error(
    runner: CliRunner, env: dict[str, str], args: list[str], code: int, message: str
) -> None:
    result = runner.invoke(main, ["export", *args], env=env)
    assert result.exit_code == code
    assert message in result.output
