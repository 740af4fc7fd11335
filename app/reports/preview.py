"""Merchant previews: short-lived signed tokens, sample data, and the field overview.

A preview token is bound to one merchant and expires after an hour; it opens
the merchant's preview pages (order page and portal with sample data, the
field overview, the metrics dashboard) and nothing else. Nothing here knows
about Flask: the web side (:mod:`app.web.preview`) turns requests into calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.config.models import MerchantConfig
from forms import Condition, FieldSpec, localize

LIFETIME_SECONDS = 3600
SALT = "portico.preview"  # distinct from every other signed value of the app


class PreviewRefused(Exception):
    """The token is missing, expired, tampered with, or for another merchant."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem


class Problem(Enum):
    MISSING = "missing"
    EXPIRED = "expired"
    TAMPERED = "tampered"
    OTHER_MERCHANT = "other_merchant"


class PreviewTokens:
    def __init__(self, secret_key: str, max_age: int = LIFETIME_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt=SALT)
        self.max_age = max_age

    def issue(self, merchant: str) -> str:
        return self._serializer.dumps({"m": merchant})

    def verify(self, token: str | None, merchant: str) -> None:
        """Return quietly for a valid token of ``merchant``; raise :class:`PreviewRefused`."""
        if not token:
            raise PreviewRefused(Problem.MISSING)
        try:
            payload = self._serializer.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise PreviewRefused(Problem.EXPIRED) from None
        except BadSignature:
            raise PreviewRefused(Problem.TAMPERED) from None
        if not isinstance(payload, dict) or payload.get("m") != merchant:
            raise PreviewRefused(Problem.OTHER_MERCHANT)


# --- sample data --------------------------------------------------------------

SAMPLE_TEXT = {
    "email": "jana.sample@example.com",
    "phone": "+49 30 1234567",
    "iban": "DE89370400440532013000",  # the well-known test IBAN
    "textarea": "Sample text",
    "text": "Sample",
}


def sample_values(config: MerchantConfig, today: date) -> dict[str, str]:
    """A plausible value for every order-page field, as a form would submit it."""
    address = config.merchant.address
    values: dict[str, str] = {}
    for spec in config.order_page.fields:
        value = _sample(spec, address.country, address.postal_code, config.merchant.vat_id, today)
        if value is not None:
            values[spec.name] = value
    return values


def _sample(
    spec: FieldSpec, country: str, postal_code: str, vat_id: str | None, today: date
) -> str | None:
    default = getattr(spec, "default", None)
    if default not in (None, "", False):
        return default.isoformat() if isinstance(default, date) else str(default)
    choices = getattr(spec, "choices", None)
    if choices:
        return choices[0].value
    by_type = {
        "checkbox": "y",
        "country": country,
        "postal_code": postal_code,
        "vat_id": vat_id,
        "date": today.isoformat(),
        "number": str(getattr(spec, "min", None) or 1),
    }
    if spec.type in by_type:
        return by_type[spec.type]
    text = SAMPLE_TEXT.get(spec.type, SAMPLE_TEXT["text"])
    max_length = getattr(spec, "max_length", None)
    return text[:max_length] if max_length else text


# --- the field overview -------------------------------------------------------

BASE_KEYS = frozenset(FieldSpec.model_fields) | {"default", "pattern_message", "choices"}


@dataclass(frozen=True)
class FieldRow:
    """One order-page field as the merchant's overview lists it."""

    name: str
    type: str
    label: str
    required: bool
    required_if: str
    visible_if: str
    validators: tuple[str, ...]  # e.g. "max_length: 120", "choices: private, business"
    portal: str  # edit | read | none


def field_rows(config: MerchantConfig, language: str) -> list[FieldRow]:
    return [_row(spec, language, config.default_language) for spec in config.order_page.fields]


def _row(spec: FieldSpec, language: str, default_language: str) -> FieldRow:
    dumped = spec.model_dump(by_alias=True, exclude_none=True)
    validators = [f"{key}: {value}" for key, value in dumped.items() if key not in BASE_KEYS]
    if choices := getattr(spec, "choices", None):
        validators.append("choices: " + ", ".join(choice.value for choice in choices))
    return FieldRow(
        name=spec.name,
        type=spec.type,
        label=localize(spec.label, language, default_language) if spec.label else "",
        required=spec.required,
        required_if=_condition(spec.required_if),
        visible_if=_condition(spec.visible_if),
        validators=tuple(validators),
        portal=spec.portal,
    )


def _condition(condition: Condition | None) -> str:
    if condition is None:
        return ""
    return f"{condition.field} = {', '.join(condition.values)}"
