"""``bench/results.md``: the figures of one run, the targets as ratios within that run, and
a plain SVG chart of sign-up latency against store size."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from bench.load import Measured


@dataclass(frozen=True)
class Point:
    """One store size of a sign-up series: how many customers, and the POSTs' latencies."""

    customers: int
    measured: Measured


@dataclass(frozen=True)
class Target:
    name: str
    value: str  # the ratio or figure, formatted
    goal: str
    met: bool | None  # None: not measured in this run


@dataclass
class Results:
    """Everything one run measured; ``notes`` say what was left out or measured differently."""

    load: list[Measured] = field(default_factory=list)
    series: dict[str, list[Point]] = field(default_factory=dict)  # store label → points
    timings: dict[str, float | None] = field(default_factory=dict)  # command → seconds
    bill: dict[int, float | None] = field(default_factory=dict)  # subscriptions → seconds
    bill_cap: float = 0.0  # the bigger bill run (None seconds) was stopped after this
    facts: dict[str, str] = field(default_factory=dict)  # footprint and the like, formatted
    notes: list[str] = field(default_factory=list)

    def get(self, name: str) -> Measured | None:
        return next((m for m in self.load if m.name == name), None)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _target(name: str, ratio: float | None, goal: str, ok: bool, unit: str = "×") -> Target:
    if ratio is None:
        return Target(name, "not measured", goal, None)
    return Target(name, f"{ratio:.2f}{unit}", goal, ok)


def _p50_growth(points: Sequence[Point], low: int, high: int) -> float | None:
    """p50 of the first size from ``high`` customers on ÷ p50 of the first from ``low`` on."""
    by_size = sorted(((p.customers, p.measured) for p in points), key=lambda pair: pair[0])
    small = next((m for size, m in by_size if size >= low), None)
    big = next((m for size, m in by_size if size >= high), None)
    return _ratio(big and big.p50_ms, small and small.p50_ms)


def targets(results: Results, page_kib: float | None, foreign: int | None) -> list[Target]:
    order, handmade = results.get("order page"), results.get("hand-written Flask-WTF page")
    throughput = _ratio(order and order.rps, handmade and handmade.rps)
    latency = _p50_growth(results.series.get("TinyDB", []), 100, 10_000)
    postgres = _p50_growth(results.series.get("PostgreSQL", []), 1_000, 1_000_000)
    bill_goal = Target("portico bill: 10× the subscriptions", "not measured", "≤ 12", None)
    if len(results.bill) == 2:
        (small, small_s), (big, big_s) = sorted(results.bill.items())
        name = f"portico bill: {big:_} ÷ {small:_} subscriptions".replace("_", " ")
        if big_s is None and small_s:  # stopped unfinished after bill_cap seconds
            bill_goal = Target(name, f"> {results.bill_cap / small_s:.1f}×", "≤ 12", False)
        else:
            bill = _ratio(big_s, small_s)
            bill_goal = _target(name, bill, "≤ 12", bill is not None and bill <= 12)
    return [
        _target(
            "order page req/s ÷ hand-written Flask-WTF req/s",
            throughput,
            "≥ 0.8",
            throughput is not None and throughput >= 0.8,
        ),
        _target(
            "sign-up p50 at 10 000 ÷ p50 at 100 customers",
            latency,
            "≤ 2",
            latency is not None and latency <= 2,
        ),
        _target(
            "sign-up p50 at 1 000 000 ÷ p50 at 1 000 customers (PostgreSQL)",
            postgres,
            "≤ 1.5",
            postgres is not None and postgres <= 1.5,
        ),
        bill_goal,
        _target(
            "order page weight, all requests",
            page_kib,
            "≤ 40 KB",
            page_kib is not None and page_kib <= 40,
            unit=" KB",
        ),
        Target(
            "order page requests to another host",
            "not measured" if foreign is None else str(foreign),
            "0",
            None if foreign is None else foreign == 0,
        ),
    ]


def _mark(met: bool | None) -> str:
    return {True: "pass", False: "**miss**", None: "–"}[met]


def markdown(results: Results, goals: list[Target], chart: str) -> str:
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`bench/run.py`); every ratio compares figures of this same run.",
        "",
    ]
    lines += ["## Targets", "", "| target | this run | goal | |", "|---|---|---|---|"]
    lines += [f"| {t.name} | {t.value} | {t.goal} | {_mark(t.met)} |" for t in goals]
    lines += [
        "",
        "## Requests",
        "",
        "| what | req/s | p50 ms | p99 ms | errors | requests | driver |",
        "|---|---|---|---|---|---|---|",
    ]
    baseline = results.get("hand-written Flask-WTF page")
    for m in results.load:
        compared = baseline and baseline.rps and m.name in ("order page", "bare Flask endpoint")
        share = f" ({m.rps / baseline.rps:.2f}× hand-written)" if compared else ""
        lines.append(
            f"| {m.name} | {m.rps:.1f}{share if m is not baseline else ''} | "
            f"{m.p50_ms:.1f} | {m.p99_ms:.1f} | {m.errors} | {m.requests} | {m.driver} |"
        )
    for label, points in results.series.items():
        lines += [
            "",
            f"## Sign-up POST by store size ({label})",
            "",
            "| customers | sign-ups/s | p50 ms | p99 ms | errors | sign-ups | vs smallest p50 |",
            "|---|---|---|---|---|---|---|",
        ]
        first = points[0].measured.p50_ms if points else 0
        for p in points:
            m = p.measured
            lines.append(
                f"| {p.customers:,} | {m.rps:.2f} | {m.p50_ms:.1f} | {m.p99_ms:.1f} | "
                f"{m.errors} | {m.requests} | {m.p50_ms / first:.1f}× |".replace(",", " ")
            )
    commands = {
        f"bill, {size:_} subscriptions".replace("_", " "): s for size, s in results.bill.items()
    }
    commands.update(results.timings)
    if commands:
        lines += ["", "## Commands", "", "| command | seconds |", "|---|---|"]
        lines += [
            f"| `portico {name}` | "
            + (
                f"{seconds:.2f}"
                if seconds is not None
                else f"> {results.bill_cap:.0f} (stopped unfinished)"
            )
            + " |"
            for name, seconds in commands.items()
        ]
    if results.facts:
        lines += ["", "## Footprint", "", "| what | |", "|---|---|"]
        lines += [f"| {name} | {value} |" for name, value in results.facts.items()]
    lines += ["", "## Sign-up latency against store size", "", chart, ""]
    if results.notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in results.notes] + [""]
    return "\n".join(lines)


def table(goals: list[Target]) -> str:
    """The targets for the terminal."""
    width = max(len(t.name) for t in goals)
    return "\n".join(
        f"{t.name:<{width}}  {t.value:>14}  {t.goal:<8}  {_mark(t.met).strip('*')}" for t in goals
    )


COLOURS = {"p50": "#0b5fff", "p99": "#d1495b"}
DASH = ["", "6 4"]  # one dash pattern per store: TinyDB solid, PostgreSQL dashed


def svg_chart(series: dict[str, Sequence[Point]], width: int = 640, height: int = 360) -> str:
    """Sign-up POST latency (p50 and p99, log scale) against customers (log scale)."""
    points = [p for ps in series.values() for p in ps if p.measured.p50_ms > 0]
    if not points:
        return "<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/>"
    left, right, top, bottom = 70, 150, 20, 50
    sizes = [p.customers for p in points]
    times = [t for p in points for t in (p.measured.p50_ms, p.measured.p99_ms) if t > 0]
    x0, x1 = math.floor(math.log10(max(1, min(sizes)))), math.ceil(math.log10(max(sizes)) - 1e-9)
    y0, y1 = math.floor(math.log10(min(times))), math.ceil(math.log10(max(times)) - 1e-9)
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)

    def x(size: float) -> float:
        return left + (math.log10(size) - x0) / (x1 - x0) * (width - left - right)

    def y(ms: float) -> float:
        return height - bottom - (math.log10(ms) - y0) / (y1 - y0) * (height - top - bottom)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        "<title>Sign-up POST latency against store size</title>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
    ]
    for power in range(x0, x1 + 1):
        out.append(
            f'<line x1="{x(10**power):.1f}" y1="{top}" x2="{x(10**power):.1f}" '
            f'y2="{height - bottom}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{x(10**power):.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle">{10**power:,}</text>'.replace(",", " ")
        )
    for power in range(y0, y1 + 1):
        out.append(
            f'<line x1="{left}" y1="{y(10**power):.1f}" x2="{width - right}" '
            f'y2="{y(10**power):.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y(10**power) + 4:.1f}" text-anchor="end">'
            f"{10**power:g} ms</text>"
        )
    out.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 12}" '
        'text-anchor="middle">customers in the store</text>'
    )
    legend_y = top + 10
    for number, (label, store_points) in enumerate(series.items()):
        for stat, colour in COLOURS.items():
            coords = [
                (x(p.customers), y(getattr(p.measured, f"{stat}_ms")))
                for p in store_points
                if getattr(p.measured, f"{stat}_ms") > 0
            ]
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in coords)
            dash = f' stroke-dasharray="{DASH[number % 2]}"' if DASH[number % 2] else ""
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
            )
            out += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in coords]
            out.append(
                f'<line x1="{width - right + 10}" y1="{legend_y}" x2="{width - right + 30}" '
                f'y2="{legend_y}" stroke="{colour}" stroke-width="2"{dash}/>'
            )
            out.append(
                f'<text x="{width - right + 35}" y="{legend_y + 4}">{escape(label)} {stat}</text>'
            )
            legend_y += 18
    out.append("</svg>")
    return "\n".join(out)
