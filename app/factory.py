"""Portico's Flask application factory: a list of small named steps."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.container import Portico
from app.settings import Settings, load_settings
from app.web import (
    embed,
    errors,
    health,
    i18n,
    limits,
    mail_sender,
    merchant,
    order,
    portal,
    preview,
    security,
    stripe_card,
    stripe_webhooks,
    themes,
)

MAX_POST_BYTES = 64 * 1024  # an order form is a few KB; refuse floods before parsing


def create_app(overrides: Mapping[str, str] | None = None) -> Flask:
    """Build the app; ``overrides`` are ``PORTICO_*`` variables taking precedence
    over the environment (tests use them for a temp instance folder)."""
    settings = load_settings({**os.environ, **(overrides or {})})
    app = Flask(__name__, static_folder=None, template_folder=None)
    _configure(app, settings)
    app.extensions["portico"] = Portico(settings)
    errors.init_app(app)  # first: every request, even one a later hook refuses, gets an id
    i18n.init_app(app)
    themes.init_app(app)
    mail_sender.init_app(app)
    security.init_app(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(embed.blueprint)
    app.register_blueprint(merchant.blueprint)
    app.register_blueprint(order.blueprint)
    app.register_blueprint(stripe_card.blueprint)
    app.register_blueprint(stripe_webhooks.blueprint)
    portal.init_app(app)
    app.register_blueprint(preview.blueprint)
    limits.init_app(app, settings.rate_limit_storage, settings.signup_rate_limit)
    return app


def _configure(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_POST_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_POST_BYTES,
        MAX_FORM_PARTS=400,
        PORTICO_DEVELOPMENT=settings.development,
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies
        )
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO if settings.development else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        # fontTools is chatty at INFO while it subsets the invoice PDFs' fonts.
        logging.getLogger("fontTools").setLevel(logging.WARNING)
