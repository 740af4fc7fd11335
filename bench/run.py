"""``make bench``: every benchmark of issue 8 in one run, written to ``bench/results.md``.

Portico runs as in production: gunicorn, 2 gthread workers of 2 threads, on
loopback, the demo merchants, a fresh instance folder under ``bench/work/``.
The baselines (``bench/baseline_app.py``) run under the same gunicorn
settings in the same run, and every target is a ratio of this run's figures.

    .venv/bin/python -m bench.run            # the full run (about 15 minutes)
    .venv/bin/python -m bench.run --quick    # a smoke run: small sizes, short loads

``PORTICO_BENCH_POSTGRES=postgresql://…`` (a scratch database or schema, which
the bench empties, e.g. ``…/test?options=-csearch_path%3Dbench``) adds the
PostgreSQL store to the sign-up chart, up to 1 000 000 customers.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bench import footprint, load, report, seed
from bench.portal import sign_in
from tests.helpers.harness import Gunicorn
from tests.helpers.orders import VALID

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config"
WORK = ROOT / "bench" / "work"
RESULTS = ROOT / "bench" / "results.md"
WORKERS = 2
PORTICO = str(Path(sys.executable).with_name("portico"))
spawn = multiprocessing.get_context("spawn")


@dataclass(frozen=True)
class Plan:
    """How much each benchmark does; ``--quick`` shrinks everything."""

    get_seconds: float
    rounds: int  # the GET benchmarks alternate this often; the best round counts
    signups: dict[int, int]  # store size → sign-ups measured there
    bill_sizes: tuple[int, int]  # a step of 10 times: linear time means at most 12 times
    timeout: float  # for portico check and the smaller bill run
    invoices: int  # of the portal customer
    merchants: int  # for portico check and the memory per worker
    postgres_signups: dict[int, int]


FULL = Plan(
    get_seconds=10,
    rounds=2,
    signups={100: 100, 1_000: 100, 10_000: 100, 100_000: 20},
    bill_sizes=(1_000, 10_000),
    timeout=300,
    invoices=1_000,
    merchants=100,
    postgres_signups={100: 100, 1_000: 100, 10_000: 100, 100_000: 100, 1_000_000: 100},
)
QUICK = Plan(
    get_seconds=2,
    rounds=1,
    signups={100: 20, 1_000: 20},
    bill_sizes=(100, 1_000),
    timeout=120,
    invoices=100,
    merchants=10,
    postgres_signups={100: 20, 1_000: 20},
)


@contextmanager
def serving(
    name: str, instance: Path, config_dir: Path = DEMO_CONFIG, store: str = "tinydb", **kwargs: str
) -> Iterator[Gunicorn]:
    """A gunicorn of ``WORKERS`` workers over ``instance``, stopped afterwards."""
    server = Gunicorn(
        instance,
        WORK / f"{name}.log",
        workers=WORKERS,
        env=seed.app_settings(instance, config_dir, store),
        **kwargs,
    )
    server.start(timeout=120)
    try:
        yield server
    finally:
        server.stop()


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def pages(plan: Plan, results: report.Results) -> footprint.PageWeight:
    """The order page against both baselines, alternating rounds; the best round of each."""
    best: dict[str, load.Measured] = {}
    with (
        serving("portico", WORK / "pages") as portico,
        serving("baseline", WORK / "baseline", app="bench.baseline_app:create_app()") as bare,
    ):
        targets = [
            ("order page", portico.url, "/acme/order"),
            ("hand-written Flask-WTF page", bare.url, "/order"),
            ("bare Flask endpoint", bare.url, "/hello"),
        ]
        for round in range(plan.rounds):
            for name, url, path in targets:
                say(f"GET {name}, round {round + 1}")
                measured = load.get_load(name, url, path, plan.get_seconds)
                if name not in best or measured.rps > best[name].rps:
                    best[name] = measured
        weight = footprint.page_weight(portico.url, "/acme/order")
        rss = [footprint.peak_rss_kib(pid) for pid in portico.worker_pids()]
        results.facts["peak RSS per worker, 3 demo merchants, after the GET load"] = _mib(rss)
    results.load += [best[name] for name, _, _ in targets]
    return weight


def _mib(kib: list[int]) -> str:
    return ", ".join(f"{k / 1024:.0f} MiB" for k in sorted(kib)) or "not measured"


def signup_series(
    label: str, store: str, counts: dict[int, int], template: seed.Documents
) -> list[report.Point]:
    """Sign-ups at growing store sizes; between sizes a child process adds customers."""
    instance = WORK / f"signups-{label.lower()}"
    shutil.rmtree(instance, ignore_errors=True)
    points = []
    for size, count in counts.items():
        say(f"{label}: filling the store to {size:,} customers")
        with spawn.Pool(1) as pool:
            customers = pool.apply(seed.top_up, (instance, DEMO_CONFIG, store, template, size))
        with serving(f"signups-{label.lower()}-{size}", instance, store=store) as server:
            say(f"{label}: {count} sign-ups with {customers:,} customers")
            load.warm_up(server.url, "/acme/order")
            measured = load.signups(
                f"sign-up POST, {customers:,} customers ({label})",
                server.url,
                seed.MERCHANT,
                VALID[seed.MERCHANT],
                count,
                concurrency=WORKERS,
                email_prefix=f"{label.lower()}.{size}",
            )
        points.append(report.Point(customers, measured))
    return points


def postgres(plan: Plan, template: seed.Documents, results: report.Results) -> None:
    """The PostgreSQL store as a second series, when ``PORTICO_BENCH_POSTGRES`` names one."""
    url = os.environ.get("PORTICO_BENCH_POSTGRES", "")
    if not url:
        results.notes.append(
            "PostgreSQL store: not measured (set PORTICO_BENCH_POSTGRES to a scratch database)."
        )
        return
    env = {**os.environ, **seed.app_settings(WORK / "postgres", DEMO_CONFIG, url)}
    subprocess.run([PORTICO, "db", "upgrade"], env=env, check=True)
    seed.empty_postgres(url)  # the series starts small, whatever an earlier run left
    results.series["PostgreSQL"] = signup_series("PostgreSQL", url, plan.postgres_signups, template)


def portal(plan: Plan, template: seed.Documents, results: report.Results) -> None:
    """Overview and invoice list of a customer with ``plan.invoices`` invoices."""
    instance = WORK / "portal"
    own = seed.signup_documents(instance, DEMO_CONFIG)  # the customer, and invoice no. 1
    portico = seed.open_portico(instance, DEMO_CONFIG)
    seed.add_invoices(portico.store, seed.merchant_config(portico), own, plan.invoices - 1)
    email = own["customers"][0]["email"]
    with serving("portal", instance) as server:
        cookie = {"Cookie": sign_in(server.url, server.environment(), seed.MERCHANT, email)}
        for name, path in (
            (f"portal overview, {plan.invoices:,} invoices", "/acme/portal"),
            (f"portal invoice list, {plan.invoices:,} invoices", "/acme/portal/invoices"),
        ):
            say(f"GET {name}")
            status = load.Connection(server.url).request("GET", path, headers=cookie)[0]
            if status != 200:
                results.notes.append(f"{name}: not available ({path} answered {status}).")
                continue
            results.load.append(load.get_load(name, server.url, path, plan.get_seconds, cookie))


def timed(command: list[str], env: dict[str, str], timeout: float) -> float | None:
    """Seconds the command took; ``None`` if it was stopped after ``timeout``."""
    started = time.perf_counter()
    try:
        subprocess.run(command, env=env, check=True, timeout=timeout, capture_output=True)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - started


def bill(plan: Plan, template: seed.Documents, results: report.Results) -> None:
    """``portico bill --no-mail`` over stores of given sizes (one renewal each); the mails
    it writes are ``portico mail deliver``'s work."""
    ends = template["subscriptions"][0]["current_period_end"]
    until = (datetime.fromisoformat(ends) + timedelta(days=1)).date().isoformat()
    small = plan.bill_sizes[0]
    for size in plan.bill_sizes:
        instance = WORK / f"bill-{size}"
        shutil.rmtree(instance, ignore_errors=True)
        with spawn.Pool(1) as pool:
            pool.apply(seed.top_up, (instance, DEMO_CONFIG, "tinydb", template, size))
        # The bigger run may take 13 times the smaller: enough to decide the target (12).
        cap = plan.timeout if size == small else 13 * (results.bill[small] or plan.timeout)
        say(f"portico bill, {size:,} subscriptions (stopped after {cap:.0f} s)")
        env = {**os.environ, **seed.app_settings(instance, DEMO_CONFIG)}
        results.bill[size] = timed([PORTICO, "bill", "--no-mail", "--until", until], env, cap)
        results.bill_cap = cap


def commands(plan: Plan, template: seed.Documents, results: report.Results) -> None:
    """``portico bill`` (see :func:`bill`), ``portico check``."""
    bill(plan, template, results)
    config = WORK / "many-merchants"
    footprint.many_merchants(DEMO_CONFIG, config, plan.merchants)
    env = {**os.environ, **seed.app_settings(WORK / "check", config)}
    say(f"portico check, {plan.merchants} merchant files")
    results.timings[f"check, {plan.merchants} merchant files"] = timed(
        [PORTICO, "check"], env, plan.timeout
    )


def memory(plan: Plan, template: seed.Documents, results: report.Results) -> None:
    """Peak RSS of each worker after every one of ``plan.merchants`` merchants was served."""
    config = WORK / "many-merchants"
    slugs = footprint.many_merchants(DEMO_CONFIG, config, plan.merchants)
    with serving("memory", WORK / "memory", config) as server:
        say(f"memory: every page of {len(slugs)} merchants, on both workers")
        for _ in range(3):  # requests land on either worker: three rounds reach both
            for slug in slugs:
                load.warm_up(server.url, f"/{slug}/order")
        rss = [footprint.peak_rss_kib(pid) for pid in server.worker_pids()]
    results.facts[f"peak RSS per worker, {len(slugs)} merchants loaded"] = _mib(rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short loads")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    parser.add_argument(
        "--signups-only",
        metavar="SIZES",
        help="only TinyDB sign-ups at these store sizes (e.g. 100,1000,10000), printed",
    )
    parser.add_argument(
        "--bill-only", action="store_true", help="only portico bill at the plan's sizes, printed"
    )
    args = parser.parse_args(argv)
    # Stopped from outside (timeout, Ctrl-C): leave through the finally blocks that stop gunicorn.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = QUICK if args.quick else FULL
    if args.signups_only:  # leaves the rest of bench/work/ alone
        WORK.mkdir(parents=True, exist_ok=True)
        template = seed.signup_documents(WORK / "template-signups-only", DEMO_CONFIG)
        sizes = [int(size) for size in args.signups_only.split(",")]
        counts = {size: FULL.signups.get(size, 20) for size in sizes}
        for point in signup_series("TinyDB", "tinydb", counts, template):
            m = point.measured
            print(
                f"{point.customers:>9,} customers: p50 {m.p50_ms:.0f} ms, p99 {m.p99_ms:.0f} ms,"
                f" {m.requests} sign-ups, {m.errors} errors"
            )
        return 0
    if args.bill_only:  # leaves the rest of bench/work/ alone
        WORK.mkdir(parents=True, exist_ok=True)
        results = report.Results()
        bill(plan, seed.signup_documents(WORK / "template-bill-only", DEMO_CONFIG), results)
        for size, seconds in results.bill.items():
            shown = f"{seconds:.1f} s" if seconds else "stopped"
            print(f"portico bill, {size:>6,} subscriptions: {shown}")
        return 0
    started = time.monotonic()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    results = report.Results()
    say("a template sign-up")
    template = seed.signup_documents(WORK / "template", DEMO_CONFIG)

    weight = pages(plan, results)
    results.series["TinyDB"] = signup_series("TinyDB", "tinydb", plan.signups, template)
    for step in (postgres, portal, commands, memory):
        try:
            step(plan, template, results)
        except Exception as error:  # one failed part must not lose the others' figures
            say(f"{step.__name__} failed: {error!r}")
            results.notes.append(f"{step.__name__}: failed ({type(error).__name__}: {error}).")

    results.facts["order page: requests, bytes (uncompressed)"] = (
        f"{weight.requests} requests, {weight.bytes / 1024:.1f} KB ("
        + ", ".join(f"{kind} {size / 1024:.1f} KB" for kind, size in weight.by_kind.items())
        + ")"
    )
    results.facts["order page: requests to another host"] = ", ".join(weight.foreign) or "none"
    driver = "wrk" if load.wrk_available() else "the Python driver (wrk is not installed)"
    results.notes.append(
        f"GETs driven by {driver}, {load.CONCURRENCY} connections, best of {plan.rounds} "
        f"alternating {plan.get_seconds:g} s rounds; sign-ups by the Python driver, "
        f"{WORKERS} at a time, each POST after an untimed GET for its form token."
    )
    results.notes.append(
        f"Run took {(time.monotonic() - started) / 60:.1f} min on {os.cpu_count()} cores "
        f"shared with other work (load average then {os.getloadavg()[0]:.1f}): absolute "
        "figures are noisy, the ratios compare figures of this run."
    )
    results.notes.append(
        "Sign-ups measured per store size (fewer in bigger stores, where each takes longer): "
        + ", ".join(
            f"{count} at {size:_}".replace("_", " ") for size, count in plan.signups.items()
        )
        + f"; portico bill --no-mail at {plan.bill_sizes[0]:,} and {plan.bill_sizes[1]:,}"
        " subscriptions."
    )
    goals = report.targets(results, weight.bytes / 1024, len(weight.foreign))
    args.out.write_text(report.markdown(results, goals, report.svg_chart(results.series)))
    print(report.table(goals))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
