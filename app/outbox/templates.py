"""Mails as the merchant's theme words them, in the mail's language, without Flask.

Every mail Portico sends is composed here: the theme's ``emails/<name>.txt``
and ``.html`` rendered with the built-in strings of the mail's language, and
the headers every mail carries (``Date``, ``Message-ID``, ``Auto-Submitted``,
``Reply-To`` the merchant's support address, else its own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.config.colors import readable_on
from app.config.models import MerchantConfig
from app.core import themes
from app.core.i18n import isodate, translations
from app.outbox.mailer import message_id


@cache
def _environment(folders: tuple[Path, ...], language: str) -> Environment:
    """One environment per theme chain and language; ``_`` speaks that language."""
    environment = Environment(
        loader=ChoiceLoader([FileSystemLoader(folder / "templates") for folder in folders]),
        undefined=StrictUndefined,
        autoescape=select_autoescape(("html",), default_for_string=True, default=False),
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(translations(language), newstyle=True)  # type: ignore[attr-defined]
    environment.filters["readable_on"] = readable_on  # button text on a merchant colour
    environment.filters["isodate"] = lambda value: isodate(value, language)
    return environment


def render(theme: str, language: str, template: str, context: Mapping[str, Any]) -> str:
    return _environment(themes.chain(theme), language).get_template(template).render(context)


def compose(
    config: MerchantConfig,
    *,
    template: str,
    to: str,
    subject: str,
    language: str,
    context: Mapping[str, Any],
    idstring: str = "",
    pdfs: Sequence[tuple[str, bytes]] = (),
) -> EmailMessage:
    """The mail ``emails/<template>`` in ``language``, with the headers every mail carries
    and ``pdfs`` (file name, content) attached."""
    theme = config.branding.theme
    domain = config.merchant.email.rpartition("@")[2]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = formataddr((config.merchant.name, config.merchant.email))
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(domain, idstring)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message["Reply-To"] = config.portal.support.email or config.merchant.email
    message.set_content(render(theme, language, f"emails/{template}.txt", context))
    message.add_alternative(render(theme, language, f"emails/{template}.html", context), "html")
    for filename, pdf in pdfs:
        message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    # Last: set_content and add_attachment move the Content-* headers into the parts.
    message["Content-Language"] = language
    return message
