"""Two Portico servers on one PostgreSQL database, with Redis for the rate limits.

The "done means" of scale-out: two gunicorn servers (each with its own
instance folder, as on two machines) answer sign-ups at once, some of them the
same form sent to both servers at the same moment; meanwhile both servers'
timers run ``portico webhooks deliver`` and ``portico bill``. Afterwards every
acknowledged sign-up is stored once, customer and invoice numbers have no gap,
no invoice was issued twice, each webhook event reached its endpoint once, and
a rate limit counts the requests of both servers together.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis

from app.store.postgres import PostgresStore
from tests.helpers.app import DEMO_CONFIG, ROOT
from tests.helpers.harness import (
    MERCHANTS,
    ClientPlan,
    Gunicorn,
    Notes,
    check_stored,
    read_data_file,
    request,
    run_client,
)
from tests.helpers.orders import VALID, form_token
from tests.helpers.stores import POSTGRES_URL
from tests.helpers.webhooks import Receiver

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("load")]  # one load at a time

spawn = multiprocessing.get_context("spawn")
REDIS_URL = os.environ.get("PORTICO_TEST_REDIS", "redis://127.0.0.1:6379/0")
CLIENTS = 4  # two per server
SIGNUPS_PER_CLIENT = 10  # every fifth sent twice at once to the same server
ACROSS_SERVERS = 6  # forms sent to both servers at the same moment
SUBSCRIBED = ("signup.completed", "subscription.created", "invoice.issued", "invoice.paid")


class Server(Gunicorn):
    """A Portico server of its own (instance folder, port) on the shared database."""

    def __init__(self, instance_dir: Path, log_path: Path, shared: dict[str, str]) -> None:
        super().__init__(instance_dir, log_path, workers=2)
        self.shared = shared

    def environment(self) -> dict[str, str]:
        return {**super().environment(), **self.shared}

    def portico(self, *args: str) -> subprocess.Popen:
        """A ``portico`` command as this server's timer runs it."""
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "portico"), *args],
            cwd=ROOT,
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )


def at_once(*processes: subprocess.Popen) -> list[tuple[int, str]]:
    """Wait for processes started together; their exit codes and output."""
    return [
        (process.wait(timeout=120), process.communicate()[0].decode(errors="replace"))
        for process in processes
    ]


@pytest.fixture
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        message = f"Redis at {REDIS_URL} cannot be reached: {error}"
        if POSTGRES_URL:
            pytest.fail(f"{message} (PORTICO_TEST_POSTGRES is set, so this test is mandatory)")
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join()


def webhook_config(tmp_path: Path, receiver: Receiver) -> tuple[Path, dict[str, str]]:
    """The demo merchants, each sending webhooks to ``receiver`` under its own path."""
    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config)
    secrets = {}
    for merchant in MERCHANTS:
        path = config / "merchants" / f"{merchant}.yaml"
        yaml = path.read_text(encoding="utf-8")
        head, _, _ = yaml.partition("\nwebhooks:")  # only the end of a file holds webhooks
        secret_env = f"PORTICO_{merchant.upper().replace('-', '_')}_WEBHOOK_SECRET"
        path.write_text(
            f'{head.rstrip()}\n\nwebhooks:\n  - url: "{receiver.url}/{merchant}"\n'
            f"    events: [{', '.join(SUBSCRIBED)}]\n    secret_env: {secret_env}\n",
            encoding="utf-8",
        )
        secrets[secret_env] = f"whsec-{merchant}-0123456789"
    return config, secrets


def send_to_both(servers: list[Server], merchant: str, email: str) -> set[str]:
    """One rendered form posted to both servers at the same moment: the sign-up ids told."""
    page = request(servers[0].url, "GET", f"/{merchant}/order")
    body = urlencode(
        {**VALID[merchant], "email": email, "form_token": form_token(page[2].decode())}
    )
    answers: list = [None] * len(servers)

    def post(slot: int) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        answers[slot] = request(
            servers[slot].url, "POST", f"/{merchant}/order", body.encode(), headers
        )

    threads = [threading.Thread(target=post, args=(slot,)) for slot in range(len(servers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [status for status, _, _ in answers] == [303] * len(servers), answers
    return {
        headers["location"].split("/order/complete/")[1].split("?")[0] for _, headers, _ in answers
    }


def run_clients(plans: list[ClientPlan]) -> list:
    children = [spawn.Process(target=run_client, args=(plan,)) for plan in plans]
    for child in children:
        child.start()
    return children


def export(store: PostgresStore, folder: Path) -> Path:
    """Each merchant's rows in the TinyDB file format, so the harness's checks read them."""
    folder.mkdir(exist_ok=True)
    for merchant in store.merchants():
        store.backup(merchant, folder / f"{merchant}.json")
    return folder


def check_invoices(data: dict, merchant: str) -> int:
    """Invoice numbers of each series count 1, 2, 3 …; no invoice was issued twice."""
    invoices = data.get("invoices", {}).values()
    series = defaultdict(list)
    for invoice in invoices:
        number = invoice["number"]
        prefix = number.rstrip("0123456789")
        series[prefix].append(int(number[len(prefix) :]))
    for prefix, numbers in series.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), f"{merchant} {prefix}: gaps"
    keys = Counter(invoice["key"] for invoice in invoices if invoice.get("key"))
    assert max(keys.values(), default=1) == 1, f"{merchant}: an invoice was issued twice"
    return len(invoices)


def test_two_servers_on_one_database(
    tmp_path: Path, postgres_store: PostgresStore, redis_url: str, receiver: Receiver
) -> None:
    config, secrets = webhook_config(tmp_path, receiver)
    shared = {
        "PORTICO_STORE": postgres_store.conninfo,
        "PORTICO_RATE_LIMIT_STORAGE": redis_url,
        "PORTICO_CONFIG_DIR": str(config),
        **secrets,
    }
    servers = [
        Server(tmp_path / f"server-{n}", tmp_path / f"gunicorn-{n}.log", shared) for n in (1, 2)
    ]
    plans = [
        ClientPlan(servers[n % 2].url, n, tmp_path / f"client-{n}.txt", signups=SIGNUPS_PER_CLIENT)
        for n in range(CLIENTS)
    ]
    started = time.monotonic()
    try:
        for server in servers:
            server.start()
        # Sign-ups on both servers while both servers' timers deliver webhooks.
        children = run_clients(plans)
        across: dict[str, dict[str, str]] = defaultdict(dict)
        for n in range(ACROSS_SERVERS):
            merchant = MERCHANTS[n % len(MERCHANTS)]
            email = f"both.{n}@example.com"
            ids = send_to_both(servers, merchant, email)
            assert len(ids) == 1, f"one form sent to two servers became sign-ups {ids}"
            across[merchant][ids.pop()] = email
        while any(child.is_alive() for child in children):
            deliveries = at_once(*(server.portico("webhooks", "deliver") for server in servers))
            assert [code for code, _ in deliveries] == [0, 0], deliveries
        for child in children:
            child.join(timeout=120)
        assert [child.exitcode for child in children] == [0] * CLIENTS

        notes = Notes.read(plan.notes for plan in plans)
        assert notes.errors == [], servers[0].log() + servers[1].log()
        assert notes.total() == CLIENTS * SIGNUPS_PER_CLIENT
        assert set(notes.doubles) == {"same"}
        for merchant, ids in across.items():
            notes.acknowledged.setdefault(merchant, {}).update(ids)
        stored = check_stored(export(postgres_store, tmp_path / "signed-up"), notes.acknowledged)
        assert stored == {m: len(notes.acknowledged.get(m, {})) for m in MERCHANTS}

        # Both servers' billing timers fire at once, a month and a half ahead.
        until = (datetime.now(UTC) + timedelta(days=45)).strftime("%Y-%m-%d")
        billing = at_once(*(server.portico("bill", "--until", until) for server in servers))
        assert [code for code, _ in billing] == [0, 0], billing
        deliveries = at_once(*(server.portico("webhooks", "deliver") for server in servers))
        assert [code for code, _ in deliveries] == [0, 0], deliveries

        # A rate limit counts both servers' requests: 10 sign-in requests a minute per address.
        limited = [
            request(
                servers[n % 2].url,
                "POST",
                "/acme/portal/login",
                urlencode({"email": f"limit.{n}@example.com"}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
            )[0]
            for n in range(12)
        ]
    finally:
        for server in servers:
            server.stop()

    assert limited.count(429) >= 2, limited  # memory:// counters would allow 2 x 10
    final = export(postgres_store, tmp_path / "billed")
    invoices = 0
    delivered = Counter((r.path, r.headers["Portico-Event-Id"]) for r in receiver.accepted())
    assert max(delivered.values()) == 1, "a webhook event was delivered twice"
    for merchant in MERCHANTS:
        data = read_data_file(final / f"{merchant}.json")
        invoices += check_invoices(data, merchant)
        events = {
            (f"/{merchant}", event["id"])
            for event in data["outbox"].values()
            if event["kind"] == "event" and event["type"] in SUBSCRIBED
        }
        assert {key for key in delivered if key[0] == f"/{merchant}"} == events, merchant
        assert all(d["status"] == "delivered" for d in data["webhook_deliveries"].values())
    assert invoices > sum(stored.values())  # the billing run renewed subscriptions
    print(
        f"\nscale-out: {sum(stored.values())} sign-ups on 2 servers, {invoices} invoices,"
        f" {len(delivered)} webhooks delivered once each, limited {limited.count(429)}/12,"
        f" {time.monotonic() - started:.1f} s"
    )
