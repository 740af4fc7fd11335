"""Which language a page speaks: explicit choice, remembered choice, browser, default.

Only the merchant's own languages are ever chosen. The remembered choice is a
cookie set when the customer picks a language with the switcher.
"""

from __future__ import annotations

from flask import Flask, g, request
from flask_babel import Babel, get_translations

from app.core import i18n
from app.settings import LOCALES_DIR

LANGUAGE_COOKIE = "portico_lang"


def negotiate(offered: tuple[str, ...]) -> str:
    """The page language for this request among ``offered`` (the first is the default)."""
    for candidate in (request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in offered:
            return candidate
    return request.accept_languages.best_match(offered) or offered[0]


def use_language(language: str) -> None:
    g.language = language


def current_language() -> str:
    return g.get("language", "en")


def current_translations():
    return get_translations()


def isodate(value: str | None) -> str:
    """A stored ISO 8601 timestamp as a date in the page's language: ``21. Nov. 2026``."""
    return i18n.isodate(value, current_language())


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(LOCALES_DIR)
    Babel(app, locale_selector=current_language, timezone_selector=lambda: "UTC")
    app.jinja_env.filters["isodate"] = isodate
