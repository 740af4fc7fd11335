"""Response headers and request origin checks shared by every page.

The Content-Security-Policy allows no inline script or style: merchant colours
arrive as a stylesheet of CSS custom properties, never pasted into a page.
Pages are not frameable unless a view opts in with the merchant's origins.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, g, request
from flask_babel import gettext


def allow_framing(origins: tuple[str, ...]) -> None:
    """Let these origins (the merchant's ``embed.allowed_origins``) frame this response."""
    g.frame_ancestors = origins


def allow_form_action(*origins: str) -> None:
    """Forms on this page may lead there too (a redirect after a successful post)."""
    g.form_actions = (*g.get("form_actions", ()), *origins)


def allow_stripe(js_url: str, api_base: str) -> None:
    """This page runs Stripe.js (a merchant whose cards go through Stripe): its script,
    its frames (the card field, 3-D Secure) and its API calls are allowed, nothing more."""
    js, api = urlsplit(js_url), urlsplit(api_base)
    js_origin, api_origin = f"{js.scheme}://{js.netloc}", f"{api.scheme}://{api.netloc}"
    g.stripe_sources = {
        "script": (js_origin,),
        "frame": (js_origin, "https://hooks.stripe.com")
        if js.netloc == "js.stripe.com"
        else (js_origin,),
        "connect": (api_origin,),
    }


def no_store(response: Response) -> Response:
    """A page for one person (an order form with its token, a success page with a customer
    number) is kept by no cache, shared or the browser's: ``Cache-Control: no-store``."""
    response.headers["Cache-Control"] = "no-store"
    return response


def forbid_form_posts() -> None:
    """No form on this page may be sent anywhere (the merchant's previews)."""
    g.no_form_posts = True


def _policy() -> str:
    ancestors = " ".join(g.get("frame_ancestors", ())) or "'none'"
    actions = " ".join(("'self'", *g.get("form_actions", ())))
    if g.get("no_form_posts"):
        actions = "'none'"
    stripe = g.get("stripe_sources", {})
    scripts = " ".join(("'self'", *stripe.get("script", ())))
    connect = " ".join(("'self'", *stripe.get("connect", ())))
    frames = (f"frame-src {' '.join(stripe['frame'])}",) if stripe else ()
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {scripts}",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src {connect}",
            *frames,
            f"form-action {actions}",
            f"frame-ancestors {ancestors}",
            "base-uri 'none'",
        )
    )


def _set_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _policy())
    if not g.get("frame_ancestors"):
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-site")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if not current_app.config["PORTICO_DEVELOPMENT"]:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    return response


def own_origin() -> str:
    base = urlsplit(current_app.extensions["portico"].settings.base_url)
    return f"{base.scheme}://{base.netloc}".lower()


def is_same_origin_post() -> bool:
    """Fetch Metadata first; browsers without it are judged by ``Origin``.

    A request with neither header comes from no browser (a script or a test
    client): it cannot carry a victim's ambient credentials, so it passes here
    and still needs a valid signed form token.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    return origin.lower() in {own_origin(), request.host_url.rstrip("/").lower()}


def _refuse_nul_characters() -> None:
    """No person types a NUL character, and PostgreSQL's text cannot hold one: a form
    or query value that contains one is refused before any view reads it."""
    values = request.args.values() if request.method in ("GET", "HEAD") else request.values.values()
    if any("\x00" in value for value in values):
        abort(400, gettext("The request contains characters that cannot be stored."))


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul_characters)
    app.after_request(_set_headers)
