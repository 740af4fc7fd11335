"""Real-browser fixtures: Portico on a loopback port, driven by Debian's Chromium.

Playwright's own browser download cannot work here, so the tests drive the
system Chromium. Where it is missing they skip and say why; CI sets
``PORTICO_REQUIRE_BROWSER=1`` and there a missing browser fails instead.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("PORTICO_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def _missing(what: Path | str, why: str) -> None:
    if REQUIRED:
        pytest.fail(f"{why} (PORTICO_REQUIRE_BROWSER=1 makes this mandatory)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _missing(
            CHROMIUM, "Debian's chromium is not installed; `make test` installs it when run as root"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-GB", bypass_csp=True)  # lets the axe script in
    page = context.new_page()
    yield page
    context.close()


class LiveServer:
    """A Flask app served by werkzeug on a free loopback port, in a thread."""

    def __init__(self, app: Flask, host: str = "127.0.0.1") -> None:
        self.server = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def axe():
    """Runs axe-core in a page and returns its serious and critical violations."""
    if not AXE.exists():
        _missing(AXE, "axe-core is not installed; `make test` installs it with npm")

    def run(page) -> list[dict]:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result
            if v["impact"] in ("serious", "critical")
        ]

    return run
