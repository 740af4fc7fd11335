"""Sign-in mails: looked up, issued and sent after the answer, never through the outbox.

The answer to "send me a sign-in link" must not tell whether the address is
known, by its words or by its timing. Looking the address up, writing a
token and talking to the SMTP server take time only for a known address, so
the request hands that work to a small thread pool and answers at once: the
answer takes the same time for every address.

The link and the code exist in clear text only in this mail: it is rendered
and sent directly, never written to the store's outbox (which keeps mails
until they are sent). A mail lost to a crash is requested again.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import urlencode

from flask import Flask
from flask_babel import force_locale, gettext

from app.config.loader import LoadedMerchant
from app.mail import MailError, message_id
from app.portal.tokens import LIFETIME, IssuedToken, format_code, signin_link
from app.web import themes
from app.web.background import BackgroundWork
from app.web.container import portico

log = logging.getLogger(__name__)
WORKERS = 4


def render_signin_mail(
    loaded: LoadedMerchant, to: str, issued: IssuedToken, language: str, base_url: str
) -> EmailMessage:
    """The sign-in mail in ``language``, from the merchant's theme: link, code, validity."""
    config = loaded.config
    assert config is not None
    folders = themes.chain(config.branding.theme, loaded.path.parent / loaded.slug / "templates")
    context = {
        "config": config,
        "merchant_name": config.merchant.name,
        "language": language,
        "link": signin_link(base_url, loaded.slug, issued.token, language),
        "code": format_code(issued.code) if issued.code else None,
        "code_url": f"{base_url}/{loaded.slug}/portal/code?{urlencode({'lang': language})}",
        "minutes": int(LIFETIME.total_seconds() // 60),
    }
    with force_locale(language):
        message = EmailMessage()
        message["Subject"] = gettext(
            "Your sign-in link for %(merchant)s", merchant=config.merchant.name
        )
        message["From"] = formataddr((config.merchant.name, config.merchant.email))
        message["To"] = to
        message["Message-ID"] = message_id(config.merchant.email.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(themes.render("emails/portal_signin.txt", folders, **context))
        message.add_alternative(
            themes.render("emails/portal_signin.html", folders, **context), subtype="html"
        )
        message["Content-Language"] = language  # after the parts: set_content drops Content-*
    return message


class SignInMailer(BackgroundWork):
    """Runs sign-in requests in the background, in the app's context."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app, WORKERS, "portico-signin")

    def request(self, slug: str, email: str, language: str, next_path: str | None) -> None:
        """Send a sign-in mail to ``email`` if it may sign in; returns at once."""
        self.submit(_request_signin, slug, email, language, next_path)


def _request_signin(slug: str, email: str, language: str, next_path: str | None) -> None:
    try:
        send_signin_mail(slug, email, language, next_path)
    except MailError as error:
        log.warning("sign-in mail for %s not sent: %s", slug, error)
    except Exception:
        log.exception("sign-in request for %s failed", slug)


def send_signin_mail(slug: str, email: str, language: str, next_path: str | None) -> bool:
    """Issue a token and mail it, if ``email`` may manage an account; ``False`` when
    nothing was sent (unknown address, or a mail went out less than a minute ago)."""
    container = portico()
    loaded = container.merchants.get(slug)
    if loaded is None or loaded.config is None:
        return False
    accounts = container.portal.access.accounts_for(slug, email)
    if not accounts:
        return False
    if language not in loaded.config.languages:
        language = loaded.config.default_language
    issued = container.portal.tokens.issue(slug, email, language=language, next=next_path)
    if issued is None:
        return False
    # The address as the customer's own record has it when it is one, else as typed.
    own = [a.email for a in accounts if a.via == "own"]
    base_url = container.settings.base_url
    container.mailer.send(
        render_signin_mail(loaded, own[0] if own else email.strip(), issued, language, base_url)
    )
    if not container.settings.smtp_url:
        log.info(
            "sign-in link for %s: %s", slug, signin_link(base_url, slug, issued.token, language)
        )
    return True


def signin_mailer(app: Flask) -> SignInMailer:
    return app.extensions["portico.signin_mailer"]


def init_app(app: Flask) -> None:
    app.extensions["portico.signin_mailer"] = SignInMailer(app)
