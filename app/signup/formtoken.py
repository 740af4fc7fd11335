"""Signed, expiring order-form tokens: CSRF protection that needs no cookie.

Inside a cross-site iframe the browser may send no cookies at all, so a
session-bound CSRF token cannot work there. Each rendered order form carries
a token signed with the instance secret, bound to its merchant, with a fresh
random nonce. The nonce doubles as the idempotency key of the sign-up: a second
submit of the same rendered form finds the sign-up the first one created.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from enum import Enum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

MAX_AGE_SECONDS = 6 * 3600


class TokenProblem(Enum):
    MISSING = "missing"
    TAMPERED = "tampered"
    EXPIRED = "expired"
    OTHER_MERCHANT = "other_merchant"


class InvalidFormToken(Exception):
    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class FormToken:
    nonce: str
    issued_at: float


class FormTokens:
    def __init__(self, secret_key: str, max_age: int = MAX_AGE_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="portico.order-form")
        self.max_age = max_age

    def issue(self, merchant: str) -> str:
        return self._serializer.dumps({"m": merchant, "n": secrets.token_urlsafe(18)})

    def verify(self, token: str | None, merchant: str) -> FormToken:
        if not token:
            raise InvalidFormToken(TokenProblem.MISSING)
        try:
            payload, issued = self._serializer.loads(
                token, max_age=self.max_age, return_timestamp=True
            )
        except SignatureExpired:
            raise InvalidFormToken(TokenProblem.EXPIRED) from None
        except BadSignature:
            raise InvalidFormToken(TokenProblem.TAMPERED) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("n"), str):
            raise InvalidFormToken(TokenProblem.TAMPERED)
        if payload.get("m") != merchant:
            raise InvalidFormToken(TokenProblem.OTHER_MERCHANT)
        return FormToken(nonce=payload["n"], issued_at=issued.timestamp())

    @staticmethod
    def age(token: FormToken) -> float:
        return time.time() - token.issued_at
