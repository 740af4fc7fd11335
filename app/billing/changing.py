"""Changing a contract: plan changes, cancellation and its undo, pause and resume,
and moving a plan's subscribers to its current terms.

Actions that move money (change plan, cancel, resume) take ``dry_run``: the
result then holds the invoice the action *would* issue and nothing is
written. Pass the preview's ``at`` back when confirming and the real action
is computed for the same moment, so it issues exactly the previewed invoice
(within :data:`~app.billing.base.PREVIEW_VALIDITY`; an older preview is refused).
The subscription actions also take ``then`` (an :data:`ApplyHook`): the caller's
own records of the change, written in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.billing import subscriptions
from app.billing.base import BillingBase
from app.billing.invoices import InvoiceDraft
from app.billing.subscriptions import Outcome
from app.config.models import MerchantConfig
from app.store import ReadTransaction, WriteTransaction


@dataclass(frozen=True)
class ActionResult:
    """An action's outcome; ``subscription`` and ``invoice`` are set once it was applied."""

    at: datetime  # the moment it was computed for: pass it back to confirm a preview
    outcome: Outcome
    subscription: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None

    @property
    def preview(self) -> InvoiceDraft | None:
        return self.outcome.invoice

    @property
    def next_invoice(self) -> InvoiceDraft | None:
        return self.outcome.next_invoice


# Called inside an applied action's write transaction with the subscription as it was
# and the result, so that what the caller records (the portal's audit entry, a mail)
# commits or fails together with the change.
ApplyHook = Callable[[WriteTransaction, dict[str, Any], ActionResult], None]


class ContractChanges(BillingBase):
    def change_plan(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        plan_id: str,
        *,
        dry_run: bool = False,
        at: datetime | None = None,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            at,
            lambda tx, sub, customer, moment: subscriptions.plan_change(
                tx, config, sub, customer, plan_id, moment
            ),
            then,
        )

    def cancel(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        reason: str | None = None,
        dry_run: bool = False,
        at: datetime | None = None,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        """Cancel as the merchant's ``portal.cancel.mode`` says."""
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            at,
            lambda tx, sub, customer, moment: subscriptions.cancellation(
                tx, config, sub, customer, moment, reason=reason
            ),
            then,
        )

    def undo_cancel(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            False,
            None,
            lambda tx, sub, customer, moment: subscriptions.undo_cancellation(sub, moment),
            then,
        )

    def pause(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        cycles: int,
        *,
        dry_run: bool = False,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            None,
            lambda tx, sub, customer, moment: subscriptions.pausing(
                tx, config, sub, customer, cycles, moment
            ),
            then,
        )

    def resume(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        dry_run: bool = False,
        at: datetime | None = None,
        then: ApplyHook | None = None,
    ) -> ActionResult:
        return self._act(
            merchant,
            config,
            customer_id,
            subscription_id,
            dry_run,
            at,
            lambda tx, sub, customer, moment: subscriptions.resuming(
                tx, config, sub, customer, moment
            ),
            then,
        )

    def migrate_plan(self, merchant: str, config: MerchantConfig, plan_id: str) -> int:
        """Move every subscription of ``plan_id`` to the plan's current terms from its
        next renewal (grandfathering ends). Returns how many were moved."""
        now = self.clock()
        moved = 0
        with self.store.write(merchant) as tx:
            for subscription in tx.collection("subscriptions").find(plan_id=plan_id):
                outcome = subscriptions.migration(config, subscription, now)
                if outcome is not None:
                    tx.collection("subscriptions").update(subscription["id"], outcome.changes)
                    moved += 1
        return moved

    def _act(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        dry_run: bool,
        at: datetime | None,
        compute: Callable[[ReadTransaction, dict[str, Any], dict[str, Any], datetime], Outcome],
        then: ApplyHook | None = None,
    ) -> ActionResult:
        moment = self._moment(at)
        if dry_run:
            with self.store.read(merchant) as tx:
                customer = self._customer(tx, customer_id)
                subscription = self._subscription(tx, customer_id, subscription_id)
                return ActionResult(moment, compute(tx, subscription, customer, moment))
        with self.store.write(merchant) as tx:
            customer = self._customer(tx, customer_id)
            subscription = self._subscription(tx, customer_id, subscription_id)
            outcome = compute(tx, subscription, customer, moment)
            updated, invoice = subscriptions.apply(
                tx, config, self.gateways(config), subscription, outcome, moment
            )
            result = ActionResult(moment, outcome, updated, invoice)
            if then is not None:
                then(tx, subscription, result)
            return result
