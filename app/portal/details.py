"""A customer's own details and marketing choices, as the portal shows and changes them.

Which details the portal touches is the merchant's call, per field: ``portal:
edit`` (shown and changeable), ``read`` (shown) or ``none``. Changes go through
the order page's form engine, so they are validated exactly as at sign-up;
this module decides what a valid form may change and records the change with
its audit entry and ``customer.updated`` event in one transaction.

Marketing opt-ins: a merchant's YAML has no "marketing" flag on consents, so
the rule is that an *optional* consent (``required: false``) is an opt-in the
customer may give or take back at any time; a required consent is a condition
of the contract and cannot be withdrawn here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config.models import Consent, MerchantConfig
from app.core.clock import Clock, iso
from app.outbox.events import emit
from app.portal.addresses import email_key
from app.portal.documents import audit
from app.store import ReadTransaction, Store, WriteTransaction
from forms import FieldSpec

EMAIL_FIELD = "email"  # every order page has exactly one; it is the sign-in address


class UnknownCustomer(LookupError):
    """The account is gone (or belongs to another merchant)."""


class EmailTaken(ValueError):
    """Another account of this merchant signs in with the address asked for."""


@dataclass(frozen=True)
class OptIn:
    """One optional consent and where the customer stands on it."""

    name: str
    given: bool
    at: str | None  # when it was last given or withdrawn (ISO 8601), None: never asked


@dataclass(frozen=True)
class CustomerDetails:
    customer_id: str
    number: str
    email: str
    fields: Mapping[str, Any]  # the stored values by field name, as the order page stored them
    opt_ins: tuple[OptIn, ...]


@dataclass(frozen=True)
class Change:
    """What an update changed: only the changed names, before and after (None: absent)."""

    before: Mapping[str, Any]
    after: Mapping[str, Any]

    def __bool__(self) -> bool:
        return bool(self.after)


def editable_names(fields: Sequence[FieldSpec]) -> frozenset[str]:
    return frozenset(spec.name for spec in fields if spec.portal == "edit")


def readable_names(fields: Sequence[FieldSpec]) -> frozenset[str]:
    return frozenset(spec.name for spec in fields if spec.portal == "read")


def optional_consents(config: MerchantConfig) -> tuple[Consent, ...]:
    """The consents that are marketing opt-ins: the optional ones (see the module docstring)."""
    return tuple(consent for consent in config.order_page.consents if not consent.required)


def details_specs(
    fields: Sequence[FieldSpec], stored: Mapping[str, Any]
) -> tuple[tuple[FieldSpec, ...], tuple[tuple[str, bool], ...]]:
    """The fields of the details form, and a signature of how they were settled.

    A condition (``visible_if``, ``required_if``) on a field the customer cannot
    change is settled here against the stored values: a field it hides is left
    out, one it shows or requires loses the condition. Conditions on editable
    fields stay and work as on the order page. The signature names every
    settled outcome, so equal signatures mean equal form classes.
    """
    editable = editable_names(fields)
    settled: list[tuple[str, bool]] = []
    specs: list[FieldSpec] = []
    for spec in fields:
        update: dict[str, Any] = {}
        shown = spec.visible_if
        if shown is not None and shown.field not in editable:
            holds = shown.matches(stored)
            settled.append((f"{spec.name}:visible", holds))
            if not holds:
                continue
            update["visible_if"] = None
        needed = spec.required_if
        if needed is not None and needed.field not in editable:
            holds = needed.matches(stored)
            settled.append((f"{spec.name}:required", holds))
            update.update(required_if=None, required=spec.required or holds)
        specs.append(spec.model_copy(update=update) if update else spec)
    return tuple(specs), tuple(settled)


class Details:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def load(self, merchant: str, customer_id: str, config: MerchantConfig) -> CustomerDetails:
        """The account's details and opt-ins; :class:`UnknownCustomer` if it is gone."""
        with self.store.read(merchant) as tx:
            customer = _customer(tx, customer_id)
            opt_ins = _opt_ins(tx, customer, config)
        return CustomerDetails(
            customer_id=customer["id"],
            number=customer["number"],
            email=customer["email"],
            fields=dict(customer.get("fields") or {}),
            opt_ins=opt_ins,
        )

    def update(
        self,
        merchant: str,
        customer_id: str,
        values: Mapping[str, Any],
        editable: Collection[str],
        *,
        actor: str,
    ) -> Change:
        """Replace the ``editable`` fields with ``values`` (a validated form's values: an
        editable name missing from them was emptied or hidden, and is removed).

        Anything outside ``editable`` is left as it is, whatever ``values`` says.
        A new sign-in address must not be another account's
        (:class:`EmailTaken`); sessions that signed in to this account with the
        old address move to the new one, so saving does not sign the customer out.
        """
        now = self.clock()
        with self.store.write(merchant) as tx:
            customer = _customer(tx, customer_id)
            old = dict(customer.get("fields") or {})
            new = dict(old)
            for name in editable:
                if name in values:
                    new[name] = values[name]
                else:
                    new.pop(name, None)
            changed = sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))
            change = Change(
                before={name: old.get(name) for name in changed},
                after={name: new.get(name) for name in changed},
            )
            if not change:
                return change
            updates: dict[str, Any] = {"fields": new, "updated_at": iso(now)}
            if EMAIL_FIELD in changed and new.get(EMAIL_FIELD):
                updates.update(_new_address(tx, customer, str(new[EMAIL_FIELD])))
            customer = tx.collection("customers").update(customer_id, updates)
            audit(
                tx,
                now,
                "customer.update",
                actor=actor,
                customer_id=customer_id,
                before=change.before,
                after=change.after,
            )
            _emit_updated(tx, now, customer, changed)
        return change

    def set_opt_ins(
        self,
        merchant: str,
        config: MerchantConfig,
        customer_id: str,
        choices: Mapping[str, bool],
        texts: Mapping[str, str],
        language: str,
        *,
        actor: str,
    ) -> Change:
        """Give or withdraw optional consents: ``choices`` by consent name (others are
        ignored), ``texts`` the labels as shown, kept with a consent given."""
        now = self.clock()
        with self.store.write(merchant) as tx:
            customer = _customer(tx, customer_id)
            current = {o.name: o.given for o in _opt_ins(tx, customer, config)}
            wanted = {name: bool(choices.get(name)) for name in current}
            changed = sorted(name for name in current if current[name] != wanted[name])
            change = Change(
                before={name: current[name] for name in changed},
                after={name: wanted[name] for name in changed},
            )
            if not change:
                return change
            opt_ins = dict(customer.get("opt_ins") or {})
            for name in changed:
                opt_ins[name] = {
                    "given": wanted[name],
                    "at": iso(now),
                    "text": texts.get(name, "") if wanted[name] else None,
                    "language": language,
                }
            customer = tx.collection("customers").update(
                customer_id, {"opt_ins": opt_ins, "updated_at": iso(now)}
            )
            audit(
                tx,
                now,
                "customer.opt_ins",
                actor=actor,
                customer_id=customer_id,
                before=change.before,
                after=change.after,
            )
            _emit_updated(
                tx,
                now,
                customer,
                [f"opt_ins.{name}" for name in changed],
                opt_ins={**current, **wanted},
            )
        return change


def _customer(tx: ReadTransaction, customer_id: str) -> dict[str, Any]:
    customer = tx.collection("customers").get(customer_id)
    if customer is None:
        raise UnknownCustomer(customer_id)
    return customer


def _opt_ins(
    tx: ReadTransaction, customer: Mapping[str, Any], config: MerchantConfig
) -> tuple[OptIn, ...]:
    """Each optional consent: as last changed in the portal, else as given (or not) at sign-up."""
    changed = customer.get("opt_ins") or {}
    given = {
        c["name"]: c["given_at"] for c in tx.collection("consents").find(customer_id=customer["id"])
    }
    opt_ins = []
    for consent in optional_consents(config):
        if consent.name in changed:
            choice = changed[consent.name]
            opt_ins.append(OptIn(consent.name, bool(choice["given"]), choice["at"]))
        else:
            opt_ins.append(OptIn(consent.name, consent.name in given, given.get(consent.name)))
    return tuple(opt_ins)


def _new_address(tx: WriteTransaction, customer: Mapping[str, Any], email: str) -> dict[str, str]:
    """The customer's new sign-in address, checked and with its sessions moved along."""
    key = email_key(email)
    customers = tx.collection("customers")
    if any(other["id"] != customer["id"] for other in customers.find(email_key=key)):
        raise EmailTaken(email)
    sessions = tx.collection("sessions")
    for session in sessions.find(customer_id=customer["id"], email_key=customer["email_key"]):
        sessions.update(session["id"], {"email_key": key})
    return {"email": email, "email_key": key}


def _emit_updated(
    tx: WriteTransaction,
    now: datetime,
    customer: Mapping[str, Any],
    changed: Sequence[str],
    **extra: Any,
) -> None:
    """``customer.updated``: the customer as it is now, and which details changed."""
    data = {
        "id": customer["id"],
        "number": customer["number"],
        "email": customer["email"],
        "fields": dict(customer.get("fields") or {}),
        "changed": list(changed),
        **extra,
    }
    emit(tx, now, "customer.updated", data, customer_id=customer["id"])
