"""The portal's details, preferences, help and feedback pages.

- ``/<merchant>/portal/details``: the merchant's ``portal: edit`` fields in the
  order page's form engine (same validation, same sections), ``read`` ones
  shown as text. Only editable inputs are read from a post; everything else
  comes from the stored customer, so a forged input changes nothing.
- ``/<merchant>/portal/preferences``: the optional consents (marketing opt-ins).
- ``/<merchant>/portal/help``: the FAQ with a keyword search and the support
  contact. Public: it holds nothing personal, and a customer who cannot sign
  in needs it most. Signed in, it shows inside the portal's layout.
- ``POST /<merchant>/portal/feedback``: the rating asked for by
  ``portal/feedback_prompt.html`` after an action.

The rules live in :mod:`app.portal.details`, :mod:`app.portal.faq` and
:mod:`app.portal.feedback`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, abort, redirect, request, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from app.portal.details import (
    EMAIL_FIELD,
    CustomerDetails,
    Details,
    EmailTaken,
    UnknownCustomer,
    details_specs,
    editable_names,
    optional_consents,
    readable_names,
)
from app.portal.documents import customer_actor
from app.portal.faq import MAX_QUERY_LENGTH, faq_entries, search
from app.portal.feedback import (
    MAX_COMMENT_LENGTH,
    InvalidFeedback,
    parse_feedback,
)
from app.web.i18n import current_translations
from app.web.merchant import MerchantPage, render_page
from app.web.portal.auth import (
    SignedIn,
    current_session,
    open_portal,
    portal_login_required,
    render_portal,
    signed_in,
)
from app.web.services import portico
from forms import FIELD_TYPES, BuildContext, OrderedForm

blueprint = Blueprint("portal_account", __name__)

FormErrors = list[tuple[str, str, str]]  # (input id, label, message)


@blueprint.after_request
def _private(response: Response) -> Response:
    """Portal pages are personal: never kept by a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _details_service() -> Details:
    return portico().details


# --- details ----------------------------------------------------------------


@dataclass(frozen=True)
class ReadOnlyValue:
    label: str
    value: str


@blueprint.route("/<merchant>/portal/details", methods=["GET", "POST"])
@portal_login_required
def details(merchant: str) -> Response:
    user = signed_in()
    page = user.page
    service = _details_service()
    customer = _load(service, user)
    if request.method == "GET":
        form = _details_form(page, customer, None)
        saved = request.args.get("saved") == "1"
        return _render_details(user, form, customer, saved=saved)
    form = _details_form(page, customer, request.form)
    editable = _editable_in(form)
    form.validate()
    # Only what the customer can change may stop them: a stored value that no
    # longer passes (the merchant tightened a rule) is not theirs to fix here.
    if any(form[name].errors for name in editable):
        return _render_details(user, form, customer, status=422)
    for field in form:
        if field.name not in editable and field.errors:
            field.data = None  # its raw value is not storable; it is not stored either
    values = {name: value for name, value in form.values().items() if name in editable}
    try:
        service.update(
            page.slug,
            customer.customer_id,
            values,
            editable,
            actor=customer_actor(user.email_key),
        )
    except EmailTaken:
        form[EMAIL_FIELD].errors = [
            gettext(
                "Another account already uses this email address. Please enter a different one."
            )
        ]
        return _render_details(user, form, customer, status=422)
    except UnknownCustomer:
        abort(404)
    target = url_for("portal_account.details", merchant=page.slug, lang=page.language, saved="1")
    return redirect(target, code=303)


def _load(service: Details, user: SignedIn) -> CustomerDetails:
    try:
        return service.load(user.page.slug, user.customer_id or "", user.page.config)
    except UnknownCustomer:
        abort(404)


def _details_form(
    page: MerchantPage, customer: CustomerDetails, posted: MultiDict | None
) -> OrderedForm:
    """The details form: stored values, with the editable inputs of ``posted`` over them."""
    specs, settled = details_specs(page.config.order_page.fields, customer.fields)
    context = BuildContext(
        language=page.language,
        default_language=page.config.default_language,
        default_country=page.config.merchant.address.country,
        timezone=page.config.merchant.timezone,
    )
    key = (page.slug, page.loaded.version, "portal-details", settled)
    form_class = portico().order_forms.fields.form_class(key, specs, context)
    editable = editable_names(specs)
    inputs: MultiDict = MultiDict()
    for spec in specs:
        sent = posted.getlist(spec.name) if posted is not None else []
        # A value that is never shown again (an IBAN) stays as stored unless retyped.
        retyped = FIELD_TYPES[spec.type].echo_value or any(v.strip() for v in sent)
        if posted is not None and spec.name in editable and retyped:
            inputs.setlist(spec.name, sent)
        else:
            inputs.setlist(spec.name, _as_inputs(customer.fields.get(spec.name)))
    return form_class(inputs, meta={"translations": current_translations()})


def _as_inputs(value: Any) -> list[str]:
    """A stored value as a browser would send it (an unticked box sends nothing)."""
    if value is None or value is False:
        return []
    return ["y"] if value is True else [str(value)]


def _editable_in(form: OrderedForm) -> list[str]:
    return [spec.name for spec in form.specs if spec.portal == "edit"]


def _render_details(
    user: SignedIn,
    form: OrderedForm,
    customer: CustomerDetails,
    *,
    status: int = 200,
    saved: bool = False,
) -> Response:
    page = user.page
    editable = _editable_in(form)
    errors: FormErrors = [
        (form[name].id, form[name].label.text, form[name].errors[0])
        for name in editable
        if form[name].errors
    ]
    return render_portal(
        user,
        "portal/details.html",
        status=status,
        form=form,
        editable=editable,
        read_only=_read_only(form, customer),
        errors=errors,
        saved=saved,
        feedback_action="details" if saved else None,
        action=url_for("portal_account.details", merchant=page.slug, lang=page.language),
    )


def _read_only(form: OrderedForm, customer: CustomerDetails) -> list[ReadOnlyValue]:
    """The ``portal: read`` fields that apply and have a value, in the words of the page."""
    shown = []
    readable = readable_names(form.specs)
    for spec in form.specs:
        value = customer.fields.get(spec.name)
        if spec.name in readable and value not in (None, ""):
            shown.append(
                ReadOnlyValue(form[spec.name].label.text, _display(form, spec.name, value))
            )
    return shown


def _display(form: OrderedForm, name: str, value: Any) -> str:
    kind = form.field_type(name)
    if kind.widget == "checkbox":
        return gettext("Yes") if value else gettext("No")
    if kind.widget in ("select", "radio"):
        labels = {choice.value: choice.label for choice in form[name].iter_choices()}
        return str(labels.get(str(value), value))
    if not kind.echo_value and hasattr(kind, "masked"):
        return kind.masked(str(value))
    return str(value)


# --- preferences ------------------------------------------------------------


@blueprint.route("/<merchant>/portal/preferences", methods=["GET", "POST"])
@portal_login_required
def preferences(merchant: str) -> Response:
    user = signed_in()
    page = user.page
    consents = optional_consents(page.config)
    if not consents:
        abort(404)
    service = _details_service()
    if request.method == "POST":
        try:
            service.set_opt_ins(
                page.slug,
                page.config,
                user.customer_id or "",
                {consent.name: request.form.get(consent.name) == "y" for consent in consents},
                {consent.name: page.text(consent.label) for consent in consents},
                page.language,
                actor=customer_actor(user.email_key),
            )
        except UnknownCustomer:
            abort(404)
        target = url_for(
            "portal_account.preferences", merchant=page.slug, lang=page.language, saved="1"
        )
        return redirect(target, code=303)
    customer = _load(service, user)
    labels = {consent.name: page.text(consent.label) for consent in consents}
    return render_portal(
        user,
        "portal/preferences.html",
        opt_ins=[(opt_in, labels[opt_in.name]) for opt_in in customer.opt_ins],
        saved=request.args.get("saved") == "1",
        action=url_for("portal_account.preferences", merchant=page.slug, lang=page.language),
    )


# --- help -------------------------------------------------------------------


@blueprint.get("/<merchant>/portal/help")
def help_page(merchant: str) -> Response:
    """The FAQ and the support contact; public, inside the portal layout when signed in."""
    page = open_portal(merchant)
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    entries = faq_entries(page.config, page.language)
    context: Mapping[str, Any] = {
        "query": query,
        "found": search(entries, query, page.language),
        "has_faq": bool(entries),
        "support": page.config.portal.support,
        "action": url_for("portal_account.help_page", merchant=page.slug),
    }
    user = current_session(page)
    if user is not None:
        return render_portal(user, "portal/help.html", **context)
    return render_page(page, "portal/help.html", portal=None, **context)


# --- feedback ---------------------------------------------------------------


@blueprint.post("/<merchant>/portal/feedback")
@portal_login_required
def feedback(merchant: str) -> Response:
    user = signed_in()
    page = user.page
    if not page.config.portal.feedback:
        abort(404)
    action = request.form.get("action", "")
    comment = request.form.get("comment", "")
    try:
        given = parse_feedback(request.form.get("rating"), comment, action)
    except InvalidFeedback as error:
        if error.field == "action":  # a hidden input: only a forged form gets it wrong
            abort(400, gettext("This form is not valid for this page. Please reload the page."))
        return render_portal(
            user,
            "portal/feedback.html",
            status=422,
            feedback_action=action,
            feedback_comment=comment[:MAX_COMMENT_LENGTH],
            feedback_errors=[_feedback_error(error.field)],
        )
    portico().feedback.record(page.slug, user.customer_id or "", given)
    return render_portal(user, "portal/feedback_thanks.html")


def _feedback_error(field: str) -> tuple[str, str, str]:
    if field == "comment":
        message = gettext(
            "Please shorten your comment to %(max)s characters.", max=MAX_COMMENT_LENGTH
        )
        return ("feedback-comment", gettext("Comment"), message)
    return ("feedback-rating-1", gettext("Rating"), gettext("Choose a rating from 1 to 5."))
