"""Metrics on a year of seeded data with known answers, the order page's funnel
counters, ``portico metrics`` and the dashboard's CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.reports import metrics
from app.reports.preview import PreviewTokens
from app.store import Store
from tests.helpers.app import DEMO_CONFIG, SECRET_KEY
from tests.helpers.orders import VALID, open_form, stored

SINCE = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 1, 15, tzinfo=UTC)


def at(text: str) -> str:
    return f"{text}T12:00:00+00:00"


def subscription(
    key: str, plan: str, price: int, interval: str, created: str,
    trial_end: str | None = None, ended: str | None = None, reason: str | None = None,
) -> dict:  # fmt: skip
    return {
        "id": f"sub_{key}", "customer_id": f"cus_{key}", "plan_id": plan,
        "status": "canceled" if ended else "trialing" if trial_end and trial_end > "2026" else "active",
        "price": price, "currency": "EUR", "interval": interval, "interval_count": 1,
        "trial_end": at(trial_end) if trial_end else None, "created_at": at(created),
        "ended_at": at(ended) if ended else None, "canceled_at": at(ended) if ended else None,
        "cancel_reason": reason, "cancel_requested_at": at(ended) if reason and ended else None,
    }  # fmt: skip


SUBSCRIPTIONS = [
    subscription("a", "starter", 900, "month", "2025-01-10"),  # paying all year: 9.00
    subscription("b", "pro", 12000, "year", "2025-03-01"),  # 120.00 a year: 10.00 a month
    subscription("c", "weekly", 700, "week", "2025-02-01", ended="2025-06-15"),  # churned
    subscription("d", "business", 2000, "month", "2025-04-01", trial_end="2025-04-15"),  # converted
    # canceled during its trial: no churn, a trial that did not convert
    subscription(
        "e",
        "business",
        2000,
        "month",
        "2025-05-01",
        trial_end="2025-05-15",
        ended="2025-05-10",
        reason="too_expensive",
    ),
    # started before the period, churned in it
    subscription(
        "f", "starter", 900, "month", "2024-06-01", ended="2025-02-01", reason="too_expensive"
    ),
    subscription("h", "business", 2000, "month", "2025-12-20", trial_end="2026-01-03"),  # in trial
]


def seed(store: Store) -> None:
    with store.write("acme") as tx:
        for s in SUBSCRIPTIONS:
            tx.collection("subscriptions").insert(s)
        for key, language in (("a", "de"), ("b", "en")):
            tx.collection("customers").insert(
                {"id": f"cus_{key}", "number": f"C-{key}", "email": f"{key}@example.com",
                 "language": language, "created_at": at("2025-01-10")}
            )  # fmt: skip
        tx.collection("signups").insert(
            {
                "id": "sig_a",
                "customer_id": "cus_a",
                "channel": "link",
                "created_at": at("2025-01-10"),
            }
        )
        tx.collection("signups").insert(
            {
                "id": "sig_b",
                "customer_id": "cus_b",
                "channel": "embed",
                "created_at": at("2025-03-01"),
            }
        )
        for n, (actor, action, day) in enumerate(
            [
                ("portal:a@example.com", "portal.signin", "2025-02-01"),
                ("portal:a@example.com", "portal.signin", "2025-03-01"),
                ("portal:b@example.com", "portal.signin", "2025-04-01"),
                ("portal:b@example.com", "subscription.cancel", "2025-04-01"),
                ("cli", "access.add", "2025-04-01"),  # not the portal
                ("portal:a@example.com", "portal.signin", "2024-12-31"),  # before the period
            ]
        ):
            tx.collection("audit").insert(
                {"id": f"aud_{n}", "actor": actor, "action": action, "at": at(day)}
            )
        for n, (rating, day) in enumerate(
            [(5, "2025-02-01"), (4, "2025-06-01"), (2, "2025-09-01"), (1, "2024-01-01")]
        ):
            tx.collection("feedback").insert(
                {"id": f"fb_{n}", "rating": rating, "comment": "", "action": "cancel",
                 "customer_id": "cus_a", "at": at(day)}
            )  # fmt: skip
    views = [("de", "link", "2025-01-10")] * 3 + [("en", "embed", "2025-03-01")] * 2
    for language, channel, day in [*views, ("de", "link", "2024-12-30")]:
        metrics.record_funnel(
            store, "acme", "view", language, channel, datetime.fromisoformat(at(day))
        )
    for language, channel, day in [("de", "link", "2025-01-10")] * 2 + [
        ("en", "embed", "2025-03-01")
    ]:
        metrics.record_funnel(
            store, "acme", "submit", language, channel, datetime.fromisoformat(at(day))
        )


@pytest.fixture
def store(app: Flask) -> Store:
    store = app.extensions["portico"].store
    seed(store)
    return store


def test_a_seeded_year_gives_the_known_numbers(store: Store) -> None:
    report = metrics.compute(store, "acme", "EUR", SINCE, UNTIL, NOW)
    assert report.mrr == 900 + 1000 + 2000  # a, b (yearly / 12), d; h is in its trial
    months = {point.month: point.mrr for point in report.mrr_by_month}
    assert len(months) == 12
    assert months["2025-01"] == 900 + 900  # a and f
    assert months["2025-02"] == 900 + 3044  # a and c: 7.00 a week is 30.436875 a month
    assert months["2025-12"] == report.mrr
    assert [(p.plan, p.paying, p.trialing) for p in report.by_plan] == [
        ("business", 1, 1), ("pro", 1, 0), ("starter", 1, 0),
    ]  # fmt: skip
    assert report.new == 6  # all but f
    assert report.churned == 2  # c and f; e never paid
    assert report.churn_rate == Decimal("0.4")  # of a, b, c, d, f
    assert (report.trials_ended, report.trials_converted) == (2, 1)  # d converted, e did not
    assert report.trial_conversion == Decimal("0.5")
    funnel = {
        (row.language, row.channel): (row.views, row.submits, row.completed)
        for row in report.funnel
    }
    assert funnel == {("de", "link"): (3, 2, 1), ("en", "embed"): (2, 1, 1)}
    assert report.signins == 3
    assert dict(report.portal_actions) == {"portal.signin": 3, "subscription.cancel": 1}
    assert (report.ratings, report.satisfaction) == (3, Decimal("3.6667"))
    assert report.cancellation_reasons == (("too_expensive", 2),)


def test_a_shorter_period_counts_only_its_own_events(store: Store) -> None:
    report = metrics.compute(store, "acme", "EUR", datetime(2025, 6, 1, tzinfo=UTC), UNTIL, NOW)
    assert report.churned == 1 and report.churn_rate == Decimal("0.25")  # c of a, b, c, d
    assert report.trials_ended == 0 and report.trial_conversion is None
    assert report.funnel == () and report.signins == 0


def test_funnel_counts_are_one_document_per_day_language_and_channel(store: Store) -> None:
    with store.read("acme") as tx:
        documents = list(tx.collection("metrics").all())
    assert len(documents) == 3
    assert {d["id"] for d in documents} == {
        "funnel:2025-01-10:de:link", "funnel:2025-03-01:en:embed", "funnel:2024-12-30:de:link",
    }  # fmt: skip


def test_the_order_page_counts_views_and_submits(app: Flask, client: FlaskClient) -> None:
    client.get("/acme/order?lang=en")
    client.get("/acme/order?lang=en&embed=1")
    token = open_form(client, "acme", "?lang=de")
    response = client.post("/acme/order?lang=de", data={**VALID["acme"], "form_token": token})
    assert response.status_code == 303
    funnel = app.extensions["portico"].funnel
    assert stored(app, "acme", "metrics") == []  # counted in memory: no write per view
    funnel.flush()
    counts = {
        (d["language"], d["channel"]): (d["views"], d["submits"])
        for d in stored(app, "acme", "metrics")
    }
    assert counts == {("en", "link"): (1, 0), ("en", "embed"): (1, 0), ("de", "link"): (1, 1)}
    client.post(
        "/acme/order?lang=de", data={**VALID["acme"], "form_token": "forged"}
    )  # refused: no count
    funnel.flush()
    assert sum(d["submits"] for d in stored(app, "acme", "metrics")) == 1


def test_portico_metrics_prints_csv_and_json(
    app: Flask, store: Store, runner: CliRunner, instance_dir: Path
) -> None:
    env = {"PORTICO_INSTANCE_DIR": str(instance_dir), "PORTICO_CONFIG_DIR": str(DEMO_CONFIG)}
    args = ["metrics", "acme", "--since", "2025-01-01", "--until", "2025-12-31"]
    result = runner.invoke(main, [*args, "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = {(section, key): value for section, key, value in csv.reader(io.StringIO(result.stdout))}
    assert rows[("mrr", "EUR")] == "39.00"
    assert rows[("subscriptions", "churn_rate")] == "0.4000"
    assert rows[("funnel_views", "de/link")] == "3"
    data = json.loads(runner.invoke(main, [*args, "--format", "json"], env=env).stdout)
    assert data["mrr"] == 3900 and data["trials_converted"] == 1
    text = runner.invoke(main, args, env=env).stdout
    assert "39.00" in text
    bad = runner.invoke(
        main, ["metrics", "acme", "--since", "2025-02-01", "--until", "2025-01-01"], env=env
    )
    assert bad.exit_code == 2 and "--since is after --until" in bad.output


def test_dashboard_shows_the_numbers_and_offers_them_as_csv(
    store: Store, client: FlaskClient
) -> None:
    token = PreviewTokens(SECRET_KEY).issue("acme")
    query = f"token={token}&lang=en&since=2025-01-01&until=2025-12-31"
    html = client.get(f"/acme/preview/metrics?{query}").get_data(as_text=True)
    assert "€39.00" in html and "40.0 %" in html and "50.0 %" in html
    assert "Too expensive" in html  # the merchant's own words for the reason
    response = client.get(f"/acme/preview/metrics.csv?{query}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "mrr,EUR,39.00" in response.get_data(as_text=True)


def test_counts_are_written_once_the_interval_has_passed(store: Store) -> None:
    now = [0.0]
    funnel = metrics.FunnelCounter(store, interval=10, timer=lambda: now[0])
    day = datetime(2026, 5, 1, 12, tzinfo=UTC)
    before = {d["id"]: d["views"] for d in _funnel_documents(store)}
    for _ in range(3):
        funnel.count("acme", "view", "sv", "link", day)
    assert {d["id"]: d["views"] for d in _funnel_documents(store)} == before
    now[0] = 10.0
    funnel.count("acme", "view", "sv", "link", day)
    written = {d["id"]: d["views"] for d in _funnel_documents(store)}
    assert written == {**before, "funnel:2026-05-01:sv:link": 4}


def _funnel_documents(store: Store) -> list[dict]:
    with store.read("acme") as tx:
        return tx.collection("metrics").find(kind="funnel")
