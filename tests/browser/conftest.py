"""Real-browser fixtures: Portico on a loopback port, driven by Debian's Chromium.

Playwright's own browser download cannot work here, so the tests drive the
system Chromium. Where it is missing they skip and say why; CI sets
``PORTICO_REQUIRE_BROWSER=1`` and there a missing browser fails instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers.browser import (
    AXE,
    BROWSER_REQUIRED,
    CHROMIUM,
    CHROMIUM_ARGS,
    WATCH,
    LiveServer,
    PortalServer,
)
from tests.helpers.mail import smtp_settings


def _missing(why: str) -> None:
    if BROWSER_REQUIRED:
        pytest.fail(f"{why} (PORTICO_REQUIRE_BROWSER=1 makes this mandatory)")
    pytest.skip(why)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _missing("Debian's chromium is not installed; `make test` installs it when run as root")
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


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server


@pytest.fixture
def axe():
    """Runs axe-core in a page and returns its serious and critical violations."""
    if not AXE.exists():
        _missing("axe-core is not installed; `make test` installs it with npm")

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


@pytest.fixture
def portal(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[PortalServer]:
    """The portal on a loopback port; its mail goes to a real SMTP server only when the
    test reads mail (takes the ``mailbox`` fixture), else to the file outbox."""
    mailbox = request.getfixturevalue("mailbox") if smtp_settings(request) else None
    with PortalServer(tmp_path / "instance", mailbox) as server:
        yield server


@pytest.fixture
def audit_page(browser):
    """A page for axe-core: it is injected as a script, which the pages' CSP forbids."""
    context = browser.new_context(locale="en-GB", bypass_csp=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def watched(browser):
    """A page that records dialogs, CSP violations and script errors (the XSS sweeps)."""
    context = browser.new_context(locale="en-GB")
    context.add_init_script(WATCH)
    page = context.new_page()
    seen: dict[str, list[str]] = {"dialogs": [], "errors": [], "console": []}

    def on_dialog(dialog) -> None:
        seen["dialogs"].append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on(
        "console",
        lambda message: (
            seen["console"].append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    page.seen = seen
    yield page
    context.close()
