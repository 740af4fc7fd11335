"""Portico under gunicorn, real clients in other processes, and what must hold afterwards.

The pieces of the load and crash tests (``test_gunicorn_load.py``, and the
longer ``make soak``):

- :class:`Gunicorn` runs ``gunicorn "app.factory:create_app()"`` in its own
  process group, so a test can ``kill -9`` one worker or the whole server and
  start it again on the same port with the same secret (form tokens issued
  before a crash stay valid after it);
- :func:`run_client` is one customer after another, in a separate process:
  it opens the order page, posts the form, retries the *same* post after a
  dropped connection (as a browser does) and notes every sign-up answered
  with success in its own file, flushed line by line;
- :func:`check_stored` reads the data files as a fresh process would, with
  plain ``json``, and checks them against what the clients were told.

Portal changes by signed-in customers are the clients of
:mod:`tests.helpers.portal_load`, noted in the same kind of files and checked over the same
data files.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from tests.helpers.app import ROOT, app_settings
from tests.helpers.net import free_port
from tests.helpers.orders import VALID, form_token
from tests.helpers.stores import stored_tables

MERCHANTS = ("acme", "stromma", "thistle")
SECRET_KEY = "load-test-secret-key-shared-across-restarts"
TRANSIENT = (OSError, http.client.HTTPException)  # refused, reset, cut short, timed out


def soak_seconds() -> float:
    """``PORTICO_SOAK_SECONDS``: run each load for this long instead of the quick default."""
    return float(os.environ.get("PORTICO_SOAK_SECONDS") or 0)


class Gunicorn:
    """One gunicorn master with its workers, in a process group of its own."""

    def __init__(
        self,
        instance_dir: Path,
        log_path: Path,
        workers: int = 4,
        app: str = "app.factory:create_app()",
        env: dict[str, str] | None = None,
    ) -> None:
        self.instance_dir = instance_dir
        self.log_path = log_path
        self.workers = workers
        self.app = app  # the WSGI app gunicorn loads; the benchmarks pass their baselines
        self.env = env or {}  # further variables, taking precedence (make bench uses them)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def environment(self) -> dict[str, str]:
        settings = app_settings(
            self.instance_dir,
            PORTICO_SECRET_KEY=SECRET_KEY,
            PORTICO_BASE_URL=self.url,
            # Every client comes from 127.0.0.1: the per-address limit would stop the load.
            PORTICO_SIGNUP_RATE_LIMIT="1000000 per minute",
        )
        return {**os.environ, **settings, **self.env}

    def start(self, timeout: float = 30) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                "2",
                "--graceful-timeout",
                "5",
                self.app,
            ],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log()}")
            try:
                if request(self.url, "GET", "/healthz", timeout=2)[0] == 200 and (
                    len(self.worker_pids()) == self.workers
                ):
                    return
            except TRANSIENT:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        """The master's children, from ``/proc``."""
        if self.process is None:
            return []
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited while we looked
            if int(fields[1]) == self.process.pid and fields[0] != "Z":
                children.append(int(stat.parent.name))
        return children

    def kill_worker(self, rng: random.Random) -> int | None:
        """``kill -9`` one worker, chosen at random; the master starts a new one."""
        pids = self.worker_pids()
        if not pids:
            return None
        victim = rng.choice(pids)
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            return None
        return victim

    def kill_workers_in_a_commit(self, data_dir: Path, timeout: float = 3.0) -> bool:
        """Wait until some worker is writing a data file (its temporary file exists),
        then ``kill -9`` every worker at once: a crash in the middle of a commit."""
        left_by_earlier_crashes = set(data_dir.glob(".*.tmp"))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if set(data_dir.glob(".*.tmp")) - left_by_earlier_crashes:
                for pid in self.worker_pids():
                    with suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                return True
            time.sleep(0.0005)
        return False

    def kill_all(self) -> None:
        """``kill -9`` the master and every worker at once, as a power cut would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """A graceful stop (SIGTERM); whatever is left after the grace time is killed."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        with suppress(ProcessLookupError):  # workers orphaned by a master that died first
            os.killpg(self.process.pid, signal.SIGKILL)

    def cli(self, *args: str) -> str:
        """Run ``portico ARGS`` on this server's instance, as its timer would; its output."""
        portico = Path(sys.executable).with_name("portico")
        done = subprocess.run(
            [str(portico), *args], cwd=ROOT, env=self.environment(), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def log(self, last: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-last:] if self.log_path.exists() else ""


def request(
    base_url: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request on a fresh connection; redirects are not followed."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


@dataclass(frozen=True)
class ClientPlan:
    """What one client process does: ``signups`` sign-ups, or sign up until ``until``
    (a ``time.time()``) or until the file ``stop`` exists; every ``double_every``-th
    form is sent twice at once."""

    base_url: str
    number: int
    notes: Path
    signups: int | None = None
    until: float | None = None
    double_every: int = 5
    give_up_after: float = 60.0  # a post unanswered this long is noted as lost
    stop: Path | None = None

    def goes_on(self, done: int, limit: int | None) -> bool:
        """Whether to start another round, ``done`` of at most ``limit`` being done."""
        return (
            (limit is None or done < limit)
            and (self.until is None or time.time() < self.until)
            and (self.stop is None or not self.stop.exists())
        )


class Notebook:
    """A client's notes file: one line per event, written whole and flushed at once."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("a")
        self._lock = threading.Lock()
        self.retried = 0  # requests sent again after a transport error, so far

    def write(self, line: str) -> None:
        with self._lock:
            self._file.write(line)
            self._file.flush()

    def close(self) -> None:
        self._file.close()


def _retrying(
    plan: ClientPlan,
    notes: Notebook,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
):
    """Repeat a request that found the server down (killed, restarting) until it is answered."""
    form = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
    headers = {**form, **(headers or {})}
    deadline = time.monotonic() + plan.give_up_after
    while True:
        try:
            return request(plan.base_url, method, path, body, headers)
        except TRANSIENT as error:
            if time.monotonic() > deadline:
                notes.write(f"gave-up {method} {path} {type(error).__name__}\n")
                return None
            notes.write(f"retry {method} {type(error).__name__}\n")
            notes.retried += 1
            time.sleep(random.uniform(0.02, 0.2))


def _note_answer(notes: Notebook, merchant: str, email: str, answer) -> str | None:
    if answer is None:
        return None
    status, headers, content = answer
    location = headers.get("location", "")
    if status == 303 and f"/{merchant}/order/complete/" in location:
        signup_id = location.split("/order/complete/", 1)[1].split("?", 1)[0]
        notes.write(f"ack {merchant} {signup_id} {email}\n")
        return signup_id
    snippet = content[:120].decode(errors="replace").replace("\n", " ")
    notes.write(f"error {merchant} {status} {snippet}\n")
    return None


def _double_click(plan: ClientPlan, notes: Notebook, path: str, body: bytes) -> list:
    """The same rendered form posted twice at the same moment, as a double click does."""
    answers: list = [None, None]

    def send(slot: int) -> None:
        answers[slot] = _retrying(plan, notes, "POST", path, body)

    threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def run_client(plan: ClientPlan) -> None:
    """Sign customers up one after another; note each answer, flushed at once."""
    rng = random.Random(plan.number)
    notes = Notebook(plan.notes)
    try:
        count = 0
        while plan.goes_on(count, plan.signups):
            merchant = MERCHANTS[(plan.number + count) % len(MERCHANTS)]
            page = _retrying(plan, notes, "GET", f"/{merchant}/order")
            if page is None:
                return
            if page[0] != 200:
                notes.write(f"error {merchant} {page[0]} GET\n")
                continue
            email = f"load.{plan.number}.{count}@example.com"
            data = {**VALID[merchant], "email": email}
            data["form_token"] = form_token(page[2].decode())
            body = urlencode(data).encode()
            post = f"/{merchant}/order"
            if plan.double_every and count % plan.double_every == plan.double_every - 1:
                answers = _double_click(plan, notes, post, body)
                ids = {_note_answer(notes, merchant, email, answer) for answer in answers}
                notes.write(f"double {'same' if len(ids) == 1 else 'different'}\n")
            else:
                ids = {
                    _note_answer(notes, merchant, email, _retrying(plan, notes, "POST", post, body))
                }
            for signup_id in ids - {None}:  # any worker shows a sign-up once it is answered
                shown = _retrying(plan, notes, "GET", f"/{merchant}/order/complete/{signup_id}")
                if shown is not None and shown[0] != 200:
                    notes.write(f"error {merchant} {shown[0]} success page of {signup_id}\n")
            count += 1
            time.sleep(rng.uniform(0, 0.01))
    finally:
        notes.close()


@dataclass
class Notes:
    """Everything the clients noted, read back."""

    acknowledged: dict[str, dict[str, str]] = field(default_factory=dict)  # merchant → id → email
    answers: int = 0
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    gave_up: int = 0
    doubles: Counter = field(default_factory=Counter)

    @classmethod
    def read(cls, paths: Iterable[Path]) -> Notes:
        notes = cls()
        for path in paths:
            # A line cut short by the end of its process was never complete.
            for line in path.read_text().split("\n")[:-1]:
                kind, _, rest = line.partition(" ")
                if kind == "ack":
                    merchant, signup_id, email = rest.split(" ")
                    notes.acknowledged.setdefault(merchant, {})[signup_id] = email
                    notes.answers += 1
                elif kind == "error":
                    notes.errors.append(rest)
                elif kind == "retry":
                    notes.retries += 1
                elif kind == "gave-up":
                    notes.gave_up += 1
                elif kind == "double":
                    notes.doubles[rest] += 1
        return notes

    def total(self) -> int:
        return sum(len(ids) for ids in self.acknowledged.values())


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    repeated = [key for key, count in Counter(keys).items() if count > 1]
    assert not repeated, f"a JSON object repeats the keys {repeated}"
    return dict(pairs)


def read_data_file(path: Path) -> dict:
    """The file (and its journal) as any other program reads it: plain ``json``,
    repeated keys refused."""
    return stored_tables(path, lambda raw: json.loads(raw, object_pairs_hook=_no_duplicate_keys))


def check_stored(data_dir: Path, acknowledged: dict[str, dict[str, str]]) -> dict[str, int]:
    """Assert the invariants of every merchant file; returns the sign-ups stored per merchant.

    Every acknowledged sign-up is stored, for the customer who was told so; each
    stored sign-up has exactly one customer, one subscription and one
    confirmation mail (portal changes add mails of other kinds); ids and nonces never repeat; customer numbers count
    1, 2, 3 … without a gap or a repeat.
    """
    stored = {}
    for merchant in MERCHANTS:
        path = data_dir / f"{merchant}.json"
        data = read_data_file(path) if path.exists() else {}
        signups = data.get("signups", {})
        customers = data.get("customers", {})
        subscriptions = data.get("subscriptions", {})
        outbox = data.get("outbox", {})
        for signup_id, email in acknowledged.get(merchant, {}).items():
            assert signup_id in signups, f"{merchant}: acknowledged sign-up {signup_id} is lost"
            customer = customers[signups[signup_id]["customer_id"]]
            assert customer["email"] == email, f"{merchant}: {signup_id} has another customer"
        nonces = Counter(signup["nonce"] for signup in signups.values())
        assert max(nonces.values(), default=1) == 1, f"{merchant}: a form was stored twice"
        assert len(customers) == len(signups) == len(subscriptions), merchant
        assert sorted(s["customer_id"] for s in signups.values()) == sorted(customers), merchant
        assert sorted(s["subscription_id"] for s in signups.values()) == sorted(subscriptions)
        numbers = sorted(int(c["number"].removeprefix("C-")) for c in customers.values())
        assert numbers == list(range(1, len(customers) + 1)), f"{merchant}: numbers {numbers}"
        assert data.get("_sequences", {}).get("customer", {}).get("value", 0) == len(customers)
        mails = Counter(
            e["customer_id"]
            for e in outbox.values()
            if e["kind"] == "mail" and e["template"] == "signup_confirmation"
        )
        assert mails == Counter(list(customers)), f"{merchant}: not one confirmation per customer"
        stored[merchant] = len(signups)
    return stored


def sent_mails(instance_dir: Path) -> list[Path]:
    folder = instance_dir / "outbox"
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def mail_entries(data_dir: Path) -> int:
    """How many mails the merchant files hold (each is sent once, as one ``.eml``)."""
    total = 0
    for merchant in MERCHANTS:
        path = data_dir / f"{merchant}.json"
        if path.exists():
            outbox = read_data_file(path).get("outbox", {}).values()
            total += sum(entry["kind"] == "mail" for entry in outbox)
    return total


def unsent(data_dir: Path) -> Iterator[str]:
    for merchant in MERCHANTS:
        path = data_dir / f"{merchant}.json"
        if path.exists():
            for entry in read_data_file(path).get("outbox", {}).values():
                if entry["kind"] == "mail" and entry["sent_at"] is None:
                    yield entry["id"]
