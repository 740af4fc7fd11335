"""Ids and times as every service stores them: random ids, ISO 8601 UTC text, an injectable clock."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current moment, timezone-aware; tests pass a function they can advance."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """A random, unguessable document id such as ``cus_9f2c…`` (96 bits)."""
    return f"{prefix}_{secrets.token_hex(12)}"


def iso(moment: datetime) -> str:
    """``moment`` as stored: ISO 8601 in UTC, to the second."""
    if moment.tzinfo is None:
        raise ValueError("stored times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    """A stored time back as an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"stored time {text!r} has no timezone")
    return moment.astimezone(UTC)
