"""What every store checks the same way: merchant slugs, JSON documents, exact equality."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

from app.store.base import Document

MERCHANT_SLUG = re.compile(r"[a-z0-9-]{2,40}")


def check_slug(merchant: Any) -> str:
    """``merchant`` if it is a valid slug, else :class:`ValueError`."""
    if not isinstance(merchant, str) or not MERCHANT_SLUG.fullmatch(merchant):
        raise ValueError(
            f"invalid merchant slug {merchant!r}: expected 2 to 40 characters a-z, 0-9 or '-'"
        )
    return merchant


def check_sequence(sequence: Any) -> str:
    if not isinstance(sequence, str) or not sequence:
        raise ValueError(f"a sequence name must be a non-empty string, not {sequence!r}")
    return sequence


def is_exactly(value: Any, wanted: Any, kind: type) -> bool:
    """Equality without Python's ``True == 1 == 1.0``; the type is a query argument so
    TinyDB's query cache keeps ``find(paid=True)`` and ``find(paid=1)`` apart."""
    return type(value) is kind and value == wanted


def plain(value: Any) -> Any:
    """An enum as the value it stands for (``InvoiceStatus.OPEN`` → ``"open"``): what
    is stored and queried is plain JSON, whatever type the caller named it with."""
    return value.value if isinstance(value, Enum) else value


def plain_query(equals: Mapping[str, Any]) -> dict[str, Any]:
    """A query's conditions with :func:`plain` values."""
    return {field: plain(value) for field, value in equals.items()}


def json_document(document: Any) -> Document:
    if not isinstance(document, Mapping):
        raise TypeError(f"a document must be a mapping, not {type(document).__name__}")
    return json_copy(document)


def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value; refuses anything JSON cannot hold as it is.

    Exact types only: a ``datetime`` or a ``str`` subclass would be kept as
    such in this process's cache but read back as plain text elsewhere. Enums
    are stored as their values (:func:`plain`).
    """
    if isinstance(value, Enum):
        return json_copy(value.value)
    if isinstance(value, Mapping):
        copied = {}
        for key, item in value.items():
            if type(key) is not str:
                raise TypeError(f"document keys must be strings, not {key!r}")
            copied[key] = json_copy(item)
        return copied
    if isinstance(value, list | tuple):
        return [json_copy(item) for item in value]
    if type(value) is float and not math.isfinite(value):
        raise ValueError(f"{value} cannot be stored in JSON")
    if value is None or type(value) in (str, int, float, bool):
        return value
    raise TypeError(f"{type(value).__name__} is not a JSON value: {value!r}")
