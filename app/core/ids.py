"""Document ids: random and unguessable, with a prefix that names the kind."""

from __future__ import annotations

import secrets


def new_id(prefix: str) -> str:
    """A random, unguessable document id such as ``cus_9f2c…`` (96 bits)."""
    return f"{prefix}_{secrets.token_hex(12)}"
