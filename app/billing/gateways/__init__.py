"""Payment gateways: one per payment kind, behind :class:`~app.billing.gateways.base.Gateway`.

See :mod:`app.billing.gateways.base` for how to add a real provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.billing.gateways.base import (
    CardDetails,
    ChargeResult,
    Gateway,
    InvalidPaymentDetails,
    PaymentDeclined,
    PaymentDetails,
    PaymentKind,
    SepaDetails,
    StripeCardDetails,
    Tokenized,
    details_message,
    failure_message,
)
from app.billing.gateways.invoice import BankTransferGateway
from app.billing.gateways.sandbox import SandboxCardGateway
from app.billing.gateways.sepa import SepaGateway
from app.core.clock import Clock

__all__ = [
    "CardDetails",
    "ChargeResult",
    "Gateway",
    "Gateways",
    "InvalidPaymentDetails",
    "PaymentDeclined",
    "PaymentDetails",
    "PaymentKind",
    "SepaDetails",
    "StripeCardDetails",
    "Tokenized",
    "details_message",
    "failure_message",
    "gateways_for",
]


@dataclass(frozen=True)
class Gateways:
    """The gateway for each payment kind a merchant may offer."""

    card: Gateway
    sepa_debit: Gateway
    invoice: Gateway

    def for_kind(self, kind: str) -> Gateway:
        if kind not in ("card", "sepa_debit", "invoice"):
            raise ValueError(f"unknown payment kind {kind!r}")
        return getattr(self, kind)


def gateways_for(gateway: str, clock: Clock) -> Gateways:
    """The gateways named by a merchant's ``payments.gateway``."""
    if gateway == "sandbox":
        return Gateways(
            card=SandboxCardGateway(clock), sepa_debit=SepaGateway(), invoice=BankTransferGateway()
        )
    raise ValueError(f"unknown payment gateway {gateway!r}")
