"""Built-in strings for code that runs without a request: services, mails, PDFs.

Web views use Flask-Babel; everything else is handed a ``Translations`` object
for the language it works in, so domain code never imports Flask.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from babel.dates import format_date
from babel.support import NullTranslations, Translations

from app.settings import LOCALES_DIR

DOMAIN = "messages"


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog for ``language``; English is the source language."""
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; translated where shown."""
    return message


def isodate(value: str | None, language: str) -> str:
    """A stored ISO 8601 timestamp as a date in ``language``: ``21. Nov. 2026`` (UTC day)."""
    if not value:
        return ""
    return format_date(datetime.fromisoformat(value), format="medium", locale=language)
