"""Error pages: branded when the merchant is known, never a stack trace.

Every response carries a request id; a 500 logs the exception under that id
and shows the id, so a customer's report can be matched to the log line.
"""

from __future__ import annotations

import logging
import secrets

from flask import Flask, Response, current_app, g
from flask_babel import gettext
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.themes import DEFAULT_THEME
from app.core.themes import chain as theme_chain
from app.store import LockTimeout
from app.web import themes
from app.web.merchant import layout_context
from app.web.security import allow_framing

log = logging.getLogger(__name__)


def _titles() -> dict[int, str]:
    return {
        400: gettext("This request could not be handled"),
        403: gettext("Not allowed"),
        404: gettext("Page not found"),
        405: gettext("Not allowed"),
        410: gettext("No longer available"),
        413: gettext("Too much data"),
        422: gettext("Please check your details"),
        429: gettext("Too many attempts"),
        503: gettext("Temporarily unavailable"),
    }


def _default_messages() -> dict[int, str]:
    return {
        404: gettext("There is no page at this address. Please check the link."),
        410: gettext("This offer has ended. The merchant may have a newer one for you."),
        413: gettext("The form sent more data than this page accepts."),
        429: gettext("Please wait a moment before trying again."),
        503: gettext("This page is being updated. Please try again in a few minutes."),
    }


def _render(status: int, message: str, problems: tuple[str, ...] = ()) -> Response:
    """The merchant's branded error page when the merchant is known, else the default's.

    Inside a frame the error page stays frameable for the merchant's sites, so the
    embedding page learns of the error (``portico:error``) instead of a blank frame.
    """
    page = g.get("merchant_page")
    folders = page.folders if page else theme_chain(DEFAULT_THEME)
    if page is not None and page.embed:
        allow_framing(page.config.embed.allowed_origins)
    html = themes.render(
        "error.html",
        folders,
        **layout_context(page, status),
        title=_titles().get(status, gettext("Something went wrong")),
        message=message,
        problems=problems,
        request_id=g.get("request_id", ""),
    )
    return Response(html, status=status, mimetype="text/html")


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500 and status != 503:
        return _server_error(error)
    own_words = status != 429 and error.description != type(error).description
    described = error.description if own_words else None
    message = described or _default_messages().get(status) or _titles().get(status, "")
    # A broken merchant file's problems help its author; production shows none of them.
    development = current_app.config["PORTICO_DEVELOPMENT"]
    return _render(status, message, getattr(error, "problems", ()) if development else ())


def _store_busy(error: LockTimeout) -> Response:
    """Another writer held the merchant's data too long: nothing was changed, so the
    customer may simply send again (an order form's token makes that idempotent)."""
    log.warning("request %s: %s", g.get("request_id", "-"), error)
    return _render(
        503,
        gettext(
            "We are very busy right now. Nothing was saved; please send the form again in a moment."
        ),
    )


def _server_error(error: Exception) -> Response:
    original = getattr(error, "original_exception", None) or error
    log.error("request %s failed", g.get("request_id", "-"), exc_info=original)
    return _render(
        500, gettext("Something went wrong on our side. Please try again in a few minutes.")
    )


def _assign_request_id() -> None:
    g.request_id = secrets.token_hex(8)


def _expose_request_id(response: Response) -> Response:
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_assign_request_id)
    app.after_request(_expose_request_id)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(LockTimeout, _store_busy)
    app.register_error_handler(Exception, _server_error)
