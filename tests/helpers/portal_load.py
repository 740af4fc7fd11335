"""Signed-in customers changing things in the portal under load, and what must hold afterwards.

A portal client (:func:`run_portal_client`, a process of its own) signs one
customer up through the order page, signs in with a link minted on the
server's own data files (as ``portico portal-link`` does) and then, round
after round, edits a detail with a counter value, turns auto-pay on and off
(acme), cancels and undoes (acme, stromma) or switches plans (thistle), and
now and then sends a change the portal must refuse: an emptied required
field, an undo with nothing to undo. Each change is noted (a ``portal`` line
of JSON) before it is sent and again with its outcome:

- ``ack``: answered with the success redirect;
- ``refused``: answered 422 at the first attempt, so nothing was applied;
- ``unclear``: the connection dropped and the same post went again (the first
  may have been applied, and then the second is refused), or no answer came;
- ``expired``: the preview was too old to confirm; nothing was applied.

:func:`check_portal` holds the merchant files against these notes.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from html import unescape
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from app.portal import PortalServices
from app.portal.tokens import DIRECT
from app.store import open_store
from tests.helpers.harness import (
    MERCHANTS,
    SECRET_KEY,
    ClientPlan,
    Notebook,
    _note_answer,
    _retrying,
    read_data_file,
)
from tests.helpers.orders import VALID, form_token

DETAIL = {"acme": "company", "stromma": "name", "thistle": "company"}  # a required text field
CANCEL_REASON = {"acme": "too_expensive", "stromma": "price"}
PLANS = ("office-small", "office-large")  # thistle's, switched at once both ways
ROUNDS = {
    "acme": ("details", "auto_pay", "cancel", "details", "refuse_details", "auto_pay", "cancel"),
    "stromma": ("details", "cancel", "details", "cancel", "refuse_undo", "refuse_details"),
    "thistle": ("details", "plan", "details", "refuse_details", "plan"),
}
TOGGLES = ("auto_pay", "cancel", "plan")  # a refusal of these says the state is the value already
AUDITED = {  # kind → the audit actions its applied changes write
    "details": ("customer.update",),
    "auto_pay": ("customer.auto_pay",),
    "cancel": ("subscription.schedule_cancel", "subscription.undo_cancel"),
    "plan": ("subscription.change_plan",),
}


@dataclass(frozen=True)
class PortalPlan(ClientPlan):
    """A portal client: ``signups`` is unused; ``rounds`` changes, or changes until ``until``."""

    data_dir: Path = Path()  # the server's data files, where sign-in links are minted
    rounds: int | None = None


def portal_email(number: int) -> str:
    return f"portal.{number}@example.com"


class PortalClient:
    """One signed-in customer of one merchant, changing things over HTTP."""

    def __init__(self, plan: PortalPlan, notes: Notebook) -> None:
        self.plan = plan
        self.notes = notes
        self.merchant = MERCHANTS[plan.number % len(MERCHANTS)]
        self.email = portal_email(plan.number)
        self.cookie = ""
        self.csrf = ""
        self.seq = 0
        self.believed: dict[str, tuple[Any, bool]] = {  # kind → (value, certain)
            "auto_pay": (None, False),
            "cancel": (False, True),
            "plan": (VALID[self.merchant]["plan"], True),
        }

    # --- getting in ---------------------------------------------------------

    def sign_up(self) -> bool:
        page = _retrying(self.plan, self.notes, "GET", f"/{self.merchant}/order")
        if page is None or page[0] != 200:
            return False
        data = {**VALID[self.merchant], "email": self.email}
        data["form_token"] = form_token(page[2].decode())
        post = f"/{self.merchant}/order"
        answer = _retrying(self.plan, self.notes, "POST", post, urlencode(data).encode())
        return _note_answer(self.notes, self.merchant, self.email, answer) is not None

    def sign_in(self, attempts: int = 5) -> bool:
        """A link as ``portico portal-link`` prints it, opened and confirmed; a confirmation
        cut off by a crash used its token up, so the next attempt mints another."""
        tokens = PortalServices(open_store("tinydb", self.plan.data_dir), SECRET_KEY).tokens
        for _ in range(attempts):
            issued = tokens.issue(self.merchant, self.email, language="en", channel=DIRECT)
            assert issued is not None
            path = f"/{self.merchant}/portal/verify/{issued.token}?lang=en"
            page = _retrying(self.plan, self.notes, "GET", path)
            if page is None or page[0] != 200:
                continue
            body = urlencode({"form_token": form_token(page[2].decode())}).encode()
            answer = _retrying(self.plan, self.notes, "POST", path, body)
            if answer is not None and answer[0] == 303:
                cookie = SimpleCookie(answer[1].get("set-cookie", "")).get(
                    f"portico-{self.merchant}"
                )
                if cookie is not None:
                    self.cookie = f"portico-{self.merchant}={cookie.value}"
                    break
        else:
            return False
        details = self.get(f"/{self.merchant}/portal/details?lang=en")
        if details is None or details[0] != 200:
            return False
        self.csrf = _hidden(details[2].decode(), "csrf_token")
        return True

    # --- changing -----------------------------------------------------------

    def get(self, path: str):
        return _retrying(self.plan, self.notes, "GET", path, headers={"Cookie": self.cookie})

    def post(self, path: str, data: dict[str, str]):
        """The answer, and whether the post had to be sent again."""
        before = self.notes.retried
        body = urlencode({**data, "csrf_token": self.csrf}).encode()
        answer = _retrying(
            self.plan, self.notes, "POST", path, body, headers={"Cookie": self.cookie}
        )
        return answer, self.notes.retried > before

    def round(self, step: str, count: int) -> None:
        merchant = self.merchant
        if step == "refuse_undo" and self.believed["cancel"] != (False, True):
            step = "details"  # an undo is certain to be refused only with nothing to undo
        if step == "details":
            value = f"{DETAIL[merchant].title()} {self.plan.number}-{count}"
            self.details(value)
        elif step == "refuse_details":
            self.details("", expect_refusal=True)
        elif step == "auto_pay":
            value = not self.believed["auto_pay"][0]
            path = f"/{merchant}/portal/payment-methods?lang=en"
            done = f"done=auto_pay_{'on' if value else 'off'}"
            data = {"action": "auto_pay", "auto_pay": "on" if value else "off"}
            self.change("auto_pay", value, path, data, done)
        elif step in ("cancel", "refuse_undo"):
            pending = self.believed["cancel"][0]
            if pending or step == "refuse_undo":
                path = f"/{merchant}/portal/subscription/cancel/undo?lang=en"
                self.change("cancel", False, path, {}, "done=cancel_undone", step == "refuse_undo")
            else:
                path = f"/{merchant}/portal/subscription/cancel?lang=en"
                data = {"reason": CANCEL_REASON[merchant]}
                self.change("cancel", True, path, data, "done=cancel_scheduled", preview=True)
        elif step == "plan":
            value = PLANS[1 - PLANS.index(self.believed["plan"][0])]
            path = f"/{merchant}/portal/subscription/change?lang=en"
            self.change("plan", value, path, {"plan": value}, "done=plan_change", preview=True)

    def details(self, value: str, expect_refusal: bool = False) -> None:
        path = f"/{self.merchant}/portal/details?lang=en"
        data = {**VALID[self.merchant], "email": self.email, DETAIL[self.merchant]: value}
        self.change("details", value, path, data, "saved=1", expect_refusal)

    def change(
        self,
        kind: str,
        value: Any,
        path: str,
        data: dict[str, str],
        done: str,
        expect_refusal: bool = False,
        preview: bool = False,
    ) -> None:
        """Send one change (after its preview, if it has one) and note what came of it."""
        self.seq += 1
        self.note(event="sent", kind=kind, value=value)
        if preview:  # a preview applies nothing, however often it is sent
            answer, _ = self.post(path, data)
            if answer is not None and answer[0] == 200:
                data = {**data, "step": "confirm", "at": _hidden(answer[2].decode(), "at")}
                answer, retried = self.post(path, data)
            else:
                retried = False
        else:
            answer, retried = self.post(path, data)
        outcome = self.outcome(answer, done, retried, confirming=preview)
        if outcome == "ack" and expect_refusal:
            self.notes.write(f"error {self.merchant} portal {kind} {value!r} was accepted\n")
        if outcome == "ack" or (outcome == "refused" and kind in TOGGLES):
            self.believed[kind] = (value, True)
        elif outcome == "unclear" and kind in TOGGLES:
            self.believed[kind] = (value, False)  # try the other way next; a refusal tells
        self.note(event=outcome, kind=kind, value=value)

    def outcome(self, answer, done: str, retried: bool, confirming: bool) -> str:
        if answer is None:
            return "unclear"
        status, headers, content = answer
        if status == 303 and done in headers.get("location", ""):
            return "ack"
        if status == 422 or (status == 200 and confirming):  # 200: the preview expired
            return "unclear" if retried else ("refused" if status == 422 else "expired")
        snippet = content[:120].decode(errors="replace").replace("\n", " ")
        where = headers.get("location", "")
        self.notes.write(f"error {self.merchant} portal {status} {where} {snippet}\n")
        return "unclear"

    def note(self, **fields: Any) -> None:
        line = {"merchant": self.merchant, "email": self.email, "seq": self.seq, **fields}
        self.notes.write(f"portal {json.dumps(line)}\n")


def run_portal_client(plan: PortalPlan) -> None:
    notes = Notebook(plan.notes)
    client = PortalClient(plan, notes)
    try:
        if not client.sign_up():
            notes.write(f"error {client.merchant} portal sign-up failed\n")
            return
        if not client.sign_in():
            notes.write(f"error {client.merchant} portal sign-in failed\n")
            return
        count = 0
        steps = ROUNDS[client.merchant]
        while plan.goes_on(count, plan.rounds):
            client.round(steps[count % len(steps)], count)
            count += 1
    finally:
        notes.close()


def _hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden input {name}"
    return unescape(match.group(1))


# --- afterwards -------------------------------------------------------------


def acknowledged_so_far(paths: list[Path]) -> int:
    """How many portal changes were acknowledged until now (the clients still run)."""
    return sum(path.read_text().count('"event": "ack"') for path in paths if path.exists())


@dataclass(frozen=True)
class Change:
    seq: int
    kind: str
    value: Any
    outcome: str  # ack | refused | unclear | expired


def read_changes(paths: list[Path]) -> dict[tuple[str, str], list[Change]]:
    """Every change each portal customer sent, in order, with its outcome."""
    sent: dict[tuple[str, str, int], dict] = {}
    outcomes: dict[tuple[str, str, int], str] = {}
    for path in paths:
        for line in path.read_text().split("\n")[:-1]:
            kind, _, rest = line.partition(" ")
            if kind != "portal":
                continue
            note = json.loads(rest)
            key = (note["merchant"], note["email"], note["seq"])
            if note["event"] == "sent":
                sent[key] = note
            else:
                outcomes[key] = note["event"]
    changes: dict[tuple[str, str], list[Change]] = defaultdict(list)
    for key in sorted(sent):
        note = sent[key]
        changes[key[:2]].append(Change(key[2], note["kind"], note["value"], outcomes[key]))
    return dict(changes)


def check_portal(data_dir: Path, changes: dict[tuple[str, str], list[Change]]) -> Counter:
    """Assert that every acknowledged portal change is stored and audited, and no refused one.

    Per customer and kind of change: the stored value is the last acknowledged
    one, or one sent after it whose answer was lost; every acknowledged change
    has its audit entry, a refused one none (a count between the acknowledged
    changes and those that may have been applied, refused ones excluded).
    Returns the outcomes counted per kind.
    """
    tally: Counter = Counter()
    files = {m: read_data_file(data_dir / f"{m}.json") for m in MERCHANTS}
    for (merchant, email), sent in changes.items():
        data = files[merchant]
        customers = [c for c in data["customers"].values() if c["email_key"] == email]
        assert len(customers) == 1, f"{merchant}: {email} is stored {len(customers)} times"
        customer = customers[0]
        subscriptions = [
            s for s in data["subscriptions"].values() if s["customer_id"] == customer["id"]
        ]
        assert len(subscriptions) == 1, f"{merchant}: {email} has {len(subscriptions)}"
        stored = {
            "details": customer["fields"].get(DETAIL[merchant]),
            "auto_pay": customer.get("auto_pay"),
            "cancel": subscriptions[0]["cancel_at_period_end"],
            "plan": subscriptions[0]["plan_id"],
        }
        audits = [
            a
            for a in data.get("audit", {}).values()
            if a["customer_id"] == customer["id"] and a["actor"] == f"portal:{email}"
        ]
        for kind in {change.kind for change in sent}:
            mine = [change for change in sent if change.kind == kind]
            tally.update(f"{kind} {change.outcome}" for change in mine)
            _check_kind(merchant, email, kind, mine, stored[kind], audits)
    return tally


def _check_kind(
    merchant: str, email: str, kind: str, sent: list[Change], stored: Any, audits: list[dict]
) -> None:
    where = f"{merchant} {email} {kind}"
    acked = [change for change in sent if change.outcome == "ack"]
    maybe = [change for change in sent if change.outcome in ("ack", "unclear")]
    if acked:
        last = acked[-1]
        allowed = [last.value] + [c.value for c in maybe if c.seq > last.seq]
        assert stored in allowed, f"{where}: stored {stored!r}, acknowledged {last.value!r}"
    for action in AUDITED[kind]:
        entries = [a for a in audits if a["action"] == action]
        if kind == "cancel":  # a scheduled cancellation sets the flag, an undo clears it
            wanted = action.endswith("schedule_cancel")
            acked_here = [c for c in acked if c.value == wanted]
            maybe_here = [c for c in maybe if c.value == wanted]
        elif kind == "auto_pay":  # setting what is set is answered as done and audits nothing
            assert all(a["before"] != a["after"] for a in entries), f"{where}: a no-op audited"
            # Between two acknowledged changes to different values, at least one change.
            acked_here = [c for prev, c in itertools.pairwise(acked) if c.value != prev.value]
            maybe_here = maybe
        else:
            acked_here, maybe_here = acked, maybe
        assert len(acked_here) <= len(entries) <= len(maybe_here), (
            f"{where}: {len(entries)} {action} entries for {len(acked_here)} acknowledged"
            f" and {len(maybe_here)} possibly applied changes"
        )
    if kind == "details":
        field = DETAIL[merchant]
        written = [a["after"].get(field) for a in audits if field in (a["after"] or {})]
        for change in sent:
            if change.outcome == "ack":
                assert change.value in written, f"{where}: no audit entry for {change.value!r}"
            if change.outcome == "refused":  # an emptied required field
                assert {change.value, None}.isdisjoint(written), f"{where}: a refusal audited"
                assert stored not in (change.value, None), f"{where}: a refusal stored"
    if kind == "plan":
        written = [a["after"]["plan_id"] for a in audits if a["action"].endswith("change_plan")]
        assert Counter(c.value for c in acked) <= Counter(written), where
