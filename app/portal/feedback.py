"""A customer's rating of a portal action (1-5, with an optional comment).

Portal pages ask after an action (a plan change, a cancellation, saved
details); the answer is kept in the merchant's ``feedback`` collection and
announced as a ``portal.feedback`` event in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.core.clock import Clock, iso
from app.core.ids import new_id
from app.outbox.events import emit
from app.store import Store

RATINGS = ("1", "2", "3", "4", "5")
MAX_COMMENT_LENGTH = 1000
ACTION = re.compile(r"[a-z][a-z0-9_]{0,39}")  # e.g. "plan_change", "cancel", "details"


class InvalidFeedback(ValueError):
    """Feedback that cannot be kept; ``field`` names the input at fault."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class Feedback:
    rating: int
    comment: str
    action: str


def parse_feedback(rating: str | None, comment: str | None, action: str | None) -> Feedback:
    """Feedback from a form's inputs; :class:`InvalidFeedback` for the first bad one."""
    if rating not in RATINGS:
        raise InvalidFeedback("rating")
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidFeedback("comment")
    if not ACTION.fullmatch(action or ""):
        raise InvalidFeedback("action")
    return Feedback(int(rating), text, action or "")


class FeedbackBox:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def record(self, merchant: str, customer_id: str, feedback: Feedback) -> dict[str, Any]:
        """Keep the feedback and emit ``portal.feedback``; returns what was stored."""
        now = self.clock()
        with self.store.write(merchant) as tx:
            stored = tx.collection("feedback").insert(
                {
                    "id": new_id("fbk"),
                    "rating": feedback.rating,
                    "comment": feedback.comment,
                    "action": feedback.action,
                    "customer_id": customer_id,
                    "at": iso(now),
                }
            )
            emit(tx, now, "portal.feedback", stored, customer_id=customer_id)
        return stored
