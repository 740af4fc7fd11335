"""What a customer may do to a subscription in the portal, each change audited.

A thin layer over :class:`~app.billing.service.BillingService`: billing
computes and applies the change (and emits its events); this service adds, in
the same write transaction, the audit entry (who, when, what, before → after)
and the cancellation confirmation mail. The retention coupon offered before a
cancellation is the one change billing has no action for; it is applied here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.billing import coupons
from app.billing.base import NotFoundError
from app.billing.changing import ActionResult, ApplyHook
from app.billing.coupons import CouponInvalid
from app.billing.records import Refusal, SubscriptionStatus
from app.billing.service import BillingService
from app.billing.subscriptions import ActionRefused
from app.config.models import Coupon, MerchantConfig
from app.core.clock import iso
from app.outbox.notifications import record_mail
from app.portal.documents import audit
from app.signup.billing import redeemable
from app.store import ReadTransaction, WriteTransaction

# Bookkeeping fields an audit entry leaves out: they change with every action.
NOT_AUDITED = frozenset({"updated_at"})
MAX_COMMENT_LENGTH = 1000


def _changed(before: Mapping[str, Any], after: Mapping[str, Any], keys: Any) -> tuple[dict, dict]:
    """The audited fields among ``keys``, as they were and as they are."""
    shown = sorted(set(keys) - NOT_AUDITED)
    return {k: before.get(k) for k in shown}, {k: after.get(k) for k in shown}


def _audited(actor: str, extra: Mapping[str, Any] | None = None) -> ApplyHook:
    """The hook writing the audit entry of an applied action (``extra`` joins ``after``)."""

    def record(tx: WriteTransaction, before: dict[str, Any], result: ActionResult) -> None:
        assert result.subscription is not None
        was, now = _changed(before, result.subscription, result.outcome.changes)
        audit(
            tx,
            result.at,
            f"subscription.{result.outcome.action}",
            actor=actor,
            customer_id=before["customer_id"],
            before={"subscription_id": before["id"], **was},
            after={"subscription_id": before["id"], **now, **(extra or {})},
        )

    return record


class SubscriptionActions:
    """The portal's subscription actions for one signed-in customer's documents.

    ``actor`` is the audit actor (:func:`app.portal.documents.customer_actor`).
    Refusals raise :class:`ActionRefused` (billing's reasons, plus ``unknown_reason``
    and ``no_retention_offer``) or :class:`NotFoundError` for a subscription that
    is not the customer's; nothing is written then.
    """

    def __init__(self, billing: BillingService) -> None:
        self.billing = billing

    def change_plan(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        plan_id: str,
        *,
        actor: str,
        dry_run: bool = False,
        at: datetime | None = None,
    ) -> ActionResult:
        return self.billing.change_plan(
            merchant,
            config,
            customer_id,
            subscription_id,
            plan_id,
            dry_run=dry_run,
            at=at,
            then=_audited(actor),
        )

    def cancel(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        actor: str,
        reason: str | None = None,
        comment: str = "",
        dry_run: bool = False,
        at: datetime | None = None,
    ) -> ActionResult:
        """Cancel per ``portal.cancel.mode``. A scheduled cancellation is confirmed by
        the ``cancellation_confirmation`` mail; one that takes effect at once gets
        billing's ``subscription_canceled`` mail instead (one mail, not two). The
        comment is kept in the audit entry, for the merchant to read."""
        settings = config.portal.cancel
        if reason is not None and reason not in settings.reasons:
            raise ActionRefused(Refusal.UNKNOWN_REASON)
        comment = comment.strip()[:MAX_COMMENT_LENGTH] if settings.comment else ""
        audited = _audited(actor, {"cancel_comment": comment} if comment else None)

        def record(tx: WriteTransaction, before: dict[str, Any], result: ActionResult) -> None:
            audited(tx, before, result)
            if result.outcome.action == "schedule_cancel":
                customer = tx.collection("customers").get(customer_id)
                assert customer is not None
                record_mail(
                    tx,
                    "cancellation_confirmation",
                    customer,
                    result.at,
                    {
                        "subscription_id": subscription_id,
                        "plan_id": before["plan_id"],
                        "ended_at": iso(result.outcome.effective_at),
                    },
                    key=f"cancellation_confirmation:{subscription_id}:{iso(result.at)}",
                )

        return self.billing.cancel(
            merchant,
            config,
            customer_id,
            subscription_id,
            reason=reason,
            dry_run=dry_run,
            at=at,
            then=record,
        )

    def undo_cancel(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        actor: str,
    ) -> ActionResult:
        return self.billing.undo_cancel(
            merchant, config, customer_id, subscription_id, then=_audited(actor)
        )

    def pause(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        cycles: int,
        *,
        actor: str,
    ) -> ActionResult:
        return self.billing.pause(
            merchant, config, customer_id, subscription_id, cycles, then=_audited(actor)
        )

    def resume(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        actor: str,
    ) -> ActionResult:
        return self.billing.resume(
            merchant, config, customer_id, subscription_id, then=_audited(actor)
        )

    # The retention offer ------------------------------------------------------------

    def retention_offer(
        self, merchant: str, config: MerchantConfig, customer_id: str, subscription_id: str
    ) -> Coupon | None:
        """The merchant's retention coupon, if it can be redeemed for this subscription
        now and no coupon is still discounting it."""
        with self.billing.store.read(merchant) as tx:
            subscription = self._subscription(tx, customer_id, subscription_id)
            return self._offer(tx, config, subscription)

    def accept_retention(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        subscription_id: str,
        *,
        actor: str,
    ) -> Coupon:
        """Apply the retention coupon from the next billed period; the subscription is
        not canceled. Raises :class:`ActionRefused` (``no_retention_offer``)."""
        now = self.billing.clock()
        with self.billing.store.write(merchant) as tx:
            subscription = self._subscription(tx, customer_id, subscription_id)
            coupon = self._offer(tx, config, subscription)
            if coupon is None:
                raise ActionRefused(Refusal.NO_RETENTION_OFFER)
            state = coupons.snapshot(coupon, config.merchant.currency)
            changes = {"coupon": state, "coupon_code": state["code"], "updated_at": iso(now)}
            updated = tx.collection("subscriptions").update(subscription_id, changes)
            was, after = _changed(subscription, updated, changes)
            audit(
                tx,
                now,
                "subscription.accept_retention",
                actor=actor,
                customer_id=customer_id,
                before={"subscription_id": subscription_id, **was},
                after={"subscription_id": subscription_id, **after},
            )
        return coupon

    def _offer(
        self, tx: ReadTransaction, config: MerchantConfig, subscription: Mapping[str, Any]
    ) -> Coupon | None:
        code = config.portal.cancel.retention_coupon
        if not code or not config.portal.cancel.enabled:
            return None
        if subscription["status"] not in (
            SubscriptionStatus.ACTIVE,
            SubscriptionStatus.TRIALING,
            SubscriptionStatus.PAST_DUE,
        ):
            return None
        if subscription.get("cancel_at_period_end"):
            return None
        if coupons.applies(subscription.get("coupon"), subscription["plan_id"]):
            return None
        try:
            return redeemable(tx, config, code, subscription["plan_id"], self.billing.clock())
        except CouponInvalid:
            return None

    @staticmethod
    def _subscription(
        tx: ReadTransaction, customer_id: str, subscription_id: str
    ) -> dict[str, Any]:
        subscription = tx.collection("subscriptions").get(subscription_id)
        if subscription is None or subscription["customer_id"] != customer_id:
            raise NotFoundError(subscription_id)
        return subscription
