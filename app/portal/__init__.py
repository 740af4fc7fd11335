"""The customer portal's domain services: sign-in tokens, sessions, access rules.

Nothing here imports Flask; the blueprint in :mod:`app.web.portal` and the
``portico`` command translate requests and arguments into these calls.
"""

from __future__ import annotations

from datetime import datetime

from app.documents import Clock, utc_now
from app.portal.access import AccessRules
from app.portal.accounts import Accounts
from app.portal.sessions import Sessions
from app.portal.tokens import SignInTokens
from app.store import Store


class PortalServices:
    """The portal's services over one store, sharing one clock.

    ``clock`` may be replaced after construction (tests move time forward);
    every service reads it through this object.
    """

    def __init__(self, store: Store, secret_key: str, clock: Clock = utc_now) -> None:
        self.clock = clock
        self.tokens = SignInTokens(store, secret_key, self.now)
        self.sessions = Sessions(store, secret_key, self.now)
        self.access = AccessRules(store, self.now)
        self.accounts = Accounts(store)

    def now(self) -> datetime:
        return self.clock()
