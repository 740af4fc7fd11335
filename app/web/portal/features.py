"""Portal pages the merchant may switch off (``portal.invoices``, ``portal.payment_methods``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort

from app.web.portal.auth import open_portal


def portal_feature(flag: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """404 unless the merchant's ``portal.<flag>`` is on. Put it above
    :func:`~app.web.portal.auth.portal_login_required`: a switched-off page
    never asks anyone to sign in."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(merchant: str, **kwargs: Any) -> Any:
            if not getattr(open_portal(merchant).config.portal, flag):
                abort(404)
            return view(merchant, **kwargs)

        return checked

    return decorate
