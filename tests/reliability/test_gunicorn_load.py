"""Sign-ups and portal changes under gunicorn with several workers, from several client
processes, with crashes.

Quick by default (about a minute for both tests on two cores); ``make soak``
sets ``PORTICO_SOAK_SECONDS`` and runs the same tests that long each.
"""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.harness import (
    MERCHANTS,
    ClientPlan,
    Gunicorn,
    Notes,
    check_stored,
    mail_entries,
    read_data_file,
    request,
    run_client,
    sent_mails,
    soak_seconds,
    unsent,
)
from tests.helpers.portal_load import (
    PortalPlan,
    acknowledged_so_far,
    check_portal,
    read_changes,
    run_portal_client,
)

# One load at a time: a parallel run (pytest -n) keeps this module's tests, the scale-out
# test and the fuzzers on one worker, one after another (--dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("load")]

spawn = multiprocessing.get_context("spawn")
CLIENTS = 6
PORTAL_CLIENTS = 3  # one signed-in customer per merchant
PORTAL_ROUNDS = 40  # changes per portal customer, some of them refused on purpose
SIGNUPS_PER_CLIENT = 30  # 180 sign-ups, every fifth sent twice at once
KILL_SECONDS = 20.0  # how long the crash test keeps killing at least
# ... and until this much was acknowledged: counted, since a starved machine gets less
# done in a given time (the crash test gives up after KILL_CAP times KILL_SECONDS).
KILL_MIN_SIGNUPS = 30
KILL_MIN_PORTAL_CHANGES = 3 * PORTAL_CLIENTS
KILL_CAP = 6
# Each test runs on the store as configured, which writes these small data files whole,
# and on one that journals every commit, as a big merchant's store does.
APPS = {
    "whole files": "app.factory:create_app()",
    "journaled": "tests.helpers.journaled_app:create_app()",
}


def client_process(plan: ClientPlan) -> multiprocessing.Process:
    target = run_portal_client if isinstance(plan, PortalPlan) else run_client
    return spawn.Process(target=target, args=(plan,))


def portal_plans(server: Gunicorn, tmp_path: Path, **limits: float | None) -> list[PortalPlan]:
    return [
        PortalPlan(
            server.url,
            number,
            tmp_path / f"portal-{number}.txt",
            data_dir=server.instance_dir / "data",
            **limits,
        )
        for number in range(PORTAL_CLIENTS)
    ]


def run_clients(plans: list[ClientPlan], timeout: float) -> None:
    children = [client_process(plan) for plan in plans]
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


def summary(
    title: str, notes: Notes, stored: dict[str, int], portal: Counter, **facts: object
) -> None:
    """One line for the log (``pytest -s`` or ``make soak`` shows it)."""
    extra = ", ".join(f"{key}={value}" for key, value in facts.items())
    print(
        f"\n{title}: {notes.total()} sign-ups acknowledged, {sum(stored.values())} stored "
        f"{dict(stored)}, doubles {dict(notes.doubles)}, retries {notes.retries}, "
        f"portal changes {dict(sorted(portal.items()))}, {extra}"
    )


@pytest.mark.parametrize("app", APPS.values(), ids=APPS.keys())
def test_concurrent_signups_are_stored_exactly_once(tmp_path: Path, app: str) -> None:
    instance = tmp_path / "instance"
    server = Gunicorn(instance, tmp_path / "gunicorn.log", app=app)
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
    portal = portal_plans(
        server,
        tmp_path,
        rounds=None if soak else PORTAL_ROUNDS,
        until=time.time() + soak if soak else None,
    )
    started = time.monotonic()
    server.start()
    try:
        run_clients(plans + portal, timeout=(soak or 60) + 60)
        # Mails no request sends at once (invoices of plan changes) wait for the timer.
        server.cli("mail", "deliver")
        notes = Notes.read(plan.notes for plan in plans + portal)
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
        assert notes.total() == CLIENTS * SIGNUPS_PER_CLIENT + PORTAL_CLIENTS
        assert notes.doubles["same"] == CLIENTS * SIGNUPS_PER_CLIENT // 5
    stored = check_stored(instance / "data", notes.acknowledged)
    # Exactly once: nothing stored that no client was told about.
    assert stored == {m: len(notes.acknowledged.get(m, {})) for m in MERCHANTS}
    changes = read_changes([plan.notes for plan in portal])
    assert len(changes) == PORTAL_CLIENTS
    if not soak:
        assert all(len(sent) == PORTAL_ROUNDS for sent in changes.values())
    outcomes = check_portal(instance / "data", changes)
    # Without crashes every change is answered: applied, or refused (only those meant to be).
    assert {key.split()[1] for key in outcomes} == {"ack", "refused"}, outcomes
    assert {key for key in outcomes if key.endswith("refused")} <= {
        "details refused",
        "cancel refused",
    }
    # Each mail (confirmations, cancellations, invoices) went out once, although every
    # worker sends whatever is pending.
    assert len(sent_mails(instance)) == mail_entries(instance / "data") > notes.total()
    assert list(unsent(instance / "data")) == []
    assert list((instance / "data").glob(".*.tmp")) == []
    summary("load", notes, stored, outcomes, seconds=round(elapsed, 1), workers=server.workers)


@pytest.mark.parametrize("app", APPS.values(), ids=APPS.keys())
def test_kill_9_of_workers_and_server_loses_no_acknowledged_signup(
    tmp_path: Path, app: str
) -> None:
    instance = tmp_path / "instance"
    server = Gunicorn(instance, tmp_path / "gunicorn.log", app=app)
    duration = soak_seconds() or KILL_SECONDS
    rng = random.Random(20261121)
    worker_kills = server_kills = in_commit = 0
    server.start()
    try:
        stop = tmp_path / "stop"  # the clients end once it exists
        plans = [
            ClientPlan(server.url, number, tmp_path / f"client-{number}.txt", stop=stop)
            for number in range(CLIENTS)
        ]
        portal = portal_plans(server, tmp_path, stop=stop)
        plans += portal
        children = [client_process(plan) for plan in plans]
        for child in children:
            child.start()
        started = time.monotonic()
        next_power_cut = started + duration / 2

        def enough() -> bool:
            signups = Notes.read(plan.notes for plan in plans if plan.notes.exists()).total()
            changes = acknowledged_so_far([plan.notes for plan in portal])
            return signups >= KILL_MIN_SIGNUPS and changes >= KILL_MIN_PORTAL_CHANGES

        rounds = 0
        while time.monotonic() < started + duration or (
            not enough() and time.monotonic() < started + KILL_CAP * duration
        ):
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
        stop.touch()
        elapsed = time.monotonic() - started
        for child in children:
            child.join(timeout=90)
        assert [child.exitcode for child in children] == [0] * len(plans), server.log()
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
    assert notes.total() >= KILL_MIN_SIGNUPS, "too little load to mean anything"
    for merchant in MERCHANTS:
        read_data_file(instance / "data" / f"{merchant}.json")
    stored = check_stored(instance / "data", notes.acknowledged)
    # The clients retried every post the crashes cut off, with the same form token:
    # each stored sign-up was acknowledged, and none twice.
    assert stored == {m: len(notes.acknowledged.get(m, {})) for m in MERCHANTS}
    # Every acknowledged portal change survived the crashes, with its audit entry.
    changes = read_changes([plan.notes for plan in plans if isinstance(plan, PortalPlan)])
    assert len(changes) == PORTAL_CLIENTS
    outcomes = check_portal(instance / "data", changes)
    assert sum(n for key, n in outcomes.items() if key.endswith(" ack")) >= KILL_MIN_PORTAL_CHANGES
    torn = len(list((instance / "data").glob(".*.tmp")))  # commits a kill cut short
    summary(
        "kill",
        notes,
        stored,
        outcomes,
        seconds=round(elapsed, 1),
        worker_kills=worker_kills,
        all_workers_killed_in_a_commit=in_commit,
        server_kills=server_kills,
        commits_cut_short=torn,
    )
