"""The customer portal's sign-in, sessions and account choice.

Signed out, ``/<merchant>/portal`` asks for an email address and mails a link
and a code; the link opens a confirmation page whose button signs in (a mail
scanner that fetches the link consumes nothing). Signed in, it shows the
account overview. The domain rules live in :mod:`app.portal`; the cookie and
the guard for other portal pages in :mod:`app.web.portal.auth`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for
from flask_babel import gettext

from app.portal.access import Account
from app.portal.addresses import AddressError, valid_email
from app.portal.tokens import (
    CODE_DIGITS,
    LIFETIME,
    MAX_CODE_FAILURES,
    SignInGrant,
    SignInRefused,
    TokenState,
    normalize_code,
)
from app.signup.formtoken import InvalidFormToken, TokenProblem
from app.web.merchant import MerchantPage, render_page
from app.web.portal.auth import (
    SignedIn,
    accounts_of,
    chooser_url,
    clear_session_cookie,
    current_session,
    home_url,
    open_portal,
    portal_login_required,
    render_portal,
    safe_next,
    session_cookie,
    set_session_cookie,
    signed_in,
    signin_form_tokens,
    signin_redirect,
    with_language,
)
from app.web.portal.overview import FEEDBACK_ACTIONS, overview_context
from app.web.portal.signin_mail import init_app as init_signin_mailer
from app.web.portal.signin_mail import signin_mailer
from app.web.security import is_same_origin_post
from app.web.services import portico

blueprint = Blueprint("portal", __name__)
blueprint.record_once(lambda state: init_signin_mailer(state.app))

MINUTES = int(LIFETIME.total_seconds() // 60)
# Every refused code is answered after the same time, whether the address had
# an open token (a write) or not (a read), so the answer does not tell.
CODE_REFUSAL_SECONDS = 0.5
VERIFY_STATUS = {TokenState.UNKNOWN: 404, TokenState.USED: 410, TokenState.EXPIRED: 410}
FormErrors = list[tuple[str, str, str]]  # (input id, label, message)


@blueprint.after_request
def _private(response: Response) -> Response:
    """Portal pages are personal: never kept by a browser or proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


# --- signed out: asking for a link or entering a code -----------------------


@blueprint.get("/<merchant>/portal")
def home(merchant: str) -> Response:
    page = open_portal(merchant)
    if current_session(page) is not None:
        return _overview(merchant)
    notices = {
        "1": gettext("You have signed out."),
        "all": gettext("You have been signed out on all devices."),
    }
    notice = notices.get(request.args.get("signed_out", ""), "")
    if request.args.get("expired"):
        notice = gettext("Your session has ended. Please sign in again.")
    response = _signin_page(page, next_path=request.args.get("next"), notice=notice)
    if session_cookie(page.slug) is not None:
        clear_session_cookie(response, page.slug)
    return response


@blueprint.get("/<merchant>/portal/login")
def login_page(merchant: str) -> Response:
    """The sign-in form lives at the portal's address (the language links of an
    answered form point here)."""
    page = open_portal(merchant)
    return redirect(home_url(page), code=303)


@blueprint.post("/<merchant>/portal/login")
def login(merchant: str) -> Response:
    """Mail a sign-in link: the same answer, at once, whether the address is known or not."""
    page = open_portal(merchant)
    email = request.form.get("email", "").strip()
    next_path = safe_next(page.slug, request.form.get("next"))
    if expired := _check_signin_post(page):
        return _signin_page(page, email=email, next_path=next_path, notice=expired, status=422)
    if errors := _email_errors(email):
        return _signin_page(page, email=email, next_path=next_path, errors=errors, status=422)
    signin_mailer(current_app).request(page.slug, email, page.language, next_path)
    return render_page(
        page,
        "portal/check_email.html",
        email=email,
        minutes=MINUTES,
        code_digits=CODE_DIGITS,
        next=next_path,
        form_token=signin_form_tokens().issue(page.slug),
        code_action=url_for("portal.code", merchant=page.slug, lang=page.language),
        restart_url=home_url(page, **_next_arg(next_path)),
    )


@blueprint.route("/<merchant>/portal/code", methods=["GET", "POST"])
def code(merchant: str) -> Response:
    """Sign in with the code from the mail, for a customer who reads mail elsewhere."""
    page = open_portal(merchant)
    next_path = safe_next(page.slug, request.values.get("next"))
    if request.method == "GET":
        return _code_page(page, next_path=next_path)
    email = request.form.get("email", "").strip()
    typed = request.form.get("code", "")
    if expired := _check_signin_post(page):
        return _code_page(page, email=email, next_path=next_path, notice=expired, status=422)
    errors = _email_errors(email)
    if normalize_code(typed) is None:
        errors.append(
            (
                "code",
                gettext("Code"),
                gettext("Enter the %(digits)s-digit code from the email.", digits=CODE_DIGITS),
            )
        )
    if errors:
        return _code_page(page, email=email, next_path=next_path, errors=errors, status=422)
    started = time.monotonic()
    try:
        grant = portico().portal.tokens.redeem_code(page.slug, email, typed)
    except SignInRefused:
        time.sleep(max(0.0, started + CODE_REFUSAL_SECONDS - time.monotonic()))
        message = gettext(
            "This code is not valid. A code works for %(minutes)s minutes and only from the"
            " newest email; after %(tries)s wrong tries, ask for a new email.",
            minutes=MINUTES,
            tries=MAX_CODE_FAILURES,
        )
        errors = [("code", gettext("Code"), message)]
        return _code_page(page, email=email, next_path=next_path, errors=errors, status=422)
    return _sign_in(page, grant, next_path)


# --- the link: a confirmation page, then the sign-in ------------------------


@blueprint.get("/<merchant>/portal/verify/<token>")
def verify(merchant: str, token: str) -> Response:
    """The page the mailed link opens: one button, and nothing is used up yet."""
    page = open_portal(merchant)
    return _verify_page(page, token, portico().portal.tokens.peek(page.slug, token))


@blueprint.post("/<merchant>/portal/verify/<token>")
def confirm(merchant: str, token: str) -> Response:
    page = open_portal(merchant)
    tokens = portico().portal.tokens
    if expired := _check_signin_post(page):
        return _verify_page(page, token, tokens.peek(page.slug, token), notice=expired, status=422)
    try:
        grant = tokens.redeem(page.slug, token)
    except SignInRefused as refused:
        return _verify_page(page, token, refused.state)
    response = _sign_in(page, grant)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- signed in --------------------------------------------------------------


@dataclass(frozen=True)
class AccountChoice:
    number: str
    email: str
    plans: str
    current: bool


@portal_login_required
def _overview(merchant: str) -> Response:
    """The account at a glance; ``?done=<action>`` confirms what was just done there."""
    user = signed_in()
    done = request.args.get("done", "")
    feedback = FEEDBACK_ACTIONS.get(done) if user.page.config.portal.feedback else None
    return render_portal(
        user,
        "portal/overview.html",
        done=done if done in FEEDBACK_ACTIONS else "",
        feedback_action=feedback,
        **overview_context(user),
    )


@blueprint.route("/<merchant>/portal/accounts", methods=["GET", "POST"])
@portal_login_required(account=False)
def accounts(merchant: str) -> Response:
    """Choose (or switch) the account to manage, for an address with access to several."""
    user = signed_in()
    page = user.page
    next_path = safe_next(page.slug, request.values.get("next"))
    options = accounts_of(user)
    if not options:
        portico().portal.sessions.revoke(page.slug, user.session_id)
        response = signin_redirect(page, None, expired=True)
        clear_session_cookie(response, page.slug)
        return response
    errors: FormErrors = []
    if request.method == "POST":
        chosen = next((a for a in options if a.number == request.form.get("account")), None)
        if chosen is not None:
            return _choose(user, chosen, next_path)
        errors = [("account-0", gettext("Account"), gettext("Choose one of the accounts listed."))]
    choices = [
        AccountChoice(
            number=a.number,
            email=a.email,
            plans=", ".join(_plan_name(page, plan_id) for plan_id in a.plan_ids),
            current=a.customer_id == user.customer_id,
        )
        for a in options
    ]
    return render_portal(
        user,
        "portal/choose_account.html",
        status=422 if errors else 200,
        choices=choices,
        errors=errors,
        next=next_path,
        action=url_for("portal.accounts", merchant=page.slug, lang=page.language),
    )


@blueprint.post("/<merchant>/portal/logout")
@portal_login_required(account=False)
def logout(merchant: str) -> Response:
    user = signed_in()
    portico().portal.sessions.revoke(user.page.slug, user.session_id)
    response = redirect(home_url(user.page, signed_out="1"), code=303)
    clear_session_cookie(response, user.page.slug)
    return response


@blueprint.post("/<merchant>/portal/logout-everywhere")
@portal_login_required(account=False)
def logout_everywhere(merchant: str) -> Response:
    """End every session of the signed-in address, on every device."""
    user = signed_in()
    portico().portal.sessions.revoke_all(user.page.slug, user.email_key)
    response = redirect(home_url(user.page, signed_out="all"), code=303)
    clear_session_cookie(response, user.page.slug)
    return response


# --- helpers ----------------------------------------------------------------


def _sign_in(page: MerchantPage, grant: SignInGrant, next_path: str | None = None) -> Response:
    """A new session (and session id) for a proven address; on to where they were going
    (remembered with the token, else ``next_path`` of the form that was sent)."""
    services = portico().portal
    options = services.access.accounts_for(page.slug, grant.email_key)
    if not options:
        notice = gettext("This email address has no access to an account here any more.")
        return _signin_page(page, notice=notice, status=403)
    only = options[0].customer_id if len(options) == 1 else None
    session_id, _ = services.sessions.create(
        page.slug, grant.email_key, only, method=grant.method, replaces=session_cookie(page.slug)
    )
    next_path = safe_next(page.slug, grant.next or next_path)
    if only is None:
        target = chooser_url(page, next_path)
    elif next_path:
        target = with_language(next_path, page.language)
    else:
        target = home_url(page)
    response = redirect(target, code=303)
    set_session_cookie(response, page.slug, session_id)
    return response


def _choose(user: SignedIn, chosen: Account, next_path: str | None) -> Response:
    page = user.page
    new_id = portico().portal.sessions.choose_account(
        page.slug, user.session_id, chosen.customer_id
    )
    if new_id is None:
        return signin_redirect(page, next_path, expired=True)
    target = with_language(next_path, page.language) if next_path else home_url(page)
    response = redirect(target, code=303)
    set_session_cookie(response, page.slug, new_id)
    return response


def _check_signin_post(page: MerchantPage) -> str:
    """Refuse a sign-in form from elsewhere (403) or tampered with (400); returns a
    notice when it merely expired (the caller shows the form again), else ``""``."""
    if not is_same_origin_post():
        abort(403, gettext("This form can only be sent from its own page."))
    try:
        signin_form_tokens().verify(request.form.get("form_token"), page.slug)
    except InvalidFormToken as error:
        if error.problem is not TokenProblem.EXPIRED:
            abort(400, gettext("This form is not valid for this page. Please reload the page."))
        return gettext("The form had expired. Please check your details and send it again.")
    return ""


def _email_errors(email: str) -> FormErrors:
    label = gettext("Email")
    if not email:
        return [("email", label, gettext("Enter your email address."))]
    try:
        valid_email(email)
    except AddressError:
        return [("email", label, gettext("Enter a valid email address, like name@example.com."))]
    return []


def _signin_page(
    page: MerchantPage,
    *,
    email: str = "",
    next_path: str | None = None,
    errors: FormErrors | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    next_path = safe_next(page.slug, next_path)
    return render_page(
        page,
        "portal/signin.html",
        status=status,
        email=email,
        errors=errors or [],
        notice=notice,
        next=next_path,
        form_token=signin_form_tokens().issue(page.slug),
        action=url_for("portal.login", merchant=page.slug, lang=page.language),
        code_url=url_for(
            "portal.code", merchant=page.slug, lang=page.language, **_next_arg(next_path)
        ),
    )


def _code_page(
    page: MerchantPage,
    *,
    email: str = "",
    next_path: str | None = None,
    errors: FormErrors | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    return render_page(
        page,
        "portal/code.html",
        status=status,
        email=email,
        errors=errors or [],
        notice=notice,
        next=next_path,
        code_digits=CODE_DIGITS,
        form_token=signin_form_tokens().issue(page.slug),
        action=url_for("portal.code", merchant=page.slug, lang=page.language),
        restart_url=home_url(page, **_next_arg(next_path)),
    )


def _verify_page(
    page: MerchantPage, token: str, state: TokenState, *, notice: str = "", status: int = 0
) -> Response:
    """The confirmation page, or why the link no longer works. Its address holds the
    token: no referrer leaves it, and nothing may cache it."""
    response = render_page(
        page,
        "portal/verify.html",
        status=status or VERIFY_STATUS.get(state, 200),
        state=state.value,
        notice=notice,
        minutes=MINUTES,
        form_token=signin_form_tokens().issue(page.slug) if state is TokenState.VALID else "",
        action=url_for("portal.confirm", merchant=page.slug, token=token, lang=page.language),
        restart_url=home_url(page),
    )
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _next_arg(next_path: str | None) -> dict[str, str]:
    return {"next": next_path} if next_path else {}


def _plan_name(page: MerchantPage, plan_id: str) -> str:
    plan = page.config.plan(plan_id)
    return page.text(plan.name) if plan else plan_id
