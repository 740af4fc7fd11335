"""The hosted order page: GET shows it, POST signs the customer up or explains what is wrong.

The view only translates HTTP into calls: the form engine validates, the sign-up
service stores, the confirmation mail goes through the mailer.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app.billing import keys
from app.billing.coupons import CouponInvalid
from app.billing.coupons import message as coupon_message
from app.billing.gateways import (
    InvalidPaymentDetails,
    PaymentDeclined,
    details_message,
    failure_message,
)
from app.billing.gateways.providers import StripeNotConfigured
from app.billing.gateways.stripe import ActionRequired, IntentSecret, StripeUnavailable
from app.signup.form import HONEYPOT, PAGE_INPUTS
from app.signup.formtoken import InvalidFormToken, TokenProblem
from app.signup.payment_fields import (
    NEVER_ECHOED,
    PAYMENT_INPUTS,
    STRIPE_INPUTS,
    chosen_method,
    input_for,
    payment_details,
)
from app.signup.service import ConsentGiven, SignupRequest
from app.signup.view import masked_email, plan_option, plan_options
from app.web.i18n import current_translations
from app.web.mail_sender import send_later
from app.web.merchant import MerchantPage, open_merchant, render_page
from app.web.security import allow_form_action, allow_framing, is_same_origin_post, no_store
from app.web.services import portico
from app.web.stripe_card import stripe_card_context
from forms import BuildContext, OrderedForm

log = logging.getLogger(__name__)
blueprint = Blueprint("order", __name__)
blueprint.after_request(no_store)  # order forms, their errors, redirects, success pages

FORM_CONTROL_INPUTS = frozenset({"embed"})  # sent by the no-JavaScript form in a frame


def _form_class(page: MerchantPage) -> type[OrderedForm]:
    context = BuildContext(
        language=page.language,
        default_language=page.config.default_language,
        default_country=page.config.merchant.address.country,
        timezone=page.config.merchant.timezone,
    )
    return portico().order_forms.form_class((page.slug, page.loaded.version), page.config, context)


def _new_form(page: MerchantPage, formdata: MultiDict | None = None) -> OrderedForm:
    return _form_class(page)(formdata, meta={"translations": current_translations()})


def _prefilled_form(page: MerchantPage) -> OrderedForm:
    """A fresh form, prefilled from the query string; what is prefilled is validated on submit."""
    form = _new_form(page)
    names = {field.name for field in form} - PAGE_INPUTS  # never prefill payment inputs
    prefill = MultiDict((k, v) for k, v in request.args.items(multi=True) if k in names)
    if prefill:
        form = _new_form(page, prefill)
    plan_id = request.args.get("plan") or page.config.order_page.default_plan
    plan = page.config.plan(plan_id) if plan_id else None
    if plan is not None and not plan.available:
        abort(410)
    offered = [plan.id for plan in page.config.offered_plans]
    form.plan.data = plan_id if plan_id in offered else offered[0]
    if "coupon" in form and request.args.get("coupon"):
        form.coupon.data = request.args["coupon"].strip()[:40]
    form.form_token.data = portico().form_tokens.issue(page.slug)
    return form


def _render_order(
    page: MerchantPage,
    form: OrderedForm,
    status: int = 200,
    notice: str = "",
    action: IntentSecret | None = None,
) -> Response:
    for name in (name for name in NEVER_ECHOED if name in form):
        form[name].data = ""  # card data goes to the gateway, never back into a page
    if action is None:  # a card confirmed for a page that had errors is entered again
        for name in (name for name in STRIPE_INPUTS if name in form):
            form[name].data = ""
    if page.embed:
        allow_framing(page.config.embed.allowed_origins)
    return render_page(
        page,
        "order.html",
        status=status,
        form=form,
        plans=plan_options(page.config, page.language, current_translations()),
        honeypot=HONEYPOT,
        notice=notice,
        action=url_for("order.order_page", merchant=page.slug, **page.url_args()),
        stripe=stripe_card_context(page, action),
    )


@blueprint.get("/<merchant>/order")
def order_page(merchant: str) -> Response:
    page = open_merchant(merchant)
    response = _render_order(page, _prefilled_form(page))
    _count(page, "view")
    return response


def _count(page: MerchantPage, event: str) -> None:
    """Count a view or submit for the merchant's funnel; a failure costs the count only."""
    channel = "embed" if page.embed else "link"
    try:
        portico().funnel.count(page.slug, event, page.language, channel, portico().now())
    except Exception:
        log.exception("the %s of %s's order page was not counted", event, page.slug)


def render_preview(page: MerchantPage, sample: Mapping[str, str], notice: str) -> Response:
    """The order page as customers see it, filled with ``sample``, that cannot be sent:
    it carries no form token, so even a forced POST is refused and stores nothing."""
    form = _new_form(page, MultiDict(sample))
    offered = [plan.id for plan in page.config.offered_plans]
    default = page.config.order_page.default_plan
    form.plan.data = default if default in offered else offered[0]
    return _render_order(page, form, notice=notice)


@blueprint.post("/<merchant>/order")
def submit_order(merchant: str) -> Response:
    page = open_merchant(merchant)
    if not is_same_origin_post():
        abort(403, gettext("This form can only be sent from its own page."))
    form = _new_form(page, request.form)
    unknown = set(request.form) - {field.name for field in form} - FORM_CONTROL_INPUTS
    if unknown:
        abort(400, gettext("The form contained fields this page does not have."))
    container = portico()
    try:
        token = container.form_tokens.verify(request.form.get("form_token"), page.slug)
    except InvalidFormToken as error:
        if error.problem is not TokenProblem.EXPIRED:
            abort(400, gettext("This form is not valid for this page. Please reload the page."))
        form.form_token.data = container.form_tokens.issue(page.slug)
        notice = gettext("The form had expired. Please check your details and send it again.")
        return _render_order(page, form, status=422, notice=notice)
    if (
        request.form.get(HONEYPOT)
        or container.form_tokens.age(token) < container.settings.min_fill_seconds
    ):
        abort(400, gettext("The form could not be sent. Please reload the page and try again."))
    _count(page, "submit")  # a person's attempt: bots and stale forms were refused above
    if not form.validate():
        return _render_order(page, form, status=422)
    try:
        result = container.signups.sign_up(
            page.slug, page.config, _signup_request(page, form, token.nonce)
        )
    except CouponInvalid as error:
        form.coupon.errors.append(coupon_message(error.reason, current_translations()))
        return _render_order(page, form, status=422)
    except InvalidPaymentDetails as error:
        form[input_for(error.field)].errors.append(details_message(error, current_translations()))
        return _render_order(page, form, status=422)
    except ActionRequired as error:  # the page runs the bank's challenge, then sends again
        form.stripe_payment_intent.data = error.secret.id
        notice = gettext("Please confirm the payment with your bank.")
        return _render_order(page, form, status=422, notice=notice, action=error.secret)
    except PaymentDeclined as error:
        notice = failure_message(error.code, current_translations())
        return _render_order(page, form, status=422, notice=notice)
    except (StripeUnavailable, StripeNotConfigured):
        log.exception("the card provider of %s could not be reached", page.slug)
        abort(
            503,
            gettext(
                "The payment provider could not be reached. Nothing was saved; please try again."
            ),
        )
    if result.created:
        send_later(page.loaded, result.customer_id)
    redirect_url = page.config.order_page.success.redirect_url
    if redirect_url and not page.embed:
        allow_form_action(redirect_url)
        return redirect(redirect_url, code=303)
    return redirect(
        url_for(
            "order.complete", merchant=page.slug, signup_id=result.signup_id, **page.url_args()
        ),
        code=303,
    )


def _signup_request(page: MerchantPage, form: OrderedForm, nonce: str) -> SignupRequest:
    consents = tuple(
        ConsentGiven(consent.name, page.text(consent.label), page.language)
        for consent in page.config.order_page.consents
        if form[consent.name].data
    )
    shown = form.visible_values()
    method = chosen_method(page.config, shown)
    return SignupRequest(
        nonce=nonce,
        plan_id=form.plan.data,
        values={k: v for k, v in form.values().items() if k not in PAYMENT_INPUTS},
        language=page.language,
        payment_method=method,
        payment_details=payment_details(method, shown, page.config, keys.signup(nonce)),
        consents=consents,
        coupon=(form.coupon.data or None) if "coupon" in form else None,
        channel="embed" if page.embed else "link",
    )


@blueprint.get("/<merchant>/order/complete/<signup_id>")
def complete(merchant: str, signup_id: str) -> Response:
    page = open_merchant(merchant)
    summary = portico().signups.summary(page.slug, signup_id)
    if summary is None:
        abort(404)
    if page.embed:
        allow_framing(page.config.embed.allowed_origins)
    plan = page.config.plan(summary.plan_id)
    redirect_top = page.config.embed.success == "top" and page.embed
    return render_page(
        page,
        "complete.html",
        redirect_top=page.config.order_page.success.redirect_url if redirect_top else None,
        summary=summary,
        plan=plan_option(page.config, plan, page.language, current_translations())
        if plan
        else None,
        email=masked_email(summary.email),
    )
