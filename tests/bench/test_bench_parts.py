"""The benchmark's own parts: a seeded store must look like one real sign-ups built, and
the report must judge the targets from the figures it is given."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
import pytest

from app.store.postgres import PostgresStore
from bench import report, seed
from bench.load import Measured
from tests.helpers.app import DEMO_CONFIG, app_from
from tests.helpers.harness import read_data_file
from tests.helpers.orders import VALID, form_token
from tests.helpers.stores import empty_tables


@pytest.mark.parametrize("kind", ["tinydb", "postgresql"])
def test_a_seeded_store_is_what_sign_ups_would_have_built(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    template = seed.signup_documents(tmp_path / "template", DEMO_CONFIG)
    instance = tmp_path / "instance"
    store = "tinydb"
    if kind == "postgresql":
        store = request.getfixturevalue("postgres_url")
        empty_tables(store)
        indexes = _indexes(store)
    assert seed.top_up(instance, DEMO_CONFIG, store, template, 25) == 25
    assert seed.top_up(instance, DEMO_CONFIG, store, template, 40) == 40
    assert seed.top_up(instance, DEMO_CONFIG, store, template, 10) == 40  # never fewer
    if kind == "postgresql":
        assert _indexes(store) == indexes  # dropped for the COPY, built again

    data = _stored(instance, store)
    customers = data["customers"]
    numbers = sorted(int(c["number"].removeprefix("C-")) for c in customers.values())
    assert numbers == list(range(1, 41))
    assert len({c["email_key"] for c in customers.values()}) == 40
    invoices = sorted(i["number"] for i in data["invoices"].values())
    assert [int(n.rsplit("-", 1)[1]) for n in invoices] == list(range(1, 41))
    for signup in data["signups"].values():
        assert signup["customer_id"] in customers
        assert signup["subscription_id"] in data["subscriptions"]
        assert data["invoices"][signup["invoice_id"]]["customer_id"] == signup["customer_id"]
    assert len({s["nonce"] for s in data["signups"].values()}) == 40

    # The next real sign-up continues the numbers.
    app = app_from(seed.app_settings(instance, DEMO_CONFIG, store))
    client = app.test_client()
    page = client.get("/acme/order").get_data(as_text=True)
    answer = client.post("/acme/order", data={**VALID["acme"], "form_token": form_token(page)})
    assert answer.status_code == 303
    # The page view it counted is written now, while this test's schema still exists.
    app.extensions["portico"].funnel.close()
    data = _stored(instance, store)
    assert "C-000041" in {c["number"] for c in data["customers"].values()}


def _stored(instance: Path, store: str) -> dict:
    if store == "tinydb":
        return read_data_file(instance / "data" / "acme.json")
    postgres = PostgresStore(store)
    try:
        return postgres.export("acme")
    finally:
        postgres.close()


def _indexes(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema() AND tablename = 'documents' ORDER BY 1"
        ).fetchall()


def _measured(name: str, rps: float, p50: float) -> Measured:
    return Measured(
        name, requests=int(rps * 10), seconds=10, errors=0, p50_ms=p50, p99_ms=3 * p50, driver="wrk"
    )


def test_targets_are_ratios_of_the_same_run() -> None:
    results = report.Results(
        load=[_measured("order page", 90, 10), _measured("hand-written Flask-WTF page", 100, 9)],
        series={
            "TinyDB": [
                report.Point(100, _measured("s", 5, 100)),
                report.Point(10_000, _measured("s", 1, 250)),
            ],
            "PostgreSQL": [
                report.Point(1_000, _measured("s", 5, 100)),
                report.Point(1_000_000, _measured("s", 5, 140)),
            ],
        },
        bill={100: 10.0, 1_000: None},
        bill_cap=130.0,
    )
    goals = {t.name: t for t in report.targets(results, page_kib=41.0, foreign=0)}
    assert goals["order page req/s ÷ hand-written Flask-WTF req/s"].met is True  # 0.9
    assert goals["sign-up p50 at 10 000 ÷ p50 at 100 customers"].met is False  # 2.5
    postgres = goals["sign-up p50 at 1 000 000 ÷ p50 at 1 000 customers (PostgreSQL)"]
    assert (postgres.value, postgres.met) == ("1.40×", True)
    bill = goals["portico bill: 1 000 ÷ 100 subscriptions"]
    assert (bill.value, bill.met) == ("> 13.0×", False)  # stopped unfinished after 13 times
    assert goals["order page weight, all requests"].met is False
    assert goals["order page requests to another host"].met is True

    markdown = report.markdown(results, list(goals.values()), report.svg_chart(results.series))
    assert "| sign-up p50 at 10 000 ÷ p50 at 100 customers | 2.50× | ≤ 2 | **miss** |" in markdown
    assert "> 130 (stopped unfinished)" in markdown


def test_the_chart_is_svg_with_a_line_per_store_and_percentile() -> None:
    series = {
        "TinyDB": [
            report.Point(100, _measured("s", 5, 100)),
            report.Point(1_000, _measured("s", 2, 300)),
        ],
        "PostgreSQL": [
            report.Point(100, _measured("s", 5, 50)),
            report.Point(1_000_000, _measured("s", 5, 60)),
        ],
    }
    svg = ET.fromstring(report.svg_chart(series))
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 4
    assert all(len(line.get("points").split()) == 2 for line in lines)
    labels = [text.text for text in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert {"TinyDB p50", "TinyDB p99", "PostgreSQL p50", "PostgreSQL p99"} <= set(labels)
    assert "1 000 000" in labels
