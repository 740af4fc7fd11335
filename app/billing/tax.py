"""Which VAT an invoice carries, and how much.

One decision per invoice, because every line of it is the same service sold
to the same buyer:

- **reverse charge** (0 %, with the legal note): the merchant enabled
  ``billing.tax.reverse_charge``, sits in the EU, and the buyer gave a VAT ID
  that passes its checksum (``stdnum.eu.vat``) and belongs to *another* EU
  member state. The VAT ID's country decides, not the address field. The
  checksum is no VIES lookup: a merchant that needs one checks before accepting.
- **OSS** (the buyer country's standard rate): the merchant enabled
  ``billing.tax.eu_oss``, sits in the EU, and sells to a buyer without a valid
  foreign VAT ID whose country is another EU member state.
- **domestic** (``billing.tax.rate``): everything else, including buyers
  outside the EU; Portico does not decide export exemptions.

With ``prices_include_tax`` the line amounts are gross and the VAT is taken out
of them; a reverse-charge or OSS buyer pays the same sticker price (as Stripe
does with tax-inclusive prices), only the split into net and VAT changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from stdnum.eu import vat

from app.billing.parties import Party
from app.billing.rounding import divide, percent_of
from app.config.models import Tax

# Standard VAT rates of the EU member states, by ISO 3166 code. Source: European
# Commission, "VAT rates applied in the Member States of the European Union",
# situation at 1 January 2025, updated for Estonia (24 % from 1 July 2025) and
# Romania (21 % from 1 August 2025). Checked 2025-08; review when rates change.
EU_VAT_RATES: dict[str, Decimal] = {
    "AT": Decimal("20"),
    "BE": Decimal("21"),
    "BG": Decimal("20"),
    "CY": Decimal("19"),
    "CZ": Decimal("21"),
    "DE": Decimal("19"),
    "DK": Decimal("25"),
    "EE": Decimal("24"),
    "ES": Decimal("21"),
    "FI": Decimal("25.5"),
    "FR": Decimal("20"),
    "GR": Decimal("24"),
    "HR": Decimal("25"),
    "HU": Decimal("27"),
    "IE": Decimal("23"),
    "IT": Decimal("22"),
    "LT": Decimal("21"),
    "LU": Decimal("17"),
    "LV": Decimal("21"),
    "MT": Decimal("18"),
    "NL": Decimal("21"),
    "PL": Decimal("23"),
    "PT": Decimal("23"),
    "RO": Decimal("21"),
    "SE": Decimal("25"),
    "SI": Decimal("22"),
    "SK": Decimal("23"),
}
EU_COUNTRIES = frozenset(EU_VAT_RATES)
_VAT_PREFIX_COUNTRY = {"EL": "GR"}  # Greece's VAT IDs start with EL

Scheme = Literal["domestic", "oss", "reverse_charge"]


@dataclass(frozen=True)
class TaxDecision:
    rate: Decimal  # percent
    inclusive: bool  # line amounts include the VAT
    scheme: Scheme
    country: str | None  # whose VAT applies; the buyer's for OSS and reverse charge

    @property
    def reverse_charge(self) -> bool:
        return self.scheme == "reverse_charge"


@dataclass(frozen=True)
class Totals:
    net: int
    tax: int
    gross: int


def vat_id_country(vat_id: str | None) -> str | None:
    """The EU member state of a VAT ID whose checksum is valid, else ``None``."""
    if not vat_id or not vat.is_valid(vat_id):
        return None
    prefix = vat.compact(vat_id)[:2].upper()
    country = _VAT_PREFIX_COUNTRY.get(prefix, prefix)
    return country if country in EU_COUNTRIES else None


def decide(tax: Tax, seller_country: str | None, buyer: Party) -> TaxDecision:
    """The VAT of an invoice from ``seller`` to ``buyer`` under the merchant's tax settings."""
    inclusive = tax.prices_include_tax
    seller_in_eu = seller_country in EU_COUNTRIES
    buyer_vat_country = vat_id_country(buyer.vat_id)
    if (
        tax.reverse_charge
        and seller_in_eu
        and buyer_vat_country
        and buyer_vat_country != seller_country
    ):
        return TaxDecision(Decimal(0), inclusive, "reverse_charge", buyer_vat_country)
    if (
        tax.eu_oss
        and seller_in_eu
        and buyer.country in EU_COUNTRIES
        and buyer.country != seller_country
    ):
        return TaxDecision(EU_VAT_RATES[buyer.country], inclusive, "oss", buyer.country)
    return TaxDecision(tax.rate, inclusive, "domestic", seller_country)


def totals(amount: int, decision: TaxDecision) -> Totals:
    """Net, VAT and gross of a sum of line amounts; VAT is rounded once, on the sum.

    ``net + tax == gross`` always, and the lines' sum is the net (prices
    without VAT) or the gross (prices with VAT).
    """
    if decision.inclusive:
        rate = Fraction(decision.rate)
        net = divide(amount * 100 * rate.denominator, 100 * rate.denominator + rate.numerator)
        return Totals(net=net, tax=amount - net, gross=amount)
    tax_amount = percent_of(amount, decision.rate)
    return Totals(net=amount, tax=tax_amount, gross=amount + tax_amount)
