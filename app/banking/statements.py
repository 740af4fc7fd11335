"""Bank statements (camt.053 of any version, MT940) read into one typed model.

camt.053 is read with lxml, namespace-agnostic (``.001.02`` and ``.001.08`` name the same
elements), with a parser that resolves no entities and loads nothing from the network.
MT940 is read with the ``mt940`` package. Amounts become integer minor units through
:class:`~decimal.Decimal`, never a float.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from lxml import etree
from mt940 import MT940

from app.core.money import MoneyError, parse_amount

MAX_STATEMENT_BYTES = 20 * 1024 * 1024


class StatementError(ValueError):
    """The file is not a statement this module can read."""


@dataclass(frozen=True)
class Entry:
    """One booked line of a statement."""

    reference: str  # the bank's entry reference, or a digest of date+amount+text
    booked: date | None
    amount: int  # minor units, always positive
    currency: str
    credit: bool
    text: str  # remittance information (unstructured and structured), and the payer
    payer: str


def _digest(booked: date | None, amount: int, currency: str, text: str) -> str:
    basis = f"{booked}|{amount}|{currency}|{text}".encode()
    return "sha256:" + hashlib.sha256(basis).hexdigest()[:32]


def _minor(value: str, currency: str) -> int:
    try:
        return parse_amount(value.strip(), currency)
    except (MoneyError, InvalidOperation, ValueError) as error:
        raise StatementError(f"not an amount: {value!r}") from error


def parse(data: bytes) -> list[Entry]:
    """Every entry of a camt.053 or MT940 statement, credits and debits."""
    if len(data) > MAX_STATEMENT_BYTES:
        raise StatementError("the file is too large for a statement")
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return list(_camt(data))
    return list(_mt940(data))


def _local(element: Any) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _children(element: Any, name: str) -> Iterator[Any]:
    for child in element:
        if _local(child) == name:
            yield child


def _child(element: Any, *path: str) -> Any | None:
    for name in path:
        element = next(_children(element, name), None) if element is not None else None
    return element


def _text(element: Any, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def _camt(data: bytes) -> Iterator[Entry]:
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise StatementError(f"not a readable XML file: {error}") from error
    namespace = etree.QName(root).namespace or ""
    if "camt.053" not in namespace and _child(root, "BkToCstmrStmt") is None:
        raise StatementError(f"not a camt.053 statement ({namespace or 'no namespace'})")
    statements = _child(root, "BkToCstmrStmt")
    if statements is None:
        raise StatementError("no BkToCstmrStmt in the file")
    for statement in _children(statements, "Stmt"):
        for entry in _children(statement, "Ntry"):
            yield from _camt_entry(entry)


def _camt_entry(entry: Any) -> Iterator[Entry]:
    amount_element = _child(entry, "Amt")
    if amount_element is None:
        raise StatementError("an entry without an amount")
    currency = (amount_element.get("Ccy") or "").upper()
    amount = _minor(amount_element.text or "", currency)
    credit = _text(entry, "CdtDbtInd") == "CRDT"
    booked_text = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10]
    booked = date.fromisoformat(booked_text) if booked_text else None
    # AcctSvcrRef is the bank's unique reference; NtryRef is unique within one statement
    # only, so it is qualified by the booking date and amount.
    reference = _text(entry, "AcctSvcrRef")
    if not reference and _text(entry, "NtryRef"):
        reference = f"ntry:{booked}:{amount}:{_text(entry, 'NtryRef')}"
    details = [tx for batch in _children(entry, "NtryDtls") for tx in _children(batch, "TxDtls")]
    texts: list[str] = []
    payers: list[str] = []
    for tx in details:
        info = _child(tx, "RmtInf")
        if info is not None:
            texts += [(u.text or "").strip() for u in _children(info, "Ustrd")]
            for structured in _children(info, "Strd"):
                texts += [
                    (e.text or "").strip()
                    for e in structured.iter()
                    if _local(e) in ("Ref", "RfrdDocInf", "Nb", "AddtlRmtInf")
                    and (e.text or "").strip()
                ]
        party = _text(tx, "RltdPties", "Dbtr", "Nm") or _text(tx, "RltdPties", "Dbtr", "Pty", "Nm")
        if party:
            payers.append(party)
    text = " ".join(dict.fromkeys(t for t in texts if t)) or _text(entry, "AddtlNtryInf")
    yield Entry(
        reference=reference or _digest(booked, amount, currency, text),
        booked=booked,
        amount=amount,
        currency=currency,
        credit=credit,
        text=text,
        payer=", ".join(payers),
    )


def _mt940(data: bytes) -> Iterator[Entry]:
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError:
        source = data.decode("latin-1")
    if ":20:" not in source or (":61:" not in source and ":60F:" not in source):
        raise StatementError("neither a camt.053 nor an MT940 statement")
    try:
        parsed = MT940(io.StringIO(source.replace("\r\n", "\n")))
    except Exception as error:  # the package raises many kinds on a bad file
        raise StatementError(f"not a readable MT940 statement: {error}") from error
    for statement in parsed.statements:
        balance = statement.start_balance or statement.end_balance
        if balance is None:
            raise StatementError("an MT940 statement without a balance (:60F:) has no currency")
        currency = str(balance.currency).upper()
        for transaction in statement.transactions:
            amount = _minor(str(abs(Decimal(transaction.amount))), currency)
            booked = transaction.booking or transaction.date
            text, payer = _mt940_details(transaction.description or "")
            bank_reference = (transaction.institution_reference or "").strip()
            reference = (
                f"mt940:{bank_reference}"
                if bank_reference and bank_reference.upper() != "NONREF"
                else _digest(booked, amount, currency, text)
            )
            yield Entry(
                reference=reference,
                booked=booked,
                amount=amount,
                currency=currency,
                credit=Decimal(transaction.amount) > 0,
                text=text,
                payer=payer,
            )


def _mt940_details(description: str) -> tuple[str, str]:
    """The remittance text and payer of a ``:86:`` field: German banks' ``?20``-``?29``
    and ``?60``-``?63`` subfields (joined: a number may wrap between them), ``?32``/``?33``
    the payer; other banks' free text as it is."""
    joined = description.replace("\r", "").replace("\n", "")
    parts = re.split(r"\?(\d\d)", joined)
    if len(parts) < 3:
        return " ".join(joined.split()), ""
    fields = list(zip(parts[1::2], parts[2::2], strict=True))
    remittance = "".join(
        value for code, value in fields if 20 <= int(code) <= 29 or 60 <= int(code) <= 63
    )
    payer = "".join(value for code, value in fields if code in ("32", "33"))
    return " ".join(remittance.split()), " ".join(payer.split())
