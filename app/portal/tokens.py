"""Sign-in tokens: a link and a one-time code, stored only as keyed hashes.

A sign-in mail carries a link with 256 random bits and an 8-digit code for a
customer who reads mail on another device. The store keeps HMAC-SHA-256
digests (keyed with the instance secret), never the link or the code, so a
copy of the data file signs nobody in. A token is:

- valid for 15 minutes and used at most once, by link or by code;
- consumed only by :meth:`SignInTokens.redeem` (the confirmation page's POST):
  :meth:`SignInTokens.peek` (its GET, which mail scanners fetch) changes nothing;
- for its code, limited to :data:`MAX_CODE_FAILURES` wrong tries, after which
  the code is burnt. The link stays usable: it cannot be guessed, and burning
  it would let anyone who knows an address lock its owner out;
- the only one whose code counts: a newer mail's code replaces older codes of
  the same address, so several open mails do not multiply an attacker's tries.

A successful sign-in ends every other open token of the address. Whether an
address may sign in at all is the access rules' business
(:mod:`app.portal.access`); callers ask them before issuing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any
from urllib.parse import quote, urlencode

from app.core.clock import Clock, iso, parse_iso
from app.portal.addresses import email_key
from app.store import Collection, Store

TOKEN_BYTES = 32  # 256 bits; the design asks for at least 128
TOKEN_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")
CODE_DIGITS = 8
MAX_CODE_FAILURES = 5
LIFETIME = timedelta(minutes=15)
RESEND_AFTER = timedelta(seconds=60)  # at most one mail per address in this time
KEEP_ENDED = timedelta(days=1)  # ended tokens stay a day, so a late click is told why
MAIL = "mail"  # sent by mail, with a code
DIRECT = "direct"  # handed out by `portico portal-link`, link only


class TokenState(Enum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"
    UNKNOWN = "unknown"  # forged, mistyped or long gone


class SignInRefused(Exception):
    """A link or code that signs nobody in; ``state`` says why (never shown for codes)."""

    def __init__(self, state: TokenState) -> None:
        super().__init__(state.value)
        self.state = state


@dataclass(frozen=True)
class IssuedToken:
    token: str  # goes into the link: /<merchant>/portal/verify/<token>
    code: str | None  # 8 digits, or None for a link-only token (portico portal-link)
    expires_at: datetime


@dataclass(frozen=True)
class SignInGrant:
    """Who proved control of an address, and where they were going."""

    email_key: str
    next: str | None
    language: str | None
    method: str  # "link" or "code"


def signin_link(base_url: str, merchant: str, token: str, language: str) -> str:
    """The confirmation page's address, from ``PORTICO_BASE_URL`` (never a request's Host)."""
    return f"{base_url}/{merchant}/portal/verify/{quote(token)}?{urlencode({'lang': language})}"


def normalize_code(text: str) -> str | None:
    """The digits of a code as typed (``1234 5678``, ``1234-5678``), or ``None`` if malformed."""
    digits = re.sub(r"[\s-]", "", text or "")
    return digits if len(digits) == CODE_DIGITS and digits.isascii() and digits.isdigit() else None


def format_code(code: str) -> str:
    """A code as a mail shows it: two groups of four, easier to read and type."""
    half = len(code) // 2
    return f"{code[:half]} {code[half:]}"


class SignInTokens:
    def __init__(
        self,
        store: Store,
        secret_key: str,
        clock: Clock,
        *,
        lifetime: timedelta = LIFETIME,
        resend_after: timedelta = RESEND_AFTER,
        max_code_failures: int = MAX_CODE_FAILURES,
    ) -> None:
        self.store = store
        self.clock = clock
        self.lifetime = lifetime
        self.resend_after = resend_after
        self.max_code_failures = max_code_failures
        self._key = hashlib.sha256(b"portico.signin-tokens\0" + secret_key.encode()).digest()

    def issue(
        self,
        merchant: str,
        email: str,
        *,
        language: str | None = None,
        next: str | None = None,
        channel: str = MAIL,
    ) -> IssuedToken | None:
        """A new token for ``email``.

        A ``MAIL`` token has a code and is throttled: ``None`` when a mail went
        to this address less than a minute ago (the caller then sends nothing).
        A ``DIRECT`` token (``portico portal-link``) is a link only, never throttled.
        """
        if channel not in (MAIL, DIRECT):
            raise ValueError(f"unknown sign-in channel {channel!r}")
        with_code = channel == MAIL
        key = email_key(email)
        now = self.clock()
        token = secrets.token_urlsafe(TOKEN_BYTES)
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}" if with_code else None
        token_id = self._digest("token", merchant, token)
        with self.store.write(merchant) as tx:
            tokens = tx.collection("signin_tokens")
            self._purge(tokens, now)
            mine = tokens.find(email_key=key)
            if with_code and any(
                t["channel"] == MAIL and parse_iso(t["created_at"]) > now - self.resend_after
                for t in mine
            ):
                return None
            if with_code:
                for older in mine:
                    if older["code_hash"] is not None:
                        tokens.update(older["id"], {"code_hash": None})
            tokens.insert(
                {
                    "id": token_id,
                    "email_key": key,
                    "code_hash": self._digest("code", token_id, code) if code else None,
                    "code_failures": 0,
                    "channel": channel,
                    "language": language,
                    "next": next,
                    "created_at": iso(now),
                    "expires_at": iso(now + self.lifetime),
                    "used_at": None,
                }
            )
        return IssuedToken(token=token, code=code, expires_at=now + self.lifetime)

    def peek(self, merchant: str, token: str) -> TokenState:
        """What a link would do now, changing nothing (a mail scanner's GET lands here)."""
        if not TOKEN_FORMAT.fullmatch(token or ""):
            return TokenState.UNKNOWN
        with self.store.read(merchant) as tx:
            stored = tx.collection("signin_tokens").get(self._digest("token", merchant, token))
        return self._state(stored, self.clock())

    def redeem(self, merchant: str, token: str) -> SignInGrant:
        """Use a link: it is spent at once, whatever happens next."""
        if not TOKEN_FORMAT.fullmatch(token or ""):
            raise SignInRefused(TokenState.UNKNOWN)
        now = self.clock()
        with self.store.write(merchant) as tx:
            tokens = tx.collection("signin_tokens")
            stored = tokens.get(self._digest("token", merchant, token))
            state = self._state(stored, now)
            if stored is None or state is not TokenState.VALID:
                raise SignInRefused(state)
            self._spend(tokens, stored, now)
        return _grant(stored, "link")

    def redeem_code(self, merchant: str, email: str, code: str) -> SignInGrant:
        """Use the code of the newest open token of ``email``.

        Every refusal is the same :class:`SignInRefused` (``UNKNOWN``): an unknown
        address, no open token, a wrong or a burnt code look alike.
        """
        digits = normalize_code(code)
        key = email_key(email)
        now = self.clock()
        with self.store.write(merchant) as tx:
            tokens = tx.collection("signin_tokens")
            open_codes = [
                t
                for t in tokens.find(email_key=key, used_at=None)
                if t["code_hash"] is not None and self._state(t, now) is TokenState.VALID
            ]
            newest = max(open_codes, key=lambda t: t["created_at"], default=None)
            if newest is not None:
                offered = self._digest("code", newest["id"], digits or "")
                if digits is not None and hmac.compare_digest(offered, newest["code_hash"]):
                    self._spend(tokens, newest, now)
                    return _grant(newest, "code")
                failures = newest["code_failures"] + 1
                changes: dict[str, Any] = {"code_failures": failures}
                if failures >= self.max_code_failures:
                    changes["code_hash"] = None
                tokens.update(newest["id"], changes)
        raise SignInRefused(TokenState.UNKNOWN)

    def _spend(self, tokens: Collection, used: dict[str, Any], now: datetime) -> None:
        """Mark ``used`` as used and end every other open token of the same address."""
        for other in tokens.find(email_key=used["email_key"], used_at=None):
            tokens.update(other["id"], {"used_at": iso(now), "code_hash": None})

    def _state(self, stored: dict[str, Any] | None, now: datetime) -> TokenState:
        if stored is None:
            return TokenState.UNKNOWN
        if stored["used_at"] is not None:
            return TokenState.USED
        if parse_iso(stored["expires_at"]) <= now:
            return TokenState.EXPIRED
        return TokenState.VALID

    def _purge(self, tokens: Collection, now: datetime) -> None:
        for stored in list(tokens.all()):
            if parse_iso(stored["expires_at"]) < now - KEEP_ENDED:
                tokens.delete(stored["id"])

    def _digest(self, *parts: str) -> str:
        return hmac.new(self._key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()


def _grant(stored: dict[str, Any], method: str) -> SignInGrant:
    return SignInGrant(
        email_key=stored["email_key"],
        next=stored["next"],
        language=stored["language"],
        method=method,
    )
