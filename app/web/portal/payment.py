"""The portal's payment methods: list, add a card or SEPA mandate, choose the default,
remove one, turn automatic payment on or off.

The "add" form is the order page's payment inputs (:func:`app.signup.payment_fields.payment_specs`)
for the card and SEPA methods the merchant offers, built by the same form engine:
one schema validates and renders them. Card numbers and IBANs go to the gateway
and never back into a page; only the gateway's token, brand, last four and masked
IBAN are stored. Every change is audited by :class:`app.portal.payments.PaymentActions`.
The merchant switches the page off with ``portal.payment_methods``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app.billing.base import NotFoundError
from app.billing.gateways import (
    InvalidPaymentDetails,
    PaymentDeclined,
    details_message,
    failure_message,
)
from app.billing.methods import AUTOMATIC_KINDS
from app.config.models import MerchantConfig
from app.portal.documents import customer_actor
from app.portal.payments import DefaultMethodKept, PaymentActions
from app.signup.payment_fields import (
    NEVER_ECHOED,
    chosen_method,
    input_for,
    payment_details,
    payment_specs,
)
from app.web.i18n import current_translations
from app.web.merchant import MerchantPage
from app.web.portal.auth import SignedIn, portal_login_required, render_portal, signed_in
from app.web.portal.features import portal_feature
from app.web.portal.overview import method_label
from app.web.services import portico
from forms import BuildContext, OrderedForm

blueprint = Blueprint("portal_payment", __name__)

# The notice after an action (``?done=<key>``) and the action the feedback prompt asks about.
FEEDBACK_ACTIONS = {
    "added": "add_payment_method",
    "default": "default_payment_method",
    "removed": "remove_payment_method",
    "auto_pay_on": "auto_pay",
    "auto_pay_off": "auto_pay",
}
FormErrors = list[tuple[str, str, str]]  # (input id, label, message)


@dataclass(frozen=True)
class MethodRow:
    id: str
    kind: str  # card | sepa_debit | invoice
    label: str  # "Visa ending in 4242", "SEPA Direct Debit DE89 **** 3000"
    expiry: str | None  # "08/2029" for a card
    mandate_reference: str | None
    mandate_date: str | None  # ISO 8601
    default: bool


@blueprint.after_request
def _private(response: Response) -> Response:
    """Payment details are personal: never kept by a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/<merchant>/portal/payment-methods", methods=["GET", "POST"])
@portal_feature("payment_methods")
@portal_login_required
def payment_methods(merchant: str) -> Response:
    user = signed_in()
    if request.method == "GET":
        done = request.args.get("done", "")
        return _page(user, done=done if done in FEEDBACK_ACTIONS else "")
    action = request.form.get("action")
    if action == "add":
        return _add(user)
    if action in ("default", "remove"):
        return _change(user, action, request.form.get("method", ""))
    if action == "auto_pay" and request.form.get("auto_pay") in ("on", "off"):
        return _auto_pay(user, request.form["auto_pay"] == "on")
    abort(422, gettext("This form is not valid any more. Please reload the page."))


def _add(user: SignedIn) -> Response:
    """A new card or mandate from the add form; it becomes the default."""
    page = user.page
    form_class = _add_form_class(page)
    if form_class is None:
        abort(404)
    form = form_class(request.form, meta={"translations": current_translations()})
    if not form.validate():
        return _page(user, form=form, status=422)
    shown = form.visible_values()
    kind = chosen_method(_card_and_sepa(page.config), shown)
    try:
        _actions().add_method(
            page.slug,
            page.config,
            user.customer_id or "",
            kind,
            payment_details(kind, shown),
            actor=customer_actor(user.email_key),
        )
    except InvalidPaymentDetails as error:
        form[input_for(error.field)].errors.append(details_message(error, current_translations()))
        return _page(user, form=form, status=422)
    except PaymentDeclined as declined:
        error = failure_message(declined.code, current_translations())
        return _page(user, form=form, status=422, error=error)
    return _done(user, "added")


def _change(user: SignedIn, action: str, method_id: str) -> Response:
    page = user.page
    actions = _actions()
    actor = customer_actor(user.email_key)
    try:
        if action == "default":
            actions.set_default(page.slug, user.customer_id or "", method_id, actor=actor)
        else:
            actions.remove_method(page.slug, user.customer_id or "", method_id, actor=actor)
    except NotFoundError:
        abort(404)
    except DefaultMethodKept:
        error = gettext(
            "This is your default payment method, so it cannot be removed. Make another"
            " method the default first."
        )
        return _page(user, status=409, error=error)
    return _done(user, "default" if action == "default" else "removed")


def _auto_pay(user: SignedIn, enabled: bool) -> Response:
    page = user.page
    if not _card_and_sepa(page.config).payments.methods:
        abort(404)
    _actions().set_auto_pay(
        page.slug, user.customer_id or "", enabled, actor=customer_actor(user.email_key)
    )
    return _done(user, "auto_pay_on" if enabled else "auto_pay_off")


def _done(user: SignedIn, done: str) -> Response:
    page = user.page
    return redirect(
        url_for(".payment_methods", merchant=page.slug, lang=page.language, done=done), code=303
    )


def _actions() -> PaymentActions:
    return portico().payment_actions


def _card_and_sepa(config: MerchantConfig) -> MerchantConfig:
    """The merchant's config offering only its card and SEPA methods: those a customer
    may add here (a bank transfer needs no stored method)."""
    kinds = tuple(kind for kind in config.payments.methods if kind in AUTOMATIC_KINDS)
    payments = config.payments.model_copy(update={"methods": kinds})
    return config.model_copy(update={"payments": payments})


def _add_form_class(page: MerchantPage) -> type[OrderedForm] | None:
    """The order page's card / SEPA inputs for this merchant, or ``None`` when it offers neither."""
    offered = _card_and_sepa(page.config)
    if not offered.payments.methods:
        return None
    context = BuildContext(
        language=page.language,
        default_language=page.config.default_language,
        default_country=page.config.merchant.address.country,
        timezone=page.config.merchant.timezone,
    )
    specs = payment_specs(offered, current_translations())
    key = (page.slug, page.loaded.version, "portal-payment-method")
    return portico().order_forms.fields.form_class(key, specs, context)


def _page(
    user: SignedIn,
    *,
    form: OrderedForm | None = None,
    status: int = 200,
    error: str = "",
    done: str = "",
) -> Response:
    page = user.page
    customer_id = user.customer_id or ""
    account = portico().portal.accounts.overview(page.slug, customer_id)
    if account is None:
        abort(404)
    form_class = _add_form_class(page)
    if form is None and form_class is not None:
        form = form_class(MultiDict(), meta={"translations": current_translations()})
    if form is not None:
        for name in (name for name in NEVER_ECHOED if name in form):
            form[name].data = ""  # card data goes to the gateway, never back into a page
    methods = portico().billing.payment_methods(page.slug, customer_id)
    return render_portal(
        user,
        "portal/payment_methods.html",
        status=status,
        methods=[_row(method) for method in methods],
        form=form,
        errors=_form_errors(form) if form is not None else [],
        auto_pay=account.auto_pay,
        offers_automatic=form_class is not None,
        creditor_id=page.config.payments.sepa_creditor_id,
        error=error,
        done=done,
        feedback_action=FEEDBACK_ACTIONS.get(done),
        action=url_for(".payment_methods", merchant=page.slug, lang=page.language),
    )


def _form_errors(form: OrderedForm) -> FormErrors:
    return [
        (form[name].id, form[name].label.text, form[name].errors[0])
        for name in (spec.name for spec in form.specs)
        if form[name].errors
    ]


def _row(method: dict[str, Any]) -> MethodRow:
    kind = method["kind"]
    expiry = (
        f"{method['exp_month']:02d}/{method['exp_year']}"
        if kind == "card" and method.get("exp_month")
        else None
    )
    return MethodRow(
        id=method["id"],
        kind=kind,
        label=method_label(method),
        expiry=expiry,
        mandate_reference=method.get("mandate_reference"),
        mandate_date=method.get("mandate_date"),
        default=method["default"],
    )
