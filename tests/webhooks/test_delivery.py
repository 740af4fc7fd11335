"""Webhook delivery against a real HTTP receiver on loopback: signed, retried, durable, once."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from app.cli import main
from app.core.clock import parse_iso
from app.outbox.webhooks import delivery
from app.outbox.worker import DeliveryWorker
from tests.helpers.app import app_settings, mails_sent, make_app
from tests.helpers.clock import Clock
from tests.helpers.orders import stored
from tests.helpers.portal import sign_up
from tests.helpers.webhooks import SECRET, SECRET_ENV, Receiver


def deliver(app: Flask) -> delivery.Run:
    container = app.extensions["portico"]
    [run] = delivery.deliver_all(container.store, container.merchants, container.now, "stromma")
    return run


def verify(secret: str, signature: str, body: bytes) -> dict:
    """What a receiver does (the README shows the same): check the HMAC, then parse."""
    parts = dict(item.split("=", 1) for item in signature.split(","))
    signed = f"{parts['t']}.".encode() + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), "bad signature"
    return json.loads(body)


def test_a_failing_endpoint_gets_the_event_once_after_retries_and_a_restart(
    app: Flask, instance_dir: Path, config_dir: Path, clock: Clock, receiver: Receiver
) -> None:
    receiver.fail("/hooks", 500, 503)
    number = sign_up(app.test_client(), "stromma", "sven@example.se")
    first = deliver(app)
    assert (first.delivered, first.retrying, first.failed) == (1, 1, 0)  # /other took its event
    [pending] = stored(app, "stromma", "webhook_deliveries", url=f"{receiver.url}/hooks")
    assert (pending["status"], pending["attempts"], pending["last_error"]) == (
        "pending",
        1,
        "HTTP 500",
    )
    assert deliver(app).retrying == 0  # not due yet: backoff

    clock.advance(hours=1)
    restarted = make_app(instance_dir, config_dir, clock=clock)  # a new app and store, same folder
    assert deliver(restarted).retrying == 1
    clock.advance(hours=1)
    assert deliver(restarted).delivered == 1
    clock.advance(days=2)
    assert (deliver(restarted).delivered, deliver(app).delivered) == (0, 0)

    tries = [r for r in receiver.requests if r.path == "/hooks"]
    assert [r.answered for r in tries] == [500, 503, 200]
    assert len({r.body for r in tries}) == 1  # every retry sends the same event
    [accepted] = receiver.accepted("/hooks")
    body = verify(SECRET, accepted.headers["Portico-Signature"], accepted.body)
    assert body["type"] == "signup.completed" and body["merchant"] == "stromma"
    assert body["data"]["customer_number"] == number
    assert accepted.headers["Portico-Event-Id"] == body["id"]
    assert accepted.headers["Content-Type"] == "application/json"
    timestamp = int(accepted.headers["Portico-Signature"].split(",")[0].removeprefix("t="))
    assert timestamp == int((clock.now - timedelta(days=2)).timestamp())
    with pytest.raises(AssertionError, match="bad signature"):
        verify("another-secret", accepted.headers["Portico-Signature"], accepted.body)
    [done] = stored(restarted, "stromma", "webhook_deliveries", url=f"{receiver.url}/hooks")
    assert (done["status"], done["attempts"], done["last_error"]) == ("delivered", 3, None)


def test_only_subscribed_types_reach_each_endpoint(app: Flask, receiver: Receiver) -> None:
    sign_up(app.test_client(), "stromma", "sven@example.se")
    assert deliver(app).delivered == 2
    hooks = [json.loads(r.body)["type"] for r in receiver.accepted("/hooks")]
    other = [json.loads(r.body)["type"] for r in receiver.accepted("/other")]
    assert (hooks, other) == (["signup.completed"], ["subscription.created"])
    events = stored(app, "stromma", "outbox", kind="event")
    assert len(events) == 2 and all(event["dispatched_at"] for event in events)


def test_two_workers_at_once_send_each_event_once(
    app: Flask, instance_dir: Path, config_dir: Path, clock: Clock, receiver: Receiver
) -> None:
    client = app.test_client()
    for n in range(4):
        sign_up(client, "stromma", f"customer{n}@example.se")
    receiver.delay = 0.1  # both workers are busy sending at the same time
    workers = [app, make_app(instance_dir, config_dir, clock=clock)]
    start = threading.Barrier(len(workers))
    runs: list[delivery.Run] = []

    def work(worker: Flask) -> None:
        start.wait()
        runs.append(deliver(worker))

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(run.delivered for run in runs) == 8
    sent = [(r.path, r.headers["Portico-Event-Id"]) for r in receiver.requests]
    assert len(sent) == len(set(sent)) == 8


def test_a_missing_secret_sends_nothing_and_says_why(
    app: Flask, clock: Clock, receiver: Receiver, monkeypatch, caplog
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    sign_up(app.test_client(), "stromma", "sven@example.se")
    with caplog.at_level(logging.WARNING):
        run = deliver(app)
    assert (run.delivered, run.retrying) == (0, 2)
    assert receiver.requests == []
    for entry in stored(app, "stromma", "webhook_deliveries"):
        assert entry["last_error"] == (
            f"not sent: the environment variable {SECRET_ENV} (the signing secret) is not set"
        )
    assert SECRET_ENV in caplog.text
    monkeypatch.setenv(SECRET_ENV, SECRET)  # the operator fixes it: the retry goes out
    clock.advance(hours=1)
    with caplog.at_level(logging.DEBUG):
        assert deliver(app).delivered == 2
    assert SECRET not in caplog.text


def test_an_endpoint_down_for_a_day_is_marked_failed_and_left_alone(
    app: Flask, clock: Clock, receiver: Receiver
) -> None:
    receiver.fail("/hooks", *[500] * 100)
    sign_up(app.test_client(), "stromma", "sven@example.se")
    start = clock.now
    runs = []
    for _ in range(20):  # every 3 hours for 60 hours
        runs.append(deliver(app))
        clock.advance(hours=3)
    assert sum(run.failed for run in runs) == 1
    [entry] = stored(app, "stromma", "webhook_deliveries", url=f"{receiver.url}/hooks")
    assert entry["status"] == "failed" and entry["last_error"] == "HTTP 500"
    last_try = parse_iso(entry["last_attempt_at"])
    assert last_try - start >= delivery.RETRY_FOR
    assert entry["attempts"] == len([r for r in receiver.requests if r.path == "/hooks"])
    assert 5 <= entry["attempts"] <= 20


def test_redirects_are_not_followed(app: Flask, receiver: Receiver) -> None:
    receiver.fail("/hooks", 302)
    sign_up(app.test_client(), "stromma", "sven@example.se")
    deliver(app)
    [entry] = stored(app, "stromma", "webhook_deliveries", url=f"{receiver.url}/hooks")
    assert entry["last_error"] == "HTTP 302 (redirects are not followed)"
    assert [r.path for r in receiver.requests].count("/hooks") == 1


def test_the_serve_worker_delivers_in_the_background_and_stops(
    app: Flask, receiver: Receiver
) -> None:
    sign_up(app.test_client(), "stromma", "sven@example.se")
    mails_sent(app)
    with app.extensions["portico"].store.write("stromma") as tx:  # as if SMTP had been down
        [mail] = tx.collection("outbox").find(kind="mail")
        tx.collection("outbox").update(mail["id"], {"sent_at": None})
    worker = DeliveryWorker(app.extensions["portico"], interval=0.05)
    with worker:
        deadline = time.monotonic() + 20
        while len(receiver.accepted()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert len(receiver.accepted()) == 2
    assert not worker._thread.is_alive()
    [mail] = stored(app, "stromma", "outbox", kind="mail")
    assert mail["sent_at"] and mail["attempts"] == 2


def test_the_deliver_and_log_commands(
    app: Flask, instance_dir: Path, config_dir: Path, receiver: Receiver
) -> None:
    receiver.fail("/other", 500)
    sign_up(app.test_client(), "stromma", "sven@example.se")
    env = app_settings(instance_dir, config_dir)
    sent = CliRunner().invoke(main, ["webhooks", "deliver"], env=env)
    assert sent.exit_code == 0, sent.output
    assert "stromma: 1 webhook(s) delivered, 1 to retry, 0 failed" in sent.output

    log = CliRunner().invoke(main, ["webhooks", "log", "stromma"], env=env)
    assert log.exit_code == 0, log.output
    events = {e["type"]: e["id"] for e in stored(app, "stromma", "outbox", kind="event")}
    lines = log.output.splitlines()
    assert len(lines) == 2
    delivered = next(line for line in lines if "signup.completed" in line).split("  ")
    assert delivered[1:] == [
        "signup.completed",
        events["signup.completed"],
        f"{receiver.url}/hooks",
        "delivered",
        "attempts=1",
        "-",
    ]
    retrying = next(line for line in lines if "subscription.created" in line).split("  ")
    assert retrying[1:] == [
        "subscription.created",
        events["subscription.created"],
        f"{receiver.url}/other",
        "pending",
        "attempts=1",
        "HTTP 500",
    ]
    assert SECRET not in log.output


@pytest.mark.parametrize("command", [["log", "nobody"], ["deliver", "nobody"]])
def test_an_unknown_merchant_is_a_clear_error(
    command: list[str], instance_dir: Path, config_dir: Path
) -> None:
    result = CliRunner().invoke(
        main, ["webhooks", *command], env=app_settings(instance_dir, config_dir)
    )
    assert result.exit_code == 1
    assert "no merchant 'nobody'" in result.output
