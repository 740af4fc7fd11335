"""Seller and buyer as an invoice names them, taken from the config and the customer's fields.

Order pages are merchant-designed, so a buyer's details come from field names
by convention: ``company``; ``name`` or ``full_name`` or ``first_name`` +
``last_name``; ``street``, ``street2``, ``postal_code`` (or ``postcode``,
``zip``), ``city``, ``region``, ``country``; ``vat_id``. Address fields may
carry a ``billing_`` or ``shipping_`` prefix; unprefixed wins, then billing,
then shipping. An invoice keeps a snapshot of both parties, so editing a
customer's details later never changes an invoice already issued.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from stdnum.eu import vat

from app.config.models import MerchantConfig

ADDRESS_PREFIXES = ("", "billing_", "shipping_")


@dataclass(frozen=True)
class Party:
    """One side of an invoice, as printed."""

    name: str
    company: str = ""
    address: tuple[str, ...] = ()  # printable lines without the country
    country: str | None = None  # ISO 3166 alpha-2
    vat_id: str | None = None  # compact: DE136695976
    email: str = ""
    customer_number: str = ""
    registration: str = ""
    phone: str = ""

    def snapshot(self) -> dict[str, Any]:
        data = asdict(self)
        data["address"] = list(self.address)
        return data

    @classmethod
    def from_snapshot(cls, data: Mapping[str, Any]) -> Party:
        return cls(**{**data, "address": tuple(data.get("address", ()))})


def seller_of(config: MerchantConfig) -> Party:
    merchant = config.merchant
    address = merchant.address
    lines = [address.street, address.street2 or "", f"{address.postal_code} {address.city}"]
    if address.region:
        lines.append(address.region)
    return Party(
        name=merchant.name,
        address=tuple(line for line in lines if line),
        country=address.country,
        vat_id=merchant.vat_id,
        email=merchant.email,
        registration=merchant.registration or "",
        phone=merchant.phone or "",
    )


def buyer_of(customer: Mapping[str, Any], default_country: str) -> Party:
    """The customer as the buyer on an invoice; the country defaults to the merchant's."""
    fields = customer.get("fields") or {}

    def text(*names: str) -> str:
        for name in names:
            value = fields.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    def address_field(*names: str) -> str:
        return text(*(prefix + name for prefix in ADDRESS_PREFIXES for name in names))

    name = text("name", "full_name") or " ".join(
        part for part in (text("first_name"), text("last_name")) if part
    )
    vat_id = vat.compact(text("vat_id")) if text("vat_id") else None
    country = (address_field("country") or default_country).upper()
    place = " ".join(
        part
        for part in (address_field("postal_code", "postcode", "zip"), address_field("city"))
        if part
    )
    lines = (address_field("street"), address_field("street2"), place, address_field("region"))
    return Party(
        name=name or str(customer.get("email", "")),
        company=text("company"),
        address=tuple(line for line in lines if line),
        country=country,
        vat_id=vat_id,
        email=str(customer.get("email", "")),
        customer_number=str(customer.get("number", "")),
    )
