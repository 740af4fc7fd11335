"""Portal sign-in state on the web: the session cookie, the sign-in guard, form tokens.

Other portal pages (payment methods, invoices, ...) protect their views with
:func:`portal_login_required` and read the signed-in person with
:func:`signed_in`::

    @blueprint.route("/<merchant>/portal/payment-methods", methods=["GET", "POST"])
    @portal_login_required
    def payment_methods(merchant: str) -> Response:
        user = signed_in()  # .page, .customer_id, .email_key, .csrf_token
        ...

A signed-out visitor is sent to the sign-in page and, once signed in, back to
the page they asked for. Every POST through the guard must come from our own
origin and carry the session's form token (``csrf_token`` in the form; the
template's ``portal.csrf_token``), so views need no CSRF code of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Response, abort, current_app, g, redirect, request, url_for
from flask_babel import gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.portal.access import Account
from app.portal.sessions import PortalSession
from app.signup.formtoken import InvalidFormToken, TokenProblem
from app.web.merchant import MerchantPage, open_merchant, render_page
from app.web.security import is_same_origin_post
from app.web.services import portico

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNIN_FORM_MAX_AGE = 2 * 3600  # a sign-in form left open longer asks to be sent again
CSRF_FIELD = "csrf_token"
# Portal paths a sign-in must not lead back to: they act, or they are the sign-in itself.
NOT_NEXT = frozenset({"login", "code", "verify", "logout", "logout-everywhere", "accounts"})
MAX_NEXT_LENGTH = 512


@dataclass(frozen=True)
class SignedIn:
    """The person signed in to this merchant's portal, in this request."""

    page: MerchantPage
    session_id: str
    session: PortalSession
    csrf_token: str

    @property
    def email_key(self) -> str:
        return self.session.email_key

    @property
    def customer_id(self) -> str | None:
        return self.session.customer_id


@dataclass(frozen=True)
class PortalContext:
    """What the signed-in layout shows: who, their form token, whether to offer a switch."""

    email: str
    csrf_token: str
    several_accounts: bool


# --- the cookie -------------------------------------------------------------


def cookie_name(slug: str) -> str:
    """One cookie per merchant; ``__Host-`` (Secure, Path=/, no Domain) outside development."""
    development = current_app.config["PORTICO_DEVELOPMENT"]
    return f"portico-{slug}" if development else f"__Host-portico-{slug}"


def set_session_cookie(response: Response, slug: str, session_id: str) -> None:
    """A browser-session cookie: the server ends the session, the browser only forgets it."""
    response.set_cookie(
        cookie_name(slug),
        session_id,
        path="/",
        secure=not current_app.config["PORTICO_DEVELOPMENT"],
        httponly=True,
        samesite="Lax",
    )


def clear_session_cookie(response: Response, slug: str) -> None:
    response.delete_cookie(
        cookie_name(slug),
        path="/",
        secure=not current_app.config["PORTICO_DEVELOPMENT"],
        httponly=True,
        samesite="Lax",
    )


def session_cookie(slug: str) -> str | None:
    return request.cookies.get(cookie_name(slug))


# --- pages and sessions -----------------------------------------------------


def open_portal(slug: str) -> MerchantPage:
    """The merchant page, or 404 when the merchant switched its portal off."""
    page = open_merchant(slug)
    if not page.config.portal.enabled:
        abort(404)
    return page


def current_session(page: MerchantPage) -> SignedIn | None:
    """The live session of this request for ``page``'s merchant, once per request.

    A session whose account the address may no longer manage (an access rule
    was removed) loses its account and goes back to the account chooser.
    """
    if "portal_user" in g:
        return g.portal_user
    services = portico().portal
    session_id = session_cookie(page.slug)
    session = services.sessions.lookup(page.slug, session_id) if session_id else None
    user = None
    if session is not None and session_id is not None:
        if session.customer_id is not None and not services.access.may_manage(
            page.slug, session.email_key, session.customer_id
        ):
            session = PortalSession(
                key=session.key,
                email_key=session.email_key,
                customer_id=None,
                created_at=session.created_at,
                last_seen_at=session.last_seen_at,
            )
        services.sessions.touch(page.slug, session)
        user = SignedIn(
            page=page,
            session_id=session_id,
            session=session,
            csrf_token=services.sessions.csrf_token(page.slug, session_id),
        )
    g.portal_user = user
    return user


def signed_in() -> SignedIn:
    """The person signed in, inside a view guarded by :func:`portal_login_required`."""
    user = g.get("portal_user")
    if user is None:
        raise RuntimeError("signed_in() outside a view guarded by portal_login_required")
    return user


def accounts_of(user: SignedIn) -> list[Account]:
    return portico().portal.access.accounts_for(user.page.slug, user.email_key)


def portal_login_required(view: Callable[..., Any] | None = None, *, account: bool = True) -> Any:
    """Guard a portal view: signed in to this merchant, with an account chosen
    (unless ``account=False``), and for POSTs our origin plus the session's form token."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(merchant: str, **kwargs: Any) -> Any:
            page = open_portal(merchant)
            user = current_session(page)
            unsafe = request.method not in SAFE_METHODS
            if user is None:
                next_path = _referring_path(page) if unsafe else request.full_path
                return signin_redirect(
                    page, next_path, expired=session_cookie(page.slug) is not None
                )
            if unsafe:
                check_session_post(user)
            if account and user.customer_id is None:
                next_path = None if unsafe else request.full_path
                return redirect(chooser_url(page, next_path), code=303)
            return view(merchant, **kwargs)

        return guarded

    return decorate(view) if view is not None else decorate


def check_session_post(user: SignedIn) -> None:
    """A signed-in POST must come from our own pages: 403 otherwise, 400 without the token."""
    if not is_same_origin_post():
        abort(403, gettext("This form can only be sent from its own page."))
    if not portico().portal.sessions.check_csrf(
        user.page.slug, user.session_id, request.form.get(CSRF_FIELD)
    ):
        abort(400, gettext("This form is not valid any more. Please reload the page."))


# --- where to go ------------------------------------------------------------


def safe_next(slug: str, value: str | None) -> str | None:
    """``value`` if it is a path inside this merchant's portal worth returning to, else ``None``.

    Only ``/<slug>/portal`` and paths below it, with an optional query; never
    another host (``//evil``, ``/\\evil``), another merchant or a sign-in step.
    """
    if not value or len(value) > MAX_NEXT_LENGTH or not value.isprintable():
        return None
    if "\\" in value or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.fragment:
        return None
    base = f"/{slug}/portal"
    path = parts.path
    if path != base and not path.startswith(base + "/"):
        return None
    segments = path[len(base) :].strip("/").split("/")
    if segments[0] in NOT_NEXT or any(s in (".", "..") for s in segments) or "//" in path:
        return None
    query = f"?{parts.query}" if parts.query else ""
    return path + query


def with_language(path: str, language: str) -> str:
    """``path`` keeping the page language, unless it names one already."""
    parts = urlsplit(path)
    if "lang=" in parts.query:
        return path
    joiner = "&" if parts.query else "?"
    return f"{path}{joiner}{urlencode({'lang': language})}"


def home_url(page: MerchantPage, **args: str) -> str:
    return url_for("portal.home", merchant=page.slug, lang=page.language, **args)


def chooser_url(page: MerchantPage, next_path: str | None = None) -> str:
    next_path = safe_next(page.slug, next_path)
    args = {"next": next_path} if next_path else {}
    return url_for("portal.accounts", merchant=page.slug, lang=page.language, **args)


def signin_redirect(
    page: MerchantPage, next_path: str | None, *, expired: bool = False
) -> Response:
    args: dict[str, str] = {}
    if next_path := safe_next(page.slug, next_path):
        args["next"] = next_path
    if expired:
        args["expired"] = "1"
    return redirect(home_url(page, **args), code=303)


def _referring_path(page: MerchantPage) -> str | None:
    """For a POST whose session ended: the page it was sent from, if it is ours."""
    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    own = urlsplit(portico().settings.base_url).netloc
    if parts.netloc not in (own, request.host):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def render_portal(user: SignedIn, template: str, status: int = 200, **context: object) -> Response:
    """Render a signed-in portal page: the layout gets ``portal`` (the signed-in
    person, their form token and whether they may switch accounts)."""
    return render_page(
        user.page,
        template,
        status=status,
        portal=PortalContext(
            email=user.email_key,
            csrf_token=user.csrf_token,
            several_accounts=len(accounts_of(user)) > 1,
        ),
        **context,
    )


# --- sign-in form tokens ----------------------------------------------------


class SignInFormTokens:
    """Signed, expiring tokens for the forms used before a session exists (sign-in,
    code, confirmation), bound to the merchant: the order page's approach."""

    def __init__(self, secret_key: str, max_age: int = SIGNIN_FORM_MAX_AGE) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="portico.portal-signin")
        self.max_age = max_age

    def issue(self, merchant: str) -> str:
        return self._serializer.dumps({"m": merchant})

    def verify(self, token: str | None, merchant: str) -> None:
        if not token:
            raise InvalidFormToken(TokenProblem.MISSING)
        try:
            payload = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise InvalidFormToken(TokenProblem.EXPIRED) from None
        except BadSignature:
            raise InvalidFormToken(TokenProblem.TAMPERED) from None
        if not isinstance(payload, dict) or payload.get("m") != merchant:
            raise InvalidFormToken(TokenProblem.OTHER_MERCHANT)


def signin_form_tokens() -> SignInFormTokens:
    return SignInFormTokens(portico().settings.secret_key)
