"""Business metrics of one merchant over a period, computed from the store.

Definitions (the dashboard and ``portico metrics`` say the same):

- A subscription is *paying* from its start, or the end of its trial, until it
  ends (``ended_at``); paused subscriptions are left out.
- *MRR* is the sum of the paying subscriptions' prices normalised to one
  month (a yearly price / 12, a weekly price * 365.2425 / 12 / 7), at their own
  stored price, before coupons and tax, rounded once.
- *Churn rate*: of the subscriptions paying at any time in the period, the
  share that ended in it. A trial canceled before it ended is not churn; it is
  a trial that did not convert.
- *Trial conversion*: of the trials that ended in the period, the share whose
  subscription was still running after the trial.
- The *funnel* counts order-page views and submits (recorded by the order page
  in the ``metrics`` collection, one document per day, language and channel)
  and completed sign-ups (the ``signups`` collection).

Times are UTC; the period includes ``since`` and excludes ``until``.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from app.billing.plans import INTERVAL_DAYS
from app.billing.rounding import divide
from app.core.clock import parse_iso
from app.core.money import to_decimal
from app.store import Store

log = logging.getLogger(__name__)
Document = Mapping[str, Any]
FUNNEL_EVENTS = {"view": "views", "submit": "submits"}
CHANNELS = ("link", "embed")
PORTAL_ACTOR = "portal:"


# --- recording the order page's funnel ---------------------------------------


def record_funnel(
    store: Store,
    merchant: str,
    event: str,
    language: str,
    channel: str,
    at: datetime,
    count: int = 1,
) -> None:
    """Add ``count`` order-page ``view``s or ``submit``s: one small document per day,
    language and channel, updated in place, so the data grows by days, not by visits."""
    counter = FUNNEL_EVENTS[event]
    day = at.astimezone(UTC).date().isoformat()
    key = f"funnel:{day}:{language}:{channel}"
    with store.write(merchant) as tx:
        metrics = tx.collection("metrics")
        document = metrics.get(key)
        if document is None:
            empty = {name: 0 for name in FUNNEL_EVENTS.values()}
            metrics.insert(
                {"id": key, "kind": "funnel", "day": day, "language": language,
                 "channel": channel, **empty, counter: count}
            )  # fmt: skip
        else:
            metrics.update(key, {counter: document.get(counter, 0) + count})


FunnelKey = tuple[str, str, str, str, datetime]  # merchant, event, language, channel, day


class FunnelCounter:
    """Order-page views and submits, added up in memory and written every few seconds.

    A write per page view would rewrite the merchant's whole data file under its
    lock for every visitor; the funnel only needs counts per day, so each process
    keeps them here and writes them at most every ``interval`` seconds (and when
    :meth:`flush` is called). A process killed with ``kill -9`` loses at most
    that many seconds of counts, never a sign-up.
    """

    def __init__(
        self, store: Store, interval: float = 10.0, timer: Callable[[], float] = monotonic
    ) -> None:
        self.store = store
        self.interval = interval
        self._timer = timer
        self._pending: Counter[FunnelKey] = Counter()
        self._lock = threading.Lock()
        self._last_flush = timer()

    def count(self, merchant: str, event: str, language: str, channel: str, at: datetime) -> None:
        day = datetime.combine(at.astimezone(UTC).date(), datetime.min.time(), UTC)
        with self._lock:
            self._pending[(merchant, event, language, channel, day)] += 1
            due = self._timer() - self._last_flush >= self.interval
        if due:
            self.flush()

    def close(self) -> None:
        """Write what is left when the process ends; a failure is logged, not raised."""
        try:
            self.flush()
        except Exception:
            log.exception("order-page counts of this process were not written")

    def flush(self) -> None:
        """Write what was counted since the last flush; on a failure the counts stay."""
        with self._lock:
            pending, self._pending = self._pending, Counter()
            self._last_flush = self._timer()
        while pending:
            key, count = next(iter(pending.items()))
            merchant, event, language, channel, day = key
            try:
                record_funnel(self.store, merchant, event, language, channel, day, count)
            except Exception:
                with self._lock:
                    self._pending.update(pending)
                raise
            del pending[key]


def period(
    since: date | None, until: date | None, timezone: str, now: datetime
) -> tuple[datetime, datetime]:
    """Whole days in the merchant's time zone: from the start of ``since`` to the end of
    ``until`` (default: today, and a year before it)."""
    zone = ZoneInfo(timezone)
    last = until or now.astimezone(zone).date()
    first = since or last - timedelta(days=365)
    start = datetime.combine(first, time(), zone)
    end = datetime.combine(last + timedelta(days=1), time(), zone)
    return start, end


# --- the report ---------------------------------------------------------------


@dataclass(frozen=True)
class MonthPoint:
    month: str  # 2026-03
    mrr: int  # minor units, at the end of the month (or of the period)


@dataclass(frozen=True)
class PlanCount:
    plan: str
    paying: int
    trialing: int


@dataclass(frozen=True)
class FunnelRow:
    language: str
    channel: str
    views: int
    submits: int
    completed: int


@dataclass(frozen=True)
class Report:
    since: datetime
    until: datetime
    currency: str
    mrr: int
    mrr_by_month: tuple[MonthPoint, ...]
    by_plan: tuple[PlanCount, ...]
    new: int
    churned: int
    churn_rate: Decimal | None  # 0..1, None when nothing was paying
    trials_ended: int
    trials_converted: int
    trial_conversion: Decimal | None
    funnel: tuple[FunnelRow, ...]
    signins: int
    portal_actions: tuple[tuple[str, int], ...]
    ratings: int
    satisfaction: Decimal | None  # the average rating, 1..5
    cancellation_reasons: tuple[tuple[str, int], ...]

    def amount(self, minor: int) -> Decimal:
        return to_decimal(minor, self.currency)


def compute(
    store: Store, merchant: str, currency: str, since: datetime, until: datetime, now: datetime
) -> Report:
    """The merchant's metrics for ``[since, until)``; ``until`` is cut to ``now``."""
    since, until = since.astimezone(UTC), min(until, now).astimezone(UTC)
    with store.read(merchant) as tx:
        subscriptions = [_Subscription.of(s) for s in tx.collection("subscriptions").all()]
        funnel_counts = [m for m in tx.collection("metrics").all() if m.get("kind") == "funnel"]
        signups = list(tx.collection("signups").all())
        languages = {c["id"]: c.get("language") or "" for c in tx.collection("customers").all()}
        audit = [a for a in tx.collection("audit").all() if _within(a.get("at"), since, until)]
        feedback = [
            f for f in tx.collection("feedback").all() if _within(f.get("at"), since, until)
        ]
    priced = [s for s in subscriptions if s.currency == currency and not s.paused]
    paying = [
        s
        for s in subscriptions
        if s.paying_from < s.end and s.paying_from < until and s.end > since
    ]
    churned = [s for s in paying if since <= s.end < until]
    trials = [s for s in subscriptions if s.trial_end is not None and since <= s.trial_end < until]
    converted = [s for s in trials if s.end > s.trial_end]  # type: ignore[operator]
    portal = [a for a in audit if str(a.get("actor", "")).startswith(PORTAL_ACTOR)]
    ratings = [int(f["rating"]) for f in feedback if isinstance(f.get("rating"), int)]
    return Report(
        since=since,
        until=until,
        currency=currency,
        mrr=_mrr(priced, until),
        mrr_by_month=tuple(
            MonthPoint(label, _mrr(priced, end)) for label, end in _month_ends(since, until)
        ),
        by_plan=_by_plan(subscriptions, until),
        new=sum(1 for s in subscriptions if since <= s.created < until),
        churned=len(churned),
        churn_rate=_ratio(len(churned), len(paying)),
        trials_ended=len(trials),
        trials_converted=len(converted),
        trial_conversion=_ratio(len(converted), len(trials)),
        funnel=_funnel(funnel_counts, signups, languages, since, until),
        signins=sum(1 for a in portal if a["action"] == "portal.signin"),
        portal_actions=tuple(sorted(Counter(a["action"] for a in portal).items())),
        ratings=len(ratings),
        satisfaction=_ratio(sum(ratings), len(ratings)),
        cancellation_reasons=tuple(sorted(_reasons(subscriptions, since, until).items())),
    )


FAR_FUTURE = datetime.max.replace(tzinfo=UTC)
_INSTANT = datetime.resolution


@dataclass(frozen=True)
class _Subscription:
    plan: str
    created: datetime
    trial_end: datetime | None
    end: datetime  # FAR_FUTURE while running
    paused: bool
    currency: str
    monthly: Fraction  # the price per month, in minor units
    reason: str | None
    cancel_requested: datetime | None

    @property
    def paying_from(self) -> datetime:
        return max(self.created, self.trial_end) if self.trial_end else self.created

    def paying_at(self, moment: datetime) -> bool:
        return self.paying_from <= moment < self.end

    @classmethod
    def of(cls, s: Document) -> _Subscription:
        length = INTERVAL_DAYS[s["interval"]] * s["interval_count"]
        requested = s.get("cancel_requested_at") or s.get("canceled_at")
        return cls(
            plan=s["plan_id"],
            created=parse_iso(s["created_at"]),
            trial_end=parse_iso(s["trial_end"]) if s.get("trial_end") else None,
            end=parse_iso(s["ended_at"]) if s.get("ended_at") else FAR_FUTURE,
            paused=s["status"] == "paused",
            currency=s["currency"],
            monthly=Fraction(s["price"]) * INTERVAL_DAYS["month"] / length,
            reason=s.get("cancel_reason"),
            cancel_requested=parse_iso(requested) if requested else None,
        )


def _within(value: object, since: datetime, until: datetime) -> bool:
    return isinstance(value, str) and since <= parse_iso(value) < until


def _ratio(part: int, whole: int) -> Decimal | None:
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001")) if whole else None


def _mrr(subscriptions: Iterable[_Subscription], moment: datetime) -> int:
    total = sum((s.monthly for s in subscriptions if s.paying_at(moment)), Fraction(0))
    return divide(total.numerator, total.denominator)


def _month_ends(since: datetime, until: datetime) -> list[tuple[str, datetime]]:
    """Each month the period touches, with the moment its MRR is read: the month's
    last instant, or the period's end for the last month."""
    points = []
    year, month = since.year, since.month
    while True:
        following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        end = min(following, until)
        points.append((f"{year:04d}-{month:02d}", end - _INSTANT))
        if following >= until:
            return points
        year, month = following.year, following.month


def _by_plan(subscriptions: list[_Subscription], moment: datetime) -> tuple[PlanCount, ...]:
    paying = Counter(s.plan for s in subscriptions if s.paying_at(moment) and not s.paused)
    trialing = Counter(
        s.plan
        for s in subscriptions
        if s.trial_end and s.created <= moment < min(s.trial_end, s.end)
    )
    plans = sorted(set(paying) | set(trialing))
    return tuple(PlanCount(plan, paying[plan], trialing[plan]) for plan in plans)


def _funnel(
    counts: Sequence[Document],
    signups: Sequence[Document],
    languages: Mapping[str, str],
    since: datetime,
    until: datetime,
) -> tuple[FunnelRow, ...]:
    first, last = since.date().isoformat(), until.date().isoformat()
    views: Counter[tuple[str, str]] = Counter()
    submits: Counter[tuple[str, str]] = Counter()
    for document in counts:
        if first <= document["day"] <= last:
            key = (document["language"], document["channel"])
            views[key] += document.get("views", 0)
            submits[key] += document.get("submits", 0)
    completed = Counter(
        (languages.get(s["customer_id"], ""), s.get("channel") or "link")
        for s in signups
        if _within(s.get("created_at"), since, until)
    )
    keys = sorted(set(views) | set(submits) | set(completed))
    return tuple(FunnelRow(lang, channel, views[(lang, channel)], submits[(lang, channel)],
                           completed[(lang, channel)]) for lang, channel in keys)  # fmt: skip


def _reasons(subscriptions: list[_Subscription], since: datetime, until: datetime) -> Counter[str]:
    return Counter(
        s.reason
        for s in subscriptions
        if s.reason and s.cancel_requested and since <= s.cancel_requested < until
    )


# --- text and CSV -------------------------------------------------------------


def rows(report: Report) -> list[tuple[str, str, str]]:
    """The report as ``(section, key, value)`` rows: the CSV download and ``--format csv``."""
    amount = report.amount
    out = [
        ("period", "since", report.since.isoformat()),
        ("period", "until", report.until.isoformat()),
        ("mrr", report.currency, str(amount(report.mrr))),
        *(("mrr_by_month", p.month, str(amount(p.mrr))) for p in report.mrr_by_month),
        *(("paying_by_plan", p.plan, str(p.paying)) for p in report.by_plan),
        *(("trialing_by_plan", p.plan, str(p.trialing)) for p in report.by_plan),
        ("subscriptions", "new", str(report.new)),
        ("subscriptions", "churned", str(report.churned)),
        ("subscriptions", "churn_rate", _text(report.churn_rate)),
        ("trials", "ended", str(report.trials_ended)),
        ("trials", "converted", str(report.trials_converted)),
        ("trials", "conversion_rate", _text(report.trial_conversion)),
    ]
    for row in report.funnel:
        key = f"{row.language}/{row.channel}"
        out += [("funnel_views", key, str(row.views)), ("funnel_submits", key, str(row.submits)),
                ("funnel_completed", key, str(row.completed))]  # fmt: skip
    out.append(("portal", "signins", str(report.signins)))
    out += [("portal_actions", action, str(count)) for action, count in report.portal_actions]
    out += [("satisfaction", "ratings", str(report.ratings)),
            ("satisfaction", "average", _text(report.satisfaction))]  # fmt: skip
    out += [("cancellation_reasons", reason, str(n)) for reason, n in report.cancellation_reasons]
    return out


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)
