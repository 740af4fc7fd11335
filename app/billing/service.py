"""The billing service the order page, the portal and ``portico bill`` call.

Plain methods over an explicit store, clock and gateways; no Flask. Each
audience's methods live in a module of their own — reading
(:mod:`~app.billing.reporting`), changing a contract (:mod:`~app.billing.changing`),
taking money (:mod:`~app.billing.collecting`) and issuing
(:mod:`~app.billing.issuing`); this class is all of them over one store and clock,
for the container.
"""

from __future__ import annotations

from app.billing.changing import ContractChanges
from app.billing.collecting import Collections
from app.billing.issuing import Issuing
from app.billing.reporting import BillingReports


class BillingService(BillingReports, ContractChanges, Collections, Issuing):
    """Every billing action of one instance."""
