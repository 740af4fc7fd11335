"""Who may manage which account in the portal.

An account's own email address always has access. A merchant grants more
with rules per account (``portico access add``): one address (``--email``)
or everyone at one domain (``--domain``).

Matching rules:
- addresses compare case-insensitively (:func:`app.portal.addresses.email_key`);
- a domain rule matches an address whose domain is exactly that domain, in
  ASCII form. Subdomains do not match: ``example.com`` does not let
  ``it.example.com`` in, because a subdomain may be run by someone else
  (a hosting customer, a mail service); grant it with its own rule. So
  ``evil-example.com``, ``example.com.evil.io`` and IDN look-alikes never match;
- rules of one account may not overlap: an address whose domain the account
  already grants is refused, and so is a domain over addresses the account
  already grants one by one (remove them first). The account's own address
  never blocks a domain rule: granting the colleagues is what domains are for.
  Rules on different accounts are independent: one person may manage several
  accounts and chooses one after signing in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from app.core.clock import Clock, iso
from app.core.ids import new_id
from app.portal.addresses import (
    AddressError,
    email_domain,
    email_key,
    normalize_domain,
    valid_email,
)
from app.portal.documents import CLI_ACTOR, audit
from app.store import ReadTransaction, Store

ACCOUNT_NUMBER = re.compile(r"C-\d{6,}")
EMAIL, DOMAIN = "email", "domain"


class AccessError(Exception):
    """A refused access change; the message is meant for the merchant, as it is."""


class UnknownAccount(AccessError):
    pass


class InvalidRule(AccessError):
    pass


class OverlappingRule(AccessError):
    pass


class NoSuchRule(AccessError):
    pass


@dataclass(frozen=True)
class Account:
    """An account someone may manage, and why."""

    customer_id: str
    number: str
    email: str
    via: str  # "own", "email" or "domain"
    plan_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccessRule:
    id: str
    customer_id: str
    customer_number: str
    kind: str  # "email" or "domain"
    value: str  # a case-folded address or an ASCII domain
    created_at: str

    def describe(self) -> str:
        return f"--{self.kind} {self.value}"


@dataclass(frozen=True)
class AccountAccess:
    """An account's own address and its rules, as ``portico access list`` shows them."""

    number: str
    email: str
    rules: tuple[AccessRule, ...]


def account_number(text: str) -> str:
    """A customer number as stored (``c-000123`` → ``C-000123``); :class:`UnknownAccount`
    for anything that is not one."""
    number = text.strip().upper()
    if not ACCOUNT_NUMBER.fullmatch(number):
        raise UnknownAccount(f"{text!r} is not a customer number: expected one like C-000123")
    return number


class AccessRules:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def add(
        self,
        merchant: str,
        account: str,
        *,
        domain: str | None = None,
        email: str | None = None,
        actor: str = CLI_ACTOR,
    ) -> AccessRule:
        """Grant an address or a domain access to one account."""
        kind, value = _rule_value(domain, email)
        number = account_number(account)
        now = self.clock()
        with self.store.write(merchant) as tx:
            customer = _customer(tx, merchant, number)
            rules = [
                _rule(r) for r in tx.collection("access_rules").find(customer_id=customer["id"])
            ]
            _refuse_overlap(kind, value, customer, rules)
            stored = tx.collection("access_rules").insert(
                {
                    "id": new_id("acr"),
                    "customer_id": customer["id"],
                    "customer_number": number,
                    "kind": kind,
                    "value": value,
                    "created_at": iso(now),
                    "created_by": actor,
                }
            )
            audit(
                tx,
                now,
                "access.add",
                actor=actor,
                customer_id=customer["id"],
                after={"kind": kind, "value": value},
            )
        return _rule(stored)

    def remove(
        self,
        merchant: str,
        account: str,
        *,
        domain: str | None = None,
        email: str | None = None,
        actor: str = CLI_ACTOR,
    ) -> AccessRule:
        """Take back a grant. Sessions it allowed end at their next request."""
        kind, value = _rule_value(domain, email, checking_new=False)
        number = account_number(account)
        now = self.clock()
        with self.store.write(merchant) as tx:
            customer = _customer(tx, merchant, number)
            collection = tx.collection("access_rules")
            stored = collection.first(customer_id=customer["id"], kind=kind, value=value)
            if stored is None:
                rules = [_rule(r) for r in collection.find(customer_id=customer["id"])]
                existing = ", ".join(r.describe() for r in rules) or "none"
                raise NoSuchRule(f"{number} has no rule --{kind} {value} (its rules: {existing})")
            collection.delete(stored["id"])
            audit(
                tx,
                now,
                "access.remove",
                actor=actor,
                customer_id=customer["id"],
                before={"kind": kind, "value": value},
            )
        return _rule(stored)

    def list(self, merchant: str, account: str) -> AccountAccess:
        """The account's own address and its rules, oldest first."""
        number = account_number(account)
        with self.store.read(merchant) as tx:
            customer = _customer(tx, merchant, number)
            rules = tuple(
                _rule(r) for r in tx.collection("access_rules").find(customer_id=customer["id"])
            )
        return AccountAccess(number=number, email=customer["email"], rules=rules)

    def accounts_for(self, merchant: str, email: str) -> list[Account]:
        """Every account ``email`` may manage, by customer number."""
        with self.store.read(merchant) as tx:
            return accounts_in(tx, email)

    def may_manage(self, merchant: str, email: str, customer_id: str) -> bool:
        return any(a.customer_id == customer_id for a in self.accounts_for(merchant, email))


def accounts_in(tx: ReadTransaction, email: str) -> list[Account]:
    """:meth:`AccessRules.accounts_for` inside a transaction the caller holds."""
    key = email_key(email)
    domain = email_domain(key)
    customers = tx.collection("customers")
    rules = tx.collection("access_rules")
    found: dict[str, Account] = {}
    for customer in customers.find(email_key=key):
        found.setdefault(customer["id"], _account(tx, customer, "own"))
    granted = rules.find(kind=EMAIL, value=key)
    if domain:
        granted += rules.find(kind=DOMAIN, value=domain)
    for rule in granted:
        customer = customers.get(rule["customer_id"])
        if customer is not None:
            found.setdefault(customer["id"], _account(tx, customer, rule["kind"]))
    return sorted(found.values(), key=lambda account: account.number)


def _account(tx: ReadTransaction, customer: dict, via: str) -> Account:
    subscriptions = tx.collection("subscriptions").find(customer_id=customer["id"])
    return Account(
        customer_id=customer["id"],
        number=customer["number"],
        email=customer["email"],
        via=via,
        plan_ids=tuple(s["plan_id"] for s in subscriptions),
    )


def _rule_value(
    domain: str | None, email: str | None, *, checking_new: bool = True
) -> tuple[str, str]:
    if (domain is None) == (email is None):
        raise InvalidRule("give exactly one of --domain or --email")
    try:
        if email is not None:
            return EMAIL, valid_email(email).casefold() if checking_new else email_key(email)
        if checking_new:
            return DOMAIN, normalize_domain(domain or "")
    except AddressError as error:
        raise InvalidRule(str(error)) from None
    # A rule being removed may predate today's checks (a provider added to the
    # public list since): find it as stored.
    try:
        return DOMAIN, normalize_domain(domain or "")
    except AddressError:
        return DOMAIN, (domain or "").strip().rstrip(".").lower()


def _customer(tx: ReadTransaction, merchant: str, number: str) -> dict:
    customer = tx.collection("customers").first(number=number)
    if customer is None:
        raise UnknownAccount(f"{merchant} has no customer {number}")
    return customer


def _refuse_overlap(kind: str, value: str, customer: dict, rules: Iterable[AccessRule]) -> None:
    number = customer["number"]
    for rule in rules:
        if rule.kind == kind and rule.value == value:
            raise OverlappingRule(f"{number} already has the rule --{kind} {value}")
    if kind == EMAIL:
        if value == customer["email_key"]:
            raise OverlappingRule(f"{value} is the own address of {number}: it has access already")
        domain = email_domain(value)
        for rule in rules:
            if rule.kind == DOMAIN and rule.value == domain:
                raise OverlappingRule(
                    f"{value} is already covered by the rule --domain {domain} of {number}"
                )
    else:
        covered = [r.value for r in rules if r.kind == EMAIL and email_domain(r.value) == value]
        if covered:
            raise OverlappingRule(
                f"--domain {value} would overlap the rule(s) --email {', --email '.join(covered)}"
                f" of {number}; remove them first"
            )


def _rule(stored: dict) -> AccessRule:
    return AccessRule(
        id=stored["id"],
        customer_id=stored["customer_id"],
        customer_number=stored["customer_number"],
        kind=stored["kind"],
        value=stored["value"],
        created_at=stored["created_at"],
    )
