"""The portal's subscription pages: change plan, cancel (or take the retention offer),
undo a pending cancellation, pause and resume.

Actions that move money show billing's dry run first (the exact invoice or
credit note) and apply it only when the customer confirms that preview; the
confirmation is computed for the previewed moment, so it issues what was
shown. Every change is audited by :class:`app.portal.subscriptions.SubscriptionActions`.
After an action the customer lands on the overview, which confirms it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import gettext

from app.billing.base import NotFoundError, PreviewExpired
from app.billing.changing import ActionResult
from app.billing.records import Refusal
from app.billing.subscriptions import ActionRefused
from app.core.clock import iso, parse_iso
from app.portal.documents import customer_actor
from app.portal.subscriptions import MAX_COMMENT_LENGTH, SubscriptionActions
from app.web.mail_sender import send_later
from app.web.portal.auth import SignedIn, home_url, portal_login_required, render_portal, signed_in
from app.web.portal.overview import invoice_view, plan_view
from app.web.services import portico

blueprint = Blueprint("portal_subscription", __name__)
FormErrors = list[tuple[str, str, str]]  # (input id, label, message)


@blueprint.after_request
def _private(response: Response) -> Response:
    """Portal pages are personal: never kept by a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def refusal_message(reason: Refusal) -> str:
    """Why an action was refused, in words for the customer."""
    messages: dict[Refusal, str] = {
        Refusal.CHANGE_PLAN_DISABLED: gettext("Plan changes are not available here."),
        Refusal.PLAN_NOT_OFFERED: gettext("This plan cannot be chosen here."),
        Refusal.SAME_PLAN: gettext("This is your current plan already."),
        Refusal.NOT_CHANGEABLE: gettext("The plan of this subscription cannot be changed now."),
        Refusal.CANCEL_DISABLED: gettext("Cancellation is not available here."),
        Refusal.ALREADY_CANCELED: gettext("This subscription has been canceled already."),
        Refusal.NO_PENDING_CANCEL: gettext("This subscription has no cancellation to undo."),
        Refusal.PAUSE_DISABLED: gettext("Pausing is not available here."),
        Refusal.INVALID_CYCLES: gettext("Choose how many billing periods to pause for."),
        Refusal.NOT_PAUSABLE: gettext("This subscription cannot be paused now."),
        Refusal.NOT_PAUSED: gettext("This subscription is not paused."),
        Refusal.UNKNOWN_REASON: gettext("Choose one of the reasons listed."),
        Refusal.NO_RETENTION_OFFER: gettext("This offer is not available any more."),
    }
    return messages[reason]


def _actions() -> SubscriptionActions:
    return portico().subscription_actions


def _subscription(user: SignedIn) -> dict[str, Any]:
    """The subscription the request names (``subscription``), else the customer's first
    one that has not ended (none: back to the overview); 404 when it is not theirs."""
    page = user.page
    own = portico().billing.subscriptions(page.slug, user.customer_id or "")
    wanted = request.values.get("subscription")
    if not wanted:
        live = next((s for s in own if s["status"] != "canceled"), None)
        if live is None:
            abort(redirect(home_url(page), code=303))
        return live
    found = next((s for s in own if s["id"] == wanted), None)
    if found is None:
        abort(404)
    return found


def _done(user: SignedIn, done: str) -> Response:
    return redirect(home_url(user.page, done=done), code=303)


def _previewed_at() -> datetime:
    """The moment of the preview being confirmed (the form's ``at``); 422 if garbled."""
    try:
        return parse_iso(request.form.get("at", ""))
    except ValueError:
        abort(422, gettext("This form is not valid any more. Please review the change again."))


def _act(user: SignedIn, action: Callable[..., ActionResult], **kwargs: Any) -> ActionResult:
    """Run a portal action for the signed-in customer; a refusal is a 422 page."""
    page = user.page
    try:
        return action(
            page.slug,
            page.config,
            user.customer_id or "",
            actor=customer_actor(user.email_key),
            **kwargs,
        )
    except ActionRefused as refused:
        abort(422, refusal_message(refused.reason))
    except NotFoundError:
        abort(404)


# --- changing the plan ------------------------------------------------------


@blueprint.route("/<merchant>/portal/subscription/change", methods=["GET", "POST"])
@portal_login_required
def change(merchant: str) -> Response:
    user = signed_in()
    page = user.page
    settings = page.config.portal.change_plan
    if not settings.enabled:
        abort(404)
    subscription = _subscription(user)
    choices = [
        plan_view(page, plan_id)
        for plan_id in settings.plans
        if plan_id != subscription["plan_id"]
        and (plan := page.config.plan(plan_id)) is not None
        and plan.available
    ]
    context = {
        "subscription": subscription["id"],
        "current": plan_view(page, subscription["plan_id"], subscription),
        "choices": choices,
        "action": url_for(".change", merchant=page.slug, lang=page.language),
    }
    if request.method == "GET":
        return render_portal(user, "portal/change_plan.html", errors=[], chosen="", **context)
    plan_id = request.form.get("plan", "")
    if plan_id not in {choice.id for choice in choices}:
        errors = [("plan-0", gettext("Plan"), gettext("Choose one of the plans listed."))]
        return render_portal(
            user, "portal/change_plan.html", status=422, errors=errors, chosen="", **context
        )
    actions = _actions()
    if request.form.get("step") == "confirm":
        try:
            result = _act(
                user,
                actions.change_plan,
                subscription_id=subscription["id"],
                plan_id=plan_id,
                at=_previewed_at(),
            )
        except PreviewExpired:
            notice = gettext(
                "Prices are computed for the moment you see them. Please review the change again."
            )
        else:
            later = result.outcome.action == "schedule_change"
            return _done(user, "plan_change_scheduled" if later else "plan_change")
    else:
        notice = ""
    preview = _act(
        user, actions.change_plan, subscription_id=subscription["id"], plan_id=plan_id, dry_run=True
    )
    return render_portal(
        user,
        "portal/change_plan_confirm.html",
        notice=notice,
        plan=plan_view(page, plan_id),
        at=iso(preview.at),
        effective_at=iso(preview.outcome.effective_at),
        scheduled=preview.outcome.action == "schedule_change",
        invoice=invoice_view(page, preview.preview),
        next_invoice=invoice_view(page, preview.next_invoice),
        back=url_for(
            ".change", merchant=page.slug, lang=page.language, subscription=subscription["id"]
        ),
        **context,
    )


# --- canceling --------------------------------------------------------------


@blueprint.route("/<merchant>/portal/subscription/cancel", methods=["GET", "POST"])
@portal_login_required
def cancel(merchant: str) -> Response:
    user = signed_in()
    page = user.page
    settings = page.config.portal.cancel
    if not settings.enabled:
        abort(404)
    subscription = _subscription(user)
    if subscription["status"] == "canceled" or subscription["cancel_at_period_end"]:
        abort(422, refusal_message("already_canceled"))
    actions = _actions()
    customer_id = user.customer_id or ""
    if request.method == "POST" and request.form.get("offer") == "accept":
        try:
            actions.accept_retention(
                page.slug,
                page.config,
                customer_id,
                subscription["id"],
                actor=customer_actor(user.email_key),
            )
        except ActionRefused as refused:
            abort(422, refusal_message(refused.reason))
        return _done(user, "retention")
    offer = actions.retention_offer(page.slug, page.config, customer_id, subscription["id"])
    reason = request.form.get("reason") or None
    comment = request.form.get("comment", "") if settings.comment else ""
    context = {
        "subscription": subscription["id"],
        "current": plan_view(page, subscription["plan_id"], subscription),
        "reasons": [(key, page.text(label)) for key, label in settings.reasons.items()],
        "offer": page.text(offer.name) if offer and offer.name else (offer.code if offer else ""),
        "reason": reason or "",
        "comment": comment,
        "max_comment": MAX_COMMENT_LENGTH,
        "action": url_for(".cancel", merchant=page.slug, lang=page.language),
    }
    if request.method == "GET":
        return render_portal(user, "portal/cancel.html", errors=[], **context)
    errors: FormErrors = []
    if settings.reasons and reason not in settings.reasons:
        errors.append(("reason-0", gettext("Reason"), gettext("Choose one of the reasons listed.")))
    if len(comment.strip()) > MAX_COMMENT_LENGTH:
        message = gettext(
            "Please keep your comment under %(max)s characters.", max=MAX_COMMENT_LENGTH
        )
        errors.append(("comment", gettext("Comment"), message))
    if errors:
        return render_portal(user, "portal/cancel.html", status=422, errors=errors, **context)
    notice = ""
    if request.form.get("step") == "confirm":
        try:
            result = _act(
                user,
                actions.cancel,
                subscription_id=subscription["id"],
                reason=reason,
                comment=comment,
                at=_previewed_at(),
            )
        except PreviewExpired:
            notice = gettext(
                "Amounts are computed for the moment you see them. Please review the cancellation again."
            )
        else:
            send_later(user.page.loaded, user.customer_id)
            later = result.outcome.action == "schedule_cancel"
            return _done(user, "cancel_scheduled" if later else "cancel")
    preview = _act(
        user,
        actions.cancel,
        subscription_id=subscription["id"],
        reason=reason,
        comment=comment,
        dry_run=True,
    )
    return render_portal(
        user,
        "portal/cancel_confirm.html",
        notice=notice,
        at=iso(preview.at),
        effective_at=iso(preview.outcome.effective_at),
        scheduled=preview.outcome.action == "schedule_cancel",
        invoice=invoice_view(page, preview.preview),
        reason_label=dict(context["reasons"]).get(reason or "", ""),
        back=url_for(
            ".cancel", merchant=page.slug, lang=page.language, subscription=subscription["id"]
        ),
        **context,
    )


@blueprint.post("/<merchant>/portal/subscription/cancel/undo")
@portal_login_required
def undo_cancel(merchant: str) -> Response:
    user = signed_in()
    _act(user, _actions().undo_cancel, subscription_id=_subscription(user)["id"])
    return _done(user, "cancel_undone")


# --- pausing ----------------------------------------------------------------


def _pause_enabled(user: SignedIn) -> None:
    if not user.page.config.portal.pause.enabled:
        abort(404)


@blueprint.post("/<merchant>/portal/subscription/pause")
@portal_login_required
def pause(merchant: str) -> Response:
    user = signed_in()
    _pause_enabled(user)
    cycles = request.form.get("cycles", "")
    if not cycles.isdigit():
        abort(422, refusal_message("invalid_cycles"))
    subscription_id = _subscription(user)["id"]
    _act(user, _actions().pause, subscription_id=subscription_id, cycles=int(cycles))
    return _done(user, "pause")


@blueprint.post("/<merchant>/portal/subscription/resume")
@portal_login_required
def resume(merchant: str) -> Response:
    user = signed_in()
    _pause_enabled(user)
    _act(user, _actions().resume, subscription_id=_subscription(user)["id"])
    send_later(user.page.loaded, user.customer_id)
    return _done(user, "resume")
