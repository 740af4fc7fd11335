"""Sign-ups under gunicorn with several workers, from several client processes, with crashes.

Quick by default (about a minute for both tests on two cores); ``make soak``
sets ``PORTICO_SOAK_SECONDS`` and runs the same tests that long each.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from pathlib import Path

import pytest

from tests.reliability.harness import (
    MERCHANTS,
    ClientPlan,
    Gunicorn,
    Notes,
    check_stored,
    read_data_file,
    request,
    run_client,
    sent_mails,
    soak_seconds,
    unsent,
)

pytestmark = pytest.mark.slow

spawn = multiprocessing.get_context("spawn")
CLIENTS = 6
SIGNUPS_PER_CLIENT = 30  # 180 sign-ups, every fifth sent twice at once
KILL_SECONDS = 20.0  # how long the crash test keeps killing


def run_clients(plans: list[ClientPlan], timeout: float) -> None:
    children = [spawn.Process(target=run_client, args=(plan,)) for plan in plans]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=timeout)
    stuck = [child.pid for child in children if child.exitcode is None]
    for child in children:
        if child.exitcode is None:
            child.kill()
            child.join()
    assert not stuck, f"clients {stuck} did not finish within {timeout} s"
    assert [child.exitcode for child in children] == [0] * len(children)


def summary(title: str, notes: Notes, stored: dict[str, int], **facts: object) -> None:
    """One line for the log (``pytest -s`` or ``make soak`` shows it)."""
    extra = ", ".join(f"{key}={value}" for key, value in facts.items())
    print(
        f"\n{title}: {notes.total()} sign-ups acknowledged, {sum(stored.values())} stored "
        f"{dict(stored)}, doubles {dict(notes.doubles)}, retries {notes.retries}, {extra}"
    )


def test_concurrent_signups_are_stored_exactly_once(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    server = Gunicorn(instance, tmp_path / "gunicorn.log")
    soak = soak_seconds()
    plans = [
        ClientPlan(
            server.url,
            number,
            tmp_path / f"client-{number}.txt",
            signups=None if soak else SIGNUPS_PER_CLIENT,
            until=time.time() + soak if soak else None,
        )
        for number in range(CLIENTS)
    ]
    started = time.monotonic()
    server.start()
    try:
        run_clients(plans, timeout=(soak or 60) + 60)
        notes = Notes.read(plan.notes for plan in plans)
        for merchant, ids in notes.acknowledged.items():
            for signup_id in ids:
                path = f"/{merchant}/order/complete/{signup_id}"
                assert request(server.url, "GET", path)[0] == 200, path
    finally:
        server.stop()
    elapsed = time.monotonic() - started

    assert notes.errors == [], server.log()
    assert notes.gave_up == 0
    assert set(notes.doubles) == {"same"}
    if not soak:
        assert notes.total() == CLIENTS * SIGNUPS_PER_CLIENT
        assert notes.doubles["same"] == CLIENTS * SIGNUPS_PER_CLIENT // 5
    stored = check_stored(instance / "data", notes.acknowledged)
    # Exactly once: nothing stored that no client was told about.
    assert stored == {m: len(notes.acknowledged.get(m, {})) for m in MERCHANTS}
    # Each confirmation went out once, although every worker sends whatever is pending.
    assert len(sent_mails(instance)) == notes.total()
    assert list(unsent(instance / "data")) == []
    assert list((instance / "data").glob(".*.tmp")) == []
    summary("load", notes, stored, seconds=round(elapsed, 1), workers=server.workers)


def test_kill_9_of_workers_and_server_loses_no_acknowledged_signup(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    server = Gunicorn(instance, tmp_path / "gunicorn.log")
    duration = soak_seconds() or KILL_SECONDS
    rng = random.Random(20261121)
    worker_kills = server_kills = in_commit = 0
    server.start()
    try:
        until = time.time() + duration
        plans = [
            ClientPlan(server.url, number, tmp_path / f"client-{number}.txt", until=until)
            for number in range(CLIENTS)
        ]
        children = [spawn.Process(target=run_client, args=(plan,)) for plan in plans]
        for child in children:
            child.start()
        started = time.monotonic()
        next_power_cut = started + duration / 2
        rounds = 0
        while time.time() < until:
            time.sleep(rng.uniform(0.8, 2.2))  # a new worker needs ~1.5 s of CPU to boot
            rounds += 1
            if time.monotonic() >= next_power_cut:
                server.kill_all()  # master and workers at once
                server_kills += 1
                server.start()
                next_power_cut += max(duration / 2, 60)
            elif rounds % 3 == 1:
                in_commit += server.kill_workers_in_a_commit(instance / "data", timeout=5)
            elif server.kill_worker(rng) is not None:
                worker_kills += 1  # gunicorn starts another
        for child in children:
            child.join(timeout=90)
        assert [child.exitcode for child in children] == [0] * CLIENTS, server.log()
        # A last crash with the clients gone, then a restart: everything acknowledged is there.
        server.kill_all()
        server_kills += 1
        server.start()
        notes = Notes.read(plan.notes for plan in plans)
        for merchant, ids in notes.acknowledged.items():
            for signup_id in ids:
                path = f"/{merchant}/order/complete/{signup_id}"
                assert request(server.url, "GET", path)[0] == 200, path
    finally:
        server.stop()

    assert notes.errors == [], server.log()
    assert notes.gave_up == 0
    assert "different" not in notes.doubles  # a double click, even across a crash: one sign-up
    assert worker_kills >= 4 and in_commit >= 1 and server_kills >= 2
    assert notes.total() >= 30, "too little load to mean anything"
    for merchant in MERCHANTS:
        read_data_file(instance / "data" / f"{merchant}.json")
    stored = check_stored(instance / "data", notes.acknowledged)
    # The clients retried every post the crashes cut off, with the same form token:
    # each stored sign-up was acknowledged, and none twice.
    assert stored == {m: len(notes.acknowledged.get(m, {})) for m in MERCHANTS}
    torn = len(list((instance / "data").glob(".*.tmp")))  # commits a kill cut short
    summary(
        "kill",
        notes,
        stored,
        seconds=duration,
        worker_kills=worker_kills,
        all_workers_killed_in_a_commit=in_commit,
        server_kills=server_kills,
        commits_cut_short=torn,
    )
