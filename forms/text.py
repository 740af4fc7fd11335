"""Merchant-written text: one string for every language, or a mapping by language.

``LocalizedText`` is a pydantic type: it accepts ``"Text"`` or ``{de: Text, en: Text}``
and refuses anything else with one clear message. The ``TextKind`` marker in its
metadata lets the config checker find every merchant text in a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema


class TextKind(Enum):
    PLAIN = "plain"  # escaped wherever it is shown
    HTML = "html"  # sanitized by the config loader, then trusted


def _text_or_mapping(value: Any) -> str | dict[str, str]:
    if isinstance(value, str):
        return value
    if (
        isinstance(value, Mapping)
        and value
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    ):
        return dict(value)
    raise ValueError("expected text, or a mapping from language code to text")


_TEXT_SCHEMA = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "minProperties": 1,
            "description": "The text per language code, e.g. {de: Firma, en: Company}.",
        },
    ]
}

LocalizedText = Annotated[
    str | dict[str, str],
    BeforeValidator(_text_or_mapping),
    WithJsonSchema(_TEXT_SCHEMA),
    TextKind.PLAIN,
]


def localize(text: str | Mapping[str, str] | None, language: str, default_language: str) -> str:
    """The text in ``language``, falling back to the default language, then to any."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    for candidate in (language, default_language):
        if candidate in text:
            return text[candidate]
    return next(iter(text.values()), "")


def missing_languages(text: str | Mapping[str, str] | None, languages: list[str]) -> list[str]:
    """The merchant languages a per-language text does not cover."""
    if text is None or isinstance(text, str):
        return []
    return [language for language in languages if language not in text]
