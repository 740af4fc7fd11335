"""Bank statements as banks send them, written by the tests: camt.053 (.001.02, .001.08)
and MT940."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape


@dataclass(frozen=True)
class Line:
    amount: str  # "176.12"
    text: str = ""
    payer: str = "Müller GmbH"
    reference: str | None = None  # the bank's entry reference
    credit: bool = True
    structured: str | None = None  # a structured creditor reference (Strd)
    booked: str = "2026-02-02"
    currency: str = "EUR"


def camt053(lines: list[Line], version: str = "02") -> bytes:
    """A camt.053.001.<version> statement ("02" or "08": status and party shapes differ)."""
    entries = []
    for number, line in enumerate(lines, 1):
        status = "<Sts>BOOK</Sts>" if version == "02" else "<Sts><Cd>BOOK</Cd></Sts>"
        party = f"<Nm>{escape(line.payer)}</Nm>"
        if version != "02":
            party = f"<Pty>{party}</Pty>"
        role = "Dbtr" if line.credit else "Cdtr"
        remittance = f"<Ustrd>{escape(line.text)}</Ustrd>" if line.text else ""
        if line.structured:
            remittance += (
                "<Strd><RfrdDocInf><Tp><CdOrPrtry><Cd>CINV</Cd></CdOrPrtry></Tp>"
                f"<Nb>{escape(line.structured)}</Nb></RfrdDocInf>"
                "<CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp>"
                f"<Ref>{escape(line.structured)}</Ref></CdtrRefInf></Strd>"
            )
        reference = f"<AcctSvcrRef>{line.reference}</AcctSvcrRef>" if line.reference else ""
        entries.append(
            f"""<Ntry><NtryRef>{number}</NtryRef>
  <Amt Ccy="{line.currency}">{line.amount}</Amt>
  <CdtDbtInd>{"CRDT" if line.credit else "DBIT"}</CdtDbtInd>{status}
  <BookgDt><Dt>{line.booked}</Dt></BookgDt><ValDt><Dt>{line.booked}</Dt></ValDt>{reference}
  <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
  <NtryDtls><TxDtls>
    <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
    <AmtDtls><TxAmt><Amt Ccy="{line.currency}">{line.amount}</Amt></TxAmt></AmtDtls>
    <RltdPties><{role}>{party}</{role}></RltdPties>
    <RmtInf>{remittance}</RmtInf>
  </TxDtls></NtryDtls>
</Ntry>"""
        )
    # NtryRef is per statement, not unique across files: the tests give AcctSvcrRef.
    body = "\n".join(entries)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<BkToCstmrStmt>
 <GrpHdr><MsgId>STMT-2026-02-02</MsgId><CreDtTm>2026-02-02T18:00:00</CreDtTm></GrpHdr>
 <Stmt><Id>STMT-1</Id><ElctrncSeqNb>33</ElctrncSeqNb><CreDtTm>2026-02-02T18:00:00</CreDtTm>
  <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
  <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>
   <CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-02-01</Dt></Dt></Bal>
{body}
 </Stmt>
</BkToCstmrStmt>
</Document>
""".encode()


def mt940(lines: list[Line]) -> bytes:
    """An MT940 statement (German bank style: :86: with ?-subfields)."""
    out = [":20:STARTUMSE", ":25:37040044/0532013000", ":28C:00033/001", ":60F:C260201EUR1000,00"]
    for line in lines:
        year, month, day = line.booked.split("-")
        mark = "C" if line.credit else "D"
        amount = line.amount.replace(".", ",")
        reference = line.reference or "NONREF"
        out.append(f":61:{year[2:]}{month}{day}{month}{day}{mark}{amount}NTRFNONREF//{reference}")
        out.append(f":86:166?00GUTSCHRIFT?20{line.text}?32{line.payer}")
    out += [":62F:C260202EUR1000,00", "-"]
    return ("\r\n".join(out) + "\r\n").encode()
