"""Sign-in mails: looked up, issued and sent directly, never through the outbox.

The link and the code exist in clear text only in this mail: it is rendered
and sent directly, never written to the store's outbox (which keeps mails
until they are sent). A mail lost to a crash is requested again. The web
layer calls :meth:`SigninMails.send` after its answer, so that the answer takes
the same time whether the address is known or not.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from urllib.parse import urlencode

from app.config.loader import LoadedMerchant
from app.config.registry import MerchantRegistry
from app.core.i18n import translations
from app.outbox import templates
from app.outbox.mailer import Mailer
from app.portal import PortalServices
from app.portal.tokens import LIFETIME, IssuedToken, format_code, signin_link

log = logging.getLogger(__name__)


def render_signin_mail(
    loaded: LoadedMerchant, to: str, issued: IssuedToken, language: str, base_url: str
) -> EmailMessage:
    """The sign-in mail in ``language``, from the merchant's theme: link, code, validity."""
    config = loaded.config
    assert config is not None
    context = {
        "config": config,
        "merchant_name": config.merchant.name,
        "language": language,
        "link": signin_link(base_url, loaded.slug, issued.token, language),
        "code": format_code(issued.code) if issued.code else None,
        "code_url": f"{base_url}/{loaded.slug}/portal/code?{urlencode({'lang': language})}",
        "minutes": int(LIFETIME.total_seconds() // 60),
    }
    subject = translations(language).gettext("Your sign-in link for %(merchant)s") % {
        "merchant": config.merchant.name
    }
    return templates.compose(
        config,
        template="portal_signin",
        to=to,
        subject=subject,
        language=language,
        context=context,
    )


class SigninMails:
    """Issues sign-in tokens and mails them to addresses that may manage an account."""

    def __init__(
        self,
        merchants: MerchantRegistry,
        portal: PortalServices,
        mailer: Mailer,
        base_url: str,
        log_links: bool,
    ) -> None:
        self.merchants = merchants
        self.portal = portal
        self.mailer = mailer
        self.base_url = base_url
        self.log_links = log_links  # no SMTP server: the link is logged for the developer

    def send(self, slug: str, email: str, language: str, next_path: str | None) -> bool:
        """Issue a token and mail it, if ``email`` may manage an account; ``False`` when
        nothing was sent (unknown address, or a mail went out less than a minute ago)."""
        loaded = self.merchants.get(slug)
        if loaded is None or loaded.config is None:
            return False
        accounts = self.portal.access.accounts_for(slug, email)
        if not accounts:
            return False
        if language not in loaded.config.languages:
            language = loaded.config.default_language
        issued = self.portal.tokens.issue(slug, email, language=language, next=next_path)
        if issued is None:
            return False
        # The address as the customer's own record has it when it is one, else as typed.
        own = [a.email for a in accounts if a.via == "own"]
        to = own[0] if own else email.strip()
        self.mailer.send(render_signin_mail(loaded, to, issued, language, self.base_url))
        if self.log_links:
            link = signin_link(self.base_url, slug, issued.token, language)
            log.info("sign-in link for %s: %s", slug, link)
        return True
