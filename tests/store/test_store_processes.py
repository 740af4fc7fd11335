"""The store across real processes: concurrent writers, other workers' commits, kill -9.

Children are started with the ``spawn`` method (as unlike the parent as a
gunicorn worker can be) and run the module-level functions below.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import threading
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from app.store import TinyDBStore, files

pytestmark = pytest.mark.slow

spawn = multiprocessing.get_context("spawn")
CRASH_POINTS = {
    # where the child kills itself: (module, function, whether the new file is already in place)
    "fsync of the temporary file": (os, "fsync", False),
    "os.replace": (os, "replace", False),
    "fsync of the directory": (files, "_fsync_directory", True),
}


def insert_customers(data_dir: Path, worker: int, count: int, start: Event) -> None:
    store = TinyDBStore(data_dir)
    start.wait()
    for i in range(count):
        with store.write("acme") as tx:
            number = tx.next_number("customer")
            tx.collection("customers").insert({"id": f"{worker}-{i}", "number": number})


def insert_until_killed(data_dir: Path, acknowledged: Path, prefix: str) -> None:
    """Insert customers forever, noting each id once its commit has returned."""
    store = TinyDBStore(data_dir)
    with acknowledged.open("a") as notes:
        for i in range(1_000_000):
            with store.write("acme") as tx:
                tx.collection("customers").insert({"id": f"{prefix}-{i}"})
            notes.write(f"{prefix}-{i}\n")
            notes.flush()


def insert_then_die_in_commit(data_dir: Path, crash_point: str) -> None:
    store = TinyDBStore(data_dir)
    for i in range(3):
        with store.write("acme") as tx:
            tx.collection("customers").insert({"id": f"before-{i}"})
    module, name, _ = CRASH_POINTS[crash_point]
    setattr(module, name, lambda *args: os.kill(os.getpid(), signal.SIGKILL))
    with store.write("acme") as tx:
        tx.collection("customers").insert({"id": "unacknowledged"})


def run_child(target, *args) -> int | None:
    child = spawn.Process(target=target, args=args)
    child.start()
    child.join(timeout=30)
    return child.exitcode


def stored_ids(data_dir: Path) -> list[str]:
    """The customers as a fresh process would read them; plain ``json`` must parse the file."""
    data = json.loads((data_dir / "acme.json").read_bytes())
    return list(data.get("customers", {}))


def test_concurrent_writers_lose_nothing_and_number_without_gaps(data_dir: Path) -> None:
    workers, each = 8, 50
    start = spawn.Event()
    children = [
        spawn.Process(target=insert_customers, args=(data_dir, worker, each, start))
        for worker in range(workers)
    ]
    for child in children:
        child.start()
    store = TinyDBStore(data_dir)
    seen: list[int] = []
    stop = threading.Event()

    def read_while_writing() -> None:
        while not stop.is_set():
            with store.read("acme") as tx:
                seen.append(tx.collection("customers").count())

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    started = time.monotonic()
    start.set()
    for child in children:
        child.join(timeout=60)
    stop.set()
    reader.join()
    assert [child.exitcode for child in children] == [0] * workers
    assert time.monotonic() - started < 30

    with store.read("acme") as tx:
        documents = list(tx.collection("customers").all())
    assert len(documents) == workers * each
    assert sorted(d["number"] for d in documents) == list(range(1, workers * each + 1))
    assert len(stored_ids(data_dir)) == workers * each
    assert seen == sorted(seen)  # readers never went back in time, nor failed


def test_a_commit_of_another_process_is_seen(
    tinydb_store: TinyDBStore, data_dir: Path, parses
) -> None:
    with tinydb_store.write("acme") as tx:
        tx.collection("customers").insert({"id": "ours"})
    start = spawn.Event()
    start.set()
    assert run_child(insert_customers, data_dir, 1, 2, start) == 0
    with tinydb_store.read("acme") as tx:
        assert [d["id"] for d in tx.collection("customers").all()] == ["ours", "1-0", "1-1"]
    with tinydb_store.read("acme") as tx:
        assert tx.collection("customers").count() == 3
    assert parses.count == 1


@pytest.mark.parametrize("crash_point", CRASH_POINTS)
def test_kill_9_during_a_commit_loses_nothing_acknowledged(
    tinydb_store: TinyDBStore, data_dir: Path, crash_point: str
) -> None:
    assert run_child(insert_then_die_in_commit, data_dir, crash_point) == -signal.SIGKILL
    acknowledged = ["before-0", "before-1", "before-2"]
    stored = stored_ids(data_dir)
    leftovers = list(data_dir.glob(".acme.json.*.tmp"))
    if CRASH_POINTS[crash_point][2]:  # after the replace: durable, though never acknowledged
        assert (stored, leftovers) == ([*acknowledged, "unacknowledged"], [])
    else:
        assert stored == acknowledged
        assert len(leftovers) == 1
    with tinydb_store.write("acme") as tx:  # the dead writer's lock is free again
        tx.collection("customers").insert({"id": "after"})
    assert stored_ids(data_dir)[-1] == "after"
    assert tinydb_store.merchants() == ["acme"]


def test_kill_9_at_random_moments_loses_nothing_acknowledged(data_dir: Path) -> None:
    acknowledged = data_dir.parent / "acknowledged.txt"
    rng = random.Random(9)
    for round in range(5):
        child = spawn.Process(
            target=insert_until_killed, args=(data_dir, acknowledged, f"r{round}")
        )
        child.start()
        deadline = time.monotonic() + 20
        while f"r{round}-4\n" not in _read(acknowledged) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0, 0.05))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        # A line cut short by the kill was not yet acknowledged.
        noted = _read(acknowledged).split("\n")[:-1]
        assert len(noted) >= 5 * (round + 1)
        assert set(noted) <= set(stored_ids(data_dir))


def _read(path: Path) -> str:
    return path.read_text() if path.exists() else ""
