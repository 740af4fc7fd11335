"""What a page costs a visitor (bytes, requests, hosts) and what a worker costs the server
(peak resident memory), plus a config folder of many merchants to measure it with."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from bench.load import Connection

DEMO_MERCHANTS = ("acme", "stromma", "thistle")


@dataclass(frozen=True)
class PageWeight:
    requests: int
    bytes: int  # response bodies as sent, uncompressed
    by_kind: dict[str, int]  # content type → bytes
    foreign: tuple[str, ...]  # subresources on another host: must stay empty


class _Subresources(HTMLParser):
    """What a browser fetches to show the page: stylesheets, icons, scripts, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and {"stylesheet", "icon"} & set((found.get("rel") or "").split()):
            self.urls.append(found.get("href") or "")
        elif tag in ("script", "img", "source", "iframe") and found.get("src"):
            self.urls.append(found["src"] or "")


CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


def page_weight(base_url: str, path: str) -> PageWeight:
    """Fetch the page and, once each, everything it and its stylesheets reference."""
    origin = urlsplit(base_url).netloc
    seen: set[str] = set()
    foreign: list[str] = []
    by_kind: dict[str, int] = {}
    queue = [urljoin(base_url, path)]
    with Connection(base_url) as connection:
        while queue:
            url = queue.pop(0)
            if url in seen or url.startswith("data:"):
                continue
            seen.add(url)
            parts = urlsplit(url)
            if parts.netloc != origin:
                foreign.append(url)
                continue
            status, headers, body = connection.request(
                "GET", parts.path + (f"?{parts.query}" if parts.query else "")
            )
            if status != 200:
                raise RuntimeError(f"{url} answered {status}")
            kind = headers.get("content-type", "").split(";")[0]
            by_kind[kind] = by_kind.get(kind, 0) + len(body)
            if kind == "text/html":
                parser = _Subresources()
                parser.feed(body.decode())
                queue += [urljoin(url, ref) for ref in parser.urls if ref]
            elif kind == "text/css":
                queue += [urljoin(url, a or b) for a, b in CSS_URL.findall(body.decode())]
    return PageWeight(len(seen) - len(foreign), sum(by_kind.values()), by_kind, tuple(foreign))


def peak_rss_kib(pid: int) -> int:
    """The process's peak resident set size (``VmHWM``), in KiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE).group(1))


def many_merchants(source: Path, destination: Path, count: int) -> list[str]:
    """``count`` merchant files in ``destination/merchants``, copies of the demo merchants
    in turn (their logos included); returns their slugs."""
    merchants = destination / "merchants"
    shutil.rmtree(destination, ignore_errors=True)
    merchants.mkdir(parents=True)
    for demo in DEMO_MERCHANTS:
        shutil.copytree(source / "merchants" / demo, merchants / demo)
    slugs = []
    for number in range(count):
        demo = DEMO_MERCHANTS[number % len(DEMO_MERCHANTS)]
        slug = f"{demo}-{number:03d}"
        shutil.copyfile(source / "merchants" / f"{demo}.yaml", merchants / f"{slug}.yaml")
        slugs.append(slug)
    return slugs
