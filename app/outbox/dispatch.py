"""What the mail and the webhook dispatchers share: leased claims, failure notes, merchants.

Work waits in a merchant's collection until a dispatcher has done it. A
dispatcher first *claims* due documents in one write transaction by setting
their ``claimed_until``; another worker skips a document whose lease has not
run out, so two workers never send the same thing at once, and the work of a
worker that died half-way is taken up again once its lease has run out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app.config.loader import LoadedMerchant
from app.config.registry import MerchantRegistry
from app.store import Document, Store


def claim(
    store: Store,
    merchant: str,
    collection: str,
    now: datetime,
    *,
    lease: timedelta,
    limit: int,
    due: Callable[[Document], bool],
    **equals: Any,
) -> list[Document]:
    """Up to ``limit`` documents matching ``equals`` for which ``due`` holds and whose
    lease (if any) ran out, each leased to the caller until ``now + lease``."""
    moment = now.isoformat(timespec="seconds")
    lease_end = (now + lease).isoformat(timespec="seconds")
    with store.write(merchant) as tx:
        documents = tx.collection(collection)
        claimed: list[Document] = []
        for document in documents.find(**equals):
            if len(claimed) >= limit:
                break
            if (document.get("claimed_until") or "") > moment or not due(document):
                continue
            claimed.append(documents.update(document["id"], {"claimed_until": lease_end}))
        return claimed


def failure(error: Exception) -> str:
    """What is kept about a failed attempt: the kind of error and its message, shortened.
    Callers pass errors whose message holds no secret and no payload."""
    return f"{type(error).__name__}: {error}"[:300]


def selected_merchants(registry: MerchantRegistry, merchant: str | None) -> list[LoadedMerchant]:
    """Every merchant, or the one named (else :class:`LookupError` with a clear message)."""
    if merchant is None:
        return registry.all()
    loaded = registry.get(merchant)
    if loaded is None:
        raise LookupError(f"no merchant '{merchant}': {registry.path(merchant)} does not exist")
    return [loaded]
