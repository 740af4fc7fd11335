"""Load drivers: ``wrk`` for plain GETs when it is installed, a small Python driver otherwise,
and always the Python driver for sign-ups (each POST needs a fresh form token from a GET)."""

from __future__ import annotations

import http.client
import re
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from tests.helpers.orders import form_token

CONCURRENCY = 8  # connections held open at once, for wrk and the Python driver alike


@dataclass(frozen=True)
class Measured:
    """One benchmark's figures; latencies in milliseconds."""

    name: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float
    driver: str

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def get_load(
    name: str, base_url: str, path: str, seconds: float, headers: dict[str, str] | None = None
) -> Measured:
    """``seconds`` of GETs on ``path``: with wrk if it is installed, else in Python."""
    warm_up(base_url, path, headers)
    if wrk_available():
        measured = _wrk(name, base_url + path, seconds, headers or {})
        if measured is not None:
            return measured
    return _python_gets(name, base_url, path, seconds, headers or {})


def warm_up(base_url: str, path: str, headers: dict[str, str] | None = None) -> None:
    """A few requests first, so every worker has loaded and cached what the page needs."""
    with Connection(base_url) as connection:
        for _ in range(2 * CONCURRENCY):
            connection.request("GET", path, headers=headers)


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def _wrk(name: str, url: str, seconds: float, headers: dict[str, str]) -> Measured | None:
    """wrk's figures; ``None`` when no request finished (pages slower than the run)."""
    duration = f"-d{max(1, round(seconds))}s"
    command = ["wrk", "-t2", f"-c{CONCURRENCY}", duration, "--timeout", "60s", "--latency"]
    for key, value in headers.items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    if set(percentiles) != {"50", "99"}:
        return None
    done, took = re.search(r"(\d+) requests in ([\d.]+(?:us|ms|s|m)),", output).groups()
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: (.*)", output)
    socket_errors = sum(int(n) for n in re.findall(r"\d+", sockets.group(1))) if sockets else 0
    return Measured(
        name,
        requests=int(done),
        seconds=_wrk_ms(took) / 1e3,
        errors=(int(bad.group(1)) if bad else 0) + socket_errors,
        p50_ms=_wrk_ms(percentiles["50"]),
        p99_ms=_wrk_ms(percentiles["99"]),
        driver="wrk",
    )


class Connection:
    """One keep-alive HTTP/1.1 connection; reconnects once after the server closed it."""

    def __init__(self, base_url: str, timeout: float = 120) -> None:
        parts = urlsplit(base_url)
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.origin = f"{parts.scheme}://{parts.netloc}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            try:
                self._connection.request(method, path, body=body, headers=headers or {})
                response = self._connection.getresponse()
                content = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, content
            except (ConnectionError, http.client.HTTPException):
                self._connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self._connection.close()


def run_threads(
    base_url: str,
    step: Callable[[Connection, int, Callable[[], None]], bool],
    *,
    count: int | None = None,
    seconds: float | None = None,
    concurrency: int = CONCURRENCY,
) -> tuple[list[float], int, float]:
    """Run ``step`` from ``concurrency`` threads, ``count`` times in all or for ``seconds``.

    ``step(connection, number, start)`` calls ``start()`` right before the request it wants
    timed. Returns the latencies (seconds), the failures and the wall time.
    """
    latencies: list[float] = []
    errors = 0
    numbers = iter(range(count if count is not None else 10**12))
    lock = threading.Lock()
    started = time.perf_counter()
    deadline = started + seconds if seconds is not None else float("inf")

    def worker() -> None:
        nonlocal errors
        began = [0.0]

        def start() -> None:
            began[0] = time.perf_counter()

        with Connection(base_url) as connection:
            while time.perf_counter() < deadline:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                began[0] = time.perf_counter()
                try:
                    ok = step(connection, number, start)
                except OSError:
                    ok = False
                took = time.perf_counter() - began[0]
                with lock:
                    latencies.append(took)
                    errors += not ok

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, errors, time.perf_counter() - started


def measured(name: str, latencies: list[float], errors: int, wall: float, driver: str) -> Measured:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else []
    p50 = statistics.median(latencies) if latencies else 0.0
    p99 = cuts[98] if cuts else p50
    return Measured(name, len(latencies), wall, errors, p50 * 1e3, p99 * 1e3, driver)


def _python_gets(
    name: str, base_url: str, path: str, seconds: float, headers: dict[str, str]
) -> Measured:
    def step(connection: Connection, number: int, start: Callable[[], None]) -> bool:
        start()
        return connection.request("GET", path, headers=headers)[0] == 200

    latencies, errors, wall = run_threads(base_url, step, seconds=seconds)
    return measured(name, latencies, errors, wall, "python")


def signups(
    name: str,
    base_url: str,
    merchant: str,
    values: dict[str, str],
    count: int,
    concurrency: int,
    email_prefix: str,
) -> Measured:
    """``count`` sign-ups, each a GET of the order page (untimed) for a fresh form token
    and the timed POST; a POST counts as done when it redirects to the success page.
    Requests per second here are sign-ups per second, GETs included."""
    path = f"/{merchant}/order"

    def step(connection: Connection, number: int, start: Callable[[], None]) -> bool:
        page = connection.request("GET", path)
        if page[0] != 200:
            start()
            return False
        data = {**values, "email": f"{email_prefix}.{number}@example.com"}
        data["form_token"] = form_token(page[2].decode())
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Origin": connection.origin}
        start()
        status, answer, _ = connection.request("POST", path, urlencode(data).encode(), headers)
        return status == 303 and "/order/complete/" in answer.get("location", "")

    latencies, errors, wall = run_threads(base_url, step, count=count, concurrency=concurrency)
    return measured(name, latencies, errors, wall, "python")
