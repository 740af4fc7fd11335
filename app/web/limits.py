"""Rate limits (Flask-Limiter) against floods of sign-ups and portal sign-in requests.

Counters live where ``PORTICO_RATE_LIMIT_STORAGE`` says: ``memory://`` (the
default) counts per worker process, so with several gunicorn workers a client
gets up to that many times the limit; ``redis://host:6379`` shares the counts
between workers and servers. ``PORTICO_SIGNUP_RATE_LIMIT`` (Flask-Limiter's
syntax, default ``10 per minute;60 per hour``) sets the sign-up limit; load tests
raise it, since all their clients share one address.
"""

from __future__ import annotations

import hashlib

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.portal.addresses import email_key
from app.web import order

SIGNUP_LIMITS = "10 per minute;60 per hour"
# Portal sign-in: per client address, and per email address asked for. The
# per-email counts are the same for known and unknown addresses, so a 429
# tells nothing about an account. (The resend throttle, one mail per address
# a minute, answers as usual and silently sends nothing.)
SIGNIN_IP_LIMITS = "10 per minute;50 per hour"
SIGNIN_EMAIL_LIMITS = "5 per 15 minutes;20 per day"
CODE_EMAIL_LIMITS = "10 per 15 minutes;30 per day"


def signin_email_key() -> str:
    """The per-email counter's key: a hash of merchant and normalized address, so the
    limiter's storage (possibly a shared Redis) holds no addresses."""
    merchant = (request.view_args or {}).get("merchant", "")
    address = email_key(request.form.get("email", ""))
    return hashlib.sha256(f"{merchant}\0{address}".encode()).hexdigest()


def init_app(app: Flask, storage_uri: str, signup_limits: str = SIGNUP_LIMITS) -> Limiter:
    """A limiter for this app (its own counters): order-page posts and portal sign-in."""
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri,
        headers_enabled=True,
        key_prefix="portico",
        strategy="moving-window",
    )
    limiter.limit(signup_limits, methods=["POST"])(order.blueprint)
    # A decorated limit is checked when its wrapper runs: the app's views are wrapped.
    views = app.view_functions
    for endpoint in ("portal.login", "portal.code", "portal.confirm"):
        views[endpoint] = limiter.limit(SIGNIN_IP_LIMITS, methods=["POST"])(views[endpoint])
    for endpoint, limits in (
        ("portal.login", SIGNIN_EMAIL_LIMITS),
        ("portal.code", CODE_EMAIL_LIMITS),
    ):
        views[endpoint] = limiter.limit(limits, key_func=signin_email_key, methods=["POST"])(
            views[endpoint]
        )
    app.extensions["portico.limiter"] = limiter
    return limiter
