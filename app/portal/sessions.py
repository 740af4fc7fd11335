"""Portal sessions, recorded in the store so that ending one really ends it.

A bare signed cookie stays valid until it expires; a session recorded here
ends the moment it is deleted: sign-out, "sign out everywhere", the idle
timeout (30 minutes) and the absolute lifetime (12 hours, counted from
sign-in). The cookie holds 256 random bits; the store keeps only their keyed
hash, so a copy of the data file cannot be replayed as a cookie.

A session belongs to the address that signed in (``email_key``) and, once one
is chosen, to one account (``customer_id``). Choosing or switching the account
issues a new session id, as signing in does, so an id seen before a change of
privilege is worth nothing after it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.core.clock import Clock, iso, parse_iso
from app.portal.documents import audit, customer_actor
from app.store import Collection, Store

SESSION_BYTES = 32
SESSION_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_LIFETIME = timedelta(hours=12)
# Recording every request's time would make each page view a write; a
# session seen within the last minute is not written again. The idle
# timeout is therefore exact to one minute.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class PortalSession:
    key: str  # the stored id: a hash of the cookie's value
    email_key: str
    customer_id: str | None  # None until an account is chosen
    created_at: datetime
    last_seen_at: datetime

    def expires_at(self, idle: timedelta, lifetime: timedelta) -> datetime:
        return min(self.last_seen_at + idle, self.created_at + lifetime)


class Sessions:
    def __init__(
        self,
        store: Store,
        secret_key: str,
        clock: Clock,
        *,
        idle_timeout: timedelta = IDLE_TIMEOUT,
        lifetime: timedelta = ABSOLUTE_LIFETIME,
    ) -> None:
        self.store = store
        self.clock = clock
        self.idle_timeout = idle_timeout
        self.lifetime = lifetime
        self._key = hashlib.sha256(b"portico.portal-sessions\0" + secret_key.encode()).digest()

    def create(
        self,
        merchant: str,
        email_key: str,
        customer_id: str | None,
        *,
        method: str,
        replaces: str | None = None,
    ) -> tuple[str, PortalSession]:
        """Sign in: a new session (and id) for ``email_key``; ``replaces`` (the id the
        browser held before, if any) ends in the same transaction."""
        now = self.clock()
        session_id = secrets.token_urlsafe(SESSION_BYTES)
        with self.store.write(merchant) as tx:
            sessions = tx.collection("sessions")
            self._purge(sessions, now)
            self._delete(sessions, merchant, replaces)
            stored = sessions.insert(
                {
                    "id": self._hash(merchant, session_id),
                    "email_key": email_key,
                    "customer_id": customer_id,
                    "created_at": iso(now),
                    "last_seen_at": iso(now),
                }
            )
            audit(
                tx,
                now,
                "portal.signin",
                actor=customer_actor(email_key),
                customer_id=customer_id,
                after={"method": method},
            )
        return session_id, _session(stored)

    def lookup(self, merchant: str, session_id: str | None) -> PortalSession | None:
        """The live session with this id; ``None`` for an unknown, ended or expired one."""
        if not SESSION_FORMAT.fullmatch(session_id or ""):
            return None
        with self.store.read(merchant) as tx:
            stored = tx.collection("sessions").get(self._hash(merchant, session_id or ""))
        if stored is None:
            return None
        session = _session(stored)
        return session if self._alive(session, self.clock()) else None

    def touch(self, merchant: str, session: PortalSession) -> None:
        """Note activity, so the idle timeout counts from now (at most once a minute)."""
        now = self.clock()
        if now - session.last_seen_at < TOUCH_INTERVAL:
            return
        with self.store.write(merchant) as tx:
            sessions = tx.collection("sessions")
            if sessions.get(session.key) is not None:
                sessions.update(session.key, {"last_seen_at": iso(now)})

    def choose_account(self, merchant: str, session_id: str, customer_id: str) -> str | None:
        """Work on ``customer_id`` from now on; returns the session's new id (the old
        one ends), or ``None`` when the session is no longer alive."""
        now = self.clock()
        new_id = secrets.token_urlsafe(SESSION_BYTES)
        with self.store.write(merchant) as tx:
            sessions = tx.collection("sessions")
            stored = sessions.get(self._hash(merchant, session_id))
            if stored is None or not self._alive(_session(stored), now):
                return None
            sessions.delete(stored["id"])
            sessions.insert(
                {
                    **stored,
                    "id": self._hash(merchant, new_id),
                    "customer_id": customer_id,
                    "last_seen_at": iso(now),
                }
            )
        return new_id

    def revoke(self, merchant: str, session_id: str) -> bool:
        """Sign out this one session; ``False`` when it had ended already."""
        now = self.clock()
        with self.store.write(merchant) as tx:
            sessions = tx.collection("sessions")
            stored = sessions.get(self._hash(merchant, session_id))
            if stored is None:
                return False
            sessions.delete(stored["id"])
            audit(
                tx,
                now,
                "portal.signout",
                actor=customer_actor(stored["email_key"]),
                customer_id=stored["customer_id"],
            )
        return True

    def revoke_all(self, merchant: str, email_key: str) -> int:
        """Sign ``email_key`` out on every device; returns how many sessions ended."""
        now = self.clock()
        with self.store.write(merchant) as tx:
            sessions = tx.collection("sessions")
            ended = sessions.find(email_key=email_key)
            for stored in ended:
                sessions.delete(stored["id"])
            audit(
                tx,
                now,
                "portal.signout_everywhere",
                actor=customer_actor(email_key),
                after={"sessions_ended": len(ended)},
            )
        return len(ended)

    def csrf_token(self, merchant: str, session_id: str) -> str:
        """The form token of a session's pages: bound to it, worthless without it."""
        digest = hmac.new(
            self._key, f"csrf\0{merchant}\0{session_id}".encode(), hashlib.sha256
        ).hexdigest()
        return digest[:40]

    def check_csrf(self, merchant: str, session_id: str, token: str | None) -> bool:
        return hmac.compare_digest(self.csrf_token(merchant, session_id), token or "")

    def _alive(self, session: PortalSession, now: datetime) -> bool:
        return now < session.expires_at(self.idle_timeout, self.lifetime)

    def _delete(self, sessions: Collection, merchant: str, session_id: str | None) -> None:
        if session_id and SESSION_FORMAT.fullmatch(session_id):
            key = self._hash(merchant, session_id)
            if sessions.get(key) is not None:
                sessions.delete(key)

    def _purge(self, sessions: Collection, now: datetime) -> None:
        for stored in list(sessions.all()):
            if not self._alive(_session(stored), now):
                sessions.delete(stored["id"])

    def _hash(self, merchant: str, session_id: str) -> str:
        return hmac.new(
            self._key, f"session\0{merchant}\0{session_id}".encode(), hashlib.sha256
        ).hexdigest()


def _session(stored: dict[str, Any]) -> PortalSession:
    return PortalSession(
        key=stored["id"],
        email_key=stored["email_key"],
        customer_id=stored["customer_id"],
        created_at=parse_iso(stored["created_at"]),
        last_seen_at=parse_iso(stored["last_seen_at"]),
    )
