"""Reading camt.053 (.001.02, .001.08) and MT940 statements into one model."""

from __future__ import annotations

import pytest

from app.banking.statements import StatementError, parse
from tests.helpers.banking import Line, camt053, mt940

LINES = [
    Line("176.12", "Müller GmbH, Rechnung ACME-2026-000042", reference="BANK-1"),
    Line("12.00", "Kontoführung", credit=False, reference="BANK-2"),
    Line("5.00", structured="ACME-2026-000043", payer="Åsa Öberg", reference="BANK-3"),
]


@pytest.mark.parametrize("version", ["02", "08"])
def test_camt053_both_versions(version: str) -> None:
    entries = parse(camt053(LINES, version))
    assert [(e.reference, e.amount, e.credit, e.currency) for e in entries] == [
        ("BANK-1", 17612, True, "EUR"),
        ("BANK-2", 1200, False, "EUR"),
        ("BANK-3", 500, True, "EUR"),
    ]
    assert entries[0].text == "Müller GmbH, Rechnung ACME-2026-000042"
    assert entries[0].payer == "Müller GmbH"
    assert entries[2].text == "ACME-2026-000043" and entries[2].payer == "Åsa Öberg"
    assert str(entries[0].booked) == "2026-02-02"


def test_mt940_with_umlauts() -> None:
    entries = parse(mt940(LINES))
    assert [(e.reference, e.amount, e.credit) for e in entries] == [
        ("mt940:BANK-1", 17612, True),
        ("mt940:BANK-2", 1200, False),
        ("mt940:BANK-3", 500, True),
    ]
    assert entries[0].text == "Müller GmbH, Rechnung ACME-2026-000042"
    assert entries[0].payer == "Müller GmbH"


def test_mt940_number_wrapped_across_subfields() -> None:
    data = mt940([Line("1.00", "Rechnung ACME-2026?21-000042", reference="B")])
    assert parse(data)[0].text == "Rechnung ACME-2026-000042"


def test_without_bank_reference_a_digest_is_stable() -> None:
    lines = [Line("9.90", "Rechnung X")]
    first, again = parse(mt940(lines))[0], parse(mt940(lines))[0]
    assert first.reference.startswith("sha256:") and first.reference == again.reference
    other = parse(mt940([Line("9.91", "Rechnung X")]))[0]
    assert other.reference != first.reference


def test_no_entity_expansion_and_no_network() -> None:
    evil = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><AcctSvcrRef>R</AcctSvcrRef>
<NtryDtls><TxDtls><RmtInf><Ustrd>&x;</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>"""
    entries = parse(evil)
    assert "root:" not in entries[0].text


@pytest.mark.parametrize(
    "data",
    [b"<not xml", b"hello", b"<Document xmlns='urn:other'/>", camt053([Line("1.234")])],
)
def test_bad_files_are_refused_clearly(data: bytes) -> None:
    with pytest.raises(StatementError):
        parse(data)
