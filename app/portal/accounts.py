"""What the portal shows about one account: a read model, no changes.

The overview starts small (number, address, subscriptions) and grows with the
portal's features; templates get these objects, never store documents.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.store import Store


@dataclass(frozen=True)
class SubscriptionSummary:
    id: str
    plan_id: str
    status: str
    trial_end: str | None
    current_period_end: str | None
    cancel_at_period_end: bool


@dataclass(frozen=True)
class AccountOverview:
    customer_id: str
    number: str
    email: str
    language: str
    subscriptions: tuple[SubscriptionSummary, ...]
    auto_pay: bool = True  # billing collects from the default card or mandate


class Accounts:
    def __init__(self, store: Store) -> None:
        self.store = store

    def overview(self, merchant: str, customer_id: str) -> AccountOverview | None:
        """The account's number, address and subscriptions; ``None`` if it is gone."""
        with self.store.read(merchant) as tx:
            customer = tx.collection("customers").get(customer_id)
            if customer is None:
                return None
            subscriptions = tx.collection("subscriptions").find(customer_id=customer_id)
        return AccountOverview(
            customer_id=customer["id"],
            number=customer["number"],
            email=customer["email"],
            language=customer.get("language") or "",
            auto_pay=bool(customer.get("auto_pay", True)),
            subscriptions=tuple(
                SubscriptionSummary(
                    id=s["id"],
                    plan_id=s["plan_id"],
                    status=s["status"],
                    trial_end=s.get("trial_end"),
                    current_period_end=s.get("current_period_end"),
                    cancel_at_period_end=bool(s.get("cancel_at_period_end")),
                )
                for s in subscriptions
            ),
        )
