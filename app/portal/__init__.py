"""The customer portal's domain services: sign-in tokens, sessions, access rules.

Nothing here imports Flask; the blueprint in :mod:`app.web.portal.signin` and the
``portico`` command translate requests and arguments into these calls.
"""

from __future__ import annotations

from app.core.clock import Clock, utc_now
from app.portal.access import AccessRules
from app.portal.accounts import Accounts
from app.portal.sessions import Sessions
from app.portal.tokens import SignInTokens
from app.store import Store


class PortalServices:
    """The portal's services over one store, sharing one clock."""

    def __init__(self, store: Store, secret_key: str, clock: Clock = utc_now) -> None:
        self.tokens = SignInTokens(store, secret_key, clock)
        self.sessions = Sessions(store, secret_key, clock)
        self.access = AccessRules(store, clock)
        self.accounts = Accounts(store)
