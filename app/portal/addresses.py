"""Email addresses and domains in the one form the portal compares them in.

Addresses compare case-insensitively: ``Jana@Example.COM`` and
``jana@example.com`` are one person. Domains compare exactly, in their ASCII
(IDNA) form, so a look-alike spelt with a Cyrillic "a" (``xn--exmple-4nf.com``),
``evil-example.com`` or ``example.com.evil.io`` never equals ``example.com``.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

# Mail providers anyone can sign up with: a domain rule for one of them would
# let every one of their users in. Grant single addresses there instead.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "bluewin.ch",
        "fastmail.com",
        "freenet.de",
        "gmail.com",
        "gmx.at",
        "gmx.ch",
        "gmx.de",
        "gmx.net",
        "googlemail.com",
        "hey.com",
        "hotmail.co.uk",
        "hotmail.com",
        "hotmail.de",
        "hotmail.se",
        "icloud.com",
        "live.com",
        "live.se",
        "mac.com",
        "mail.com",
        "mail.ru",
        "me.com",
        "msn.com",
        "outlook.com",
        "outlook.de",
        "pm.me",
        "posteo.de",
        "proton.me",
        "protonmail.com",
        "t-online.de",
        "telia.com",
        "web.de",
        "yahoo.co.uk",
        "yahoo.com",
        "yahoo.de",
        "yahoo.se",
        "yandex.ru",
        "zoho.com",
    }
)


class AddressError(ValueError):
    """An address or domain that cannot be used; the message says why."""


def valid_email(text: str) -> str:
    """The address, normalized as the order page stores it; :class:`AddressError` if invalid."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise AddressError(f"{text.strip()!r} is not a valid email address: {error}") from None


def email_key(text: str) -> str:
    """How an address is compared: normalized like a stored one, then case-folded."""
    try:
        return valid_email(text).casefold()
    except AddressError:
        return text.strip().casefold()


def email_domain(text: str) -> str | None:
    """The ASCII domain of an address, lowercase; ``None`` when it is not a valid address."""
    try:
        return validate_email(text.strip(), check_deliverability=False).ascii_domain.lower()
    except EmailNotValidError:
        return None


def normalize_domain(text: str) -> str:
    """A domain as a rule stores it: lowercase ASCII, no trailing dot.

    :class:`AddressError` with a hint for what people commonly type instead:
    an address, ``@example.com``, a wildcard, a URL.
    """
    raw = text.strip()
    if not raw:
        raise AddressError("a domain is needed, like example.com")
    if "://" in raw or "/" in raw:
        raise AddressError(f"{raw!r} is not a domain: give only the host name, like example.com")
    if "*" in raw:
        raise AddressError(
            f"{raw!r}: wildcards are not supported; a domain rule matches exactly one domain"
            " (add one rule per subdomain)"
        )
    if "@" in raw:
        hint = raw.rpartition("@")[2] or "example.com"
        raise AddressError(
            f"{raw!r} is not a domain: give the part after the @, like {hint}"
            " (use --email for a single address)"
        )
    try:
        domain = validate_email(
            f"postmaster@{raw.rstrip('.')}", check_deliverability=False
        ).ascii_domain.lower()
    except EmailNotValidError:
        raise AddressError(
            f"{raw!r} is not a valid domain: expected a registered domain name like example.com"
        ) from None
    if domain in PUBLIC_MAIL_DOMAINS:
        raise AddressError(
            f"{domain} is a public mail provider: a domain rule would let all of its users in;"
            " grant single addresses with --email instead"
        )
    return domain


def domain_matches(email: str, domain: str) -> bool:
    """Whether an address belongs to exactly this domain (subdomains do not)."""
    return email_domain(email) == domain
