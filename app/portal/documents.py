"""Audit entries of the portal's services, and who made a change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.core.clock import iso
from app.core.ids import new_id
from app.store import WriteTransaction

CLI_ACTOR = "cli"


def customer_actor(email_key: str) -> str:
    """The audit actor for a person signed in to the portal with this address."""
    return f"portal:{email_key}"


def audit(
    tx: WriteTransaction,
    now: datetime,
    action: str,
    *,
    actor: str,
    customer_id: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Record who changed what, in the transaction that makes the change."""
    tx.collection("audit").insert(
        {
            "id": new_id("aud"),
            "at": iso(now),
            "action": action,
            "actor": actor,
            "customer_id": customer_id,
            "before": dict(before) if before is not None else None,
            "after": dict(after) if after is not None else None,
        }
    )
