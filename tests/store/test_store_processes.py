"""The store across real processes: concurrent writers, other workers' commits, kill -9.

Children are started with the ``spawn`` method (as unlike the parent as a
gunicorn worker can be) and run the module-level functions below. Each test
runs on a store that writes its data file whole and on one that journals
(:func:`tests.helpers.stores.journaled_store`: every commit journaled, folds often).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import threading
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from app.store import TinyDBStore, datafiles, files, journal
from tests.helpers.stores import journaled_store, stored_tables

pytestmark = pytest.mark.slow

spawn = multiprocessing.get_context("spawn")
MODES = ("whole file", "journaled")
CRASH_POINTS = {
    # where the child kills itself: (module, function, whether the commit is durable then)
    "fsync of the temporary file": (os, "fsync", False),
    "os.replace": (os, "replace", False),
    "fsync of the directory": (files, "_fsync_directory", True),
}
JOURNAL_CRASH_POINTS = {
    "write to the journal": (os, "pwrite", False),
    "fdatasync of the journal": (os, "fdatasync", True),
}


def open_store(data_dir: Path, mode: str) -> TinyDBStore:
    return journaled_store(data_dir) if mode == "journaled" else TinyDBStore(data_dir)


def insert_customers(data_dir: Path, mode: str, worker: int, count: int, start: Event) -> None:
    store = open_store(data_dir, mode)
    start.wait()
    for i in range(count):
        with store.write("acme") as tx:
            number = tx.next_number("customer")
            tx.collection("customers").insert({"id": f"{worker}-{i}", "number": number})


def insert_until_killed(data_dir: Path, mode: str, acknowledged: Path, prefix: str) -> None:
    """Insert customers forever, noting each id once its commit has returned."""
    store = open_store(data_dir, mode)
    with acknowledged.open("a") as notes:
        for i in range(1_000_000):
            with store.write("acme") as tx:
                tx.collection("customers").insert({"id": f"{prefix}-{i}"})
            notes.write(f"{prefix}-{i}\n")
            notes.flush()


def insert_then_die_in_commit(data_dir: Path, mode: str, crash_point: str) -> None:
    store = open_store(data_dir, mode)
    for i in range(3):
        with store.write("acme") as tx:
            tx.collection("customers").insert({"id": f"before-{i}"})
    module, name, _ = {**CRASH_POINTS, **JOURNAL_CRASH_POINTS}[crash_point]
    setattr(module, name, lambda *args: os.kill(os.getpid(), signal.SIGKILL))
    with store.write("acme") as tx:
        tx.collection("customers").insert({"id": "unacknowledged"})


def move_customers(data_dir: Path, mode: str) -> None:
    """Another worker's commit: a new customer, one moved to another plan, one deleted."""
    store = open_store(data_dir, mode)
    with store.write("acme") as tx:
        customers = tx.collection("customers")
        customers.insert({"id": "c4", "plan": "pro"})
        customers.update("c1", {"plan": "basic"})
        customers.delete("c2")


def run_child(target, *args) -> int | None:
    child = spawn.Process(target=target, args=args)
    child.start()
    child.join(timeout=30)
    return child.exitcode


def stored_ids(data_dir: Path) -> list[str]:
    """The customers as a fresh process would read them; plain ``json`` must parse the file."""
    return list(stored_tables(data_dir / "acme.json").get("customers", {}))


@pytest.mark.parametrize("mode", MODES)
def test_concurrent_writers_lose_nothing_and_number_without_gaps(data_dir: Path, mode: str) -> None:
    workers, each = 8, 50
    start = spawn.Event()
    children = [
        spawn.Process(target=insert_customers, args=(data_dir, mode, worker, each, start))
        for worker in range(workers)
    ]
    for child in children:
        child.start()
    store = open_store(data_dir, mode)
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


@pytest.mark.parametrize("mode", MODES)
def test_a_commit_of_another_process_is_seen(data_dir: Path, mode: str, parses) -> None:
    store = open_store(data_dir, mode)
    for id in ("ours", "ours-2"):  # big enough that the journal is not folded here
        with store.write("acme") as tx:
            tx.collection("customers").insert({"id": id, "note": "x" * 1000})
    start = spawn.Event()
    start.set()
    assert run_child(insert_customers, data_dir, mode, 1, 2, start) == 0
    with store.read("acme") as tx:
        assert [d["id"] for d in tx.collection("customers").all()] == [
            "ours",
            "ours-2",
            "1-0",
            "1-1",
        ]
    with store.read("acme") as tx:
        assert tx.collection("customers").count() == 4
    # Whole: the file, once. Journaled: the child's two commits, never the data file.
    assert parses.count == (1 if mode == "whole file" else 2)


@pytest.mark.parametrize("mode", MODES)
def test_queries_see_the_commits_of_another_process(data_dir: Path, mode: str) -> None:
    """The indexes this process built follow what another process changed."""
    store = open_store(data_dir, mode)
    with store.write("acme") as tx:
        for number in range(1, 4):
            tx.collection("customers").insert({"id": f"c{number}", "plan": "pro"})
    with store.read("acme") as tx:  # builds the index of "plan"
        assert [d["id"] for d in tx.collection("customers").find(plan="pro")] == ["c1", "c2", "c3"]
    assert run_child(move_customers, data_dir, mode) == 0
    with store.read("acme") as tx:
        customers = tx.collection("customers")
        assert [d["id"] for d in customers.find(plan="pro")] == ["c3", "c4"]
        assert [d["id"] for d in customers.find(plan="basic")] == ["c1"]


@pytest.mark.parametrize(
    ("mode", "crash_point"),
    [*(("whole file", point) for point in CRASH_POINTS)]
    + [("journaled", point) for point in JOURNAL_CRASH_POINTS],
)
def test_kill_9_during_a_commit_loses_nothing_acknowledged(
    data_dir: Path, mode: str, crash_point: str
) -> None:
    assert run_child(insert_then_die_in_commit, data_dir, mode, crash_point) == -signal.SIGKILL
    acknowledged = ["before-0", "before-1", "before-2"]
    stored = stored_ids(data_dir)
    leftovers = list(data_dir.glob(".acme.json.*.tmp"))
    durable = {**CRASH_POINTS, **JOURNAL_CRASH_POINTS}[crash_point][2]
    if durable:  # e.g. after the replace: durable, though never acknowledged
        assert (stored, leftovers) == ([*acknowledged, "unacknowledged"], [])
    else:
        assert stored == acknowledged
        assert len(leftovers) == (1 if mode == "whole file" else 0)
    store = open_store(data_dir, mode)
    with store.write("acme") as tx:  # the dead writer's lock is free again
        tx.collection("customers").insert({"id": "after"})
    assert stored_ids(data_dir)[-1] == "after"
    assert store.merchants() == ["acme"]


def test_a_frame_cut_short_by_a_kill_is_ignored_and_cut_off(data_dir: Path) -> None:
    """What a kill in the middle of the journal write leaves: half a frame at its end."""
    store = open_store(data_dir, "journaled")
    for id in ("c1", "c2"):
        with store.write("acme") as tx:
            tx.collection("customers").insert({"id": id})
    journal_file = datafiles.journal_path(store.path("acme"))
    with journal_file.open("ab") as file:
        file.write(journal.frame({"customers": {"torn": {"id": "torn"}}})[:-3])
    assert stored_ids(data_dir) == ["c1", "c2"]
    with store.read("acme") as tx:
        assert tx.collection("customers").get("torn") is None
    with store.write("acme") as tx:
        tx.collection("customers").insert({"id": "c3"})
    assert stored_ids(data_dir) == ["c1", "c2", "c3"]


@pytest.mark.parametrize("mode", MODES)
def test_kill_9_at_random_moments_loses_nothing_acknowledged(data_dir: Path, mode: str) -> None:
    acknowledged = data_dir.parent / "acknowledged.txt"
    rng = random.Random(9)
    for round in range(5):
        child = spawn.Process(
            target=insert_until_killed, args=(data_dir, mode, acknowledged, f"r{round}")
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
