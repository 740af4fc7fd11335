"""Webhook signatures: what a receiver checks to know a request came from Portico.

``Portico-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">``, keyed
with the endpoint's secret. Signing the time with the body lets a receiver
refuse an old request replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "Portico-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the :data:`HEADER` for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
