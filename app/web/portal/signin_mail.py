"""Sign-in requests, handled after the answer.

The answer to "send me a sign-in link" must not tell whether the address is
known, by its words or by its timing. Looking the address up, writing a
token and talking to the SMTP server take time only for a known address, so
the request hands that work to a small thread pool and answers at once: the
answer takes the same time for every address.
"""

from __future__ import annotations

import logging

from flask import Flask

from app.outbox.mailer import MailError
from app.web.background import BackgroundWork
from app.web.services import portico

log = logging.getLogger(__name__)
WORKERS = 4


class SignInMailer(BackgroundWork):
    """Runs sign-in requests in the background, in the app's context."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app, WORKERS, "portico-signin")

    def request(self, slug: str, email: str, language: str, next_path: str | None) -> None:
        """Send a sign-in mail to ``email`` if it may sign in; returns at once."""
        self.submit(_request_signin, slug, email, language, next_path)


def _request_signin(slug: str, email: str, language: str, next_path: str | None) -> None:
    try:
        portico().signin_mails.send(slug, email, language, next_path)
    except MailError as error:
        log.warning("sign-in mail for %s not sent: %s", slug, error)
    except Exception:
        log.exception("sign-in request for %s failed", slug)


def signin_mailer(app: Flask) -> SignInMailer:
    return app.extensions["portico.signin_mailer"]


def init_app(app: Flask) -> None:
    app.extensions["portico.signin_mailer"] = SignInMailer(app)
