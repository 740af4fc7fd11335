"""Embedding: a merchant site on one origin frames Portico on another, cookies blocked."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers.app import DEMO_CONFIG, make_app
from tests.helpers.browser import CHROMIUM, CHROMIUM_ARGS, LiveServer
from tests.helpers.orders import stored

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title></head>
<body><h1>Our shop</h1>
<div id="order" data-portico-order="acme" data-plan="starter" data-lang="en"
     data-prefill-company="Prefilled AG" data-title="Order ACME Cloud"></div>
<p id="after">Below the form</p>
<script>
window.porticoEvents = [];
["ready", "resize", "signup", "error"].forEach(function (name) {
  document.addEventListener("portico:" + name, function (event) {
    window.porticoEvents.push({type: name, detail: event.detail});
  });
});
</script>
<script src="PORTICO/embed.js" async></script>
</body></html>"""


class MerchantSite:
    """The merchant's own web site: one page with the embed snippet, on its own origin."""

    def __init__(self, host: str) -> None:
        self.portico_url = ""
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(HOST_PAGE.replace("PORTICO", site.portico_url).encode())

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.url = (
            f"http://{'localhost' if host == '127.0.0.1' else host}:{self.server.server_port}"
        )
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def embedding(
    tmp_path: Path, instance_dir: Path
) -> Iterator[tuple[LiveServer, MerchantSite, object]]:
    """The merchant site on localhost:A, allowed by acme; Portico on 127.0.0.1:B."""
    site = MerchantSite("127.0.0.1")
    merchants = tmp_path / "config" / "merchants"
    merchants.mkdir(parents=True)
    shutil.copytree(DEMO_CONFIG / "merchants" / "acme", merchants / "acme")
    source = (DEMO_CONFIG / "merchants" / "acme.yaml").read_text(encoding="utf-8")
    (merchants / "acme.yaml").write_text(
        source.replace('"http://localhost:8001"', f'"{site.url}"'), encoding="utf-8"
    )
    app = make_app(instance_dir, tmp_path / "config")
    with LiveServer(app) as server:
        site.portico_url = server.url
        yield server, site, app
    site.close()


@pytest.fixture
def cookieless_browser():
    """Chromium with third-party cookies blocked, as Safari and Chrome's tracking protection do."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--test-third-party-cookie-phaseout",
                "--block-third-party-cookies",
            ],
        )
        yield browser
        browser.close()


def events(page, kind: str) -> list[dict]:
    return [e for e in page.evaluate("window.porticoEvents") if e["type"] == kind]


def test_embedded_signup_across_origins(embedding, cookieless_browser) -> None:
    server, site, app = embedding
    context = cookieless_browser.new_context(locale="en-GB")
    page = context.new_page()
    cookies_sent = []
    page.on("request", lambda r: cookies_sent.append(r.url) if "cookie" in r.headers else None)
    page.goto(site.url)
    page.wait_for_function("window.porticoEvents.some(e => e.type === 'ready')")
    iframe = page.locator("#order iframe")
    assert iframe.get_attribute("title") == "Order ACME Cloud"
    frame = page.frame_locator("#order iframe")
    assert frame.locator("input[name=company]").input_value() == "Prefilled AG"
    height_before = iframe.bounding_box()["height"]
    assert iframe.get_attribute("scrolling") == "no"
    inner = next(f for f in page.frames if f.url.startswith(server.url))
    assert abs(inner.evaluate("document.documentElement.scrollHeight") - height_before) <= 2
    frame.locator("button[type=submit]").click()
    frame.locator("[data-error-summary]").wait_for()
    page.wait_for_function(
        f"document.querySelector('#order iframe').getBoundingClientRect().height > {height_before}"
    )
    assert events(page, "resize")
    frame.get_by_label("Email").fill("jana@example.com")
    frame.get_by_label("First name").fill("Jana")
    frame.get_by_label("Last name").fill("Schmidt")
    frame.get_by_label("Street and number").fill("Unter den Linden 5")
    frame.get_by_label("Postal code").fill("10117")
    frame.get_by_label("City").fill("Berlin")
    frame.locator("input[name=payment_method][value=invoice]").check()
    frame.locator("input[name=terms]").check()
    frame.locator("button[type=submit]").click()
    page.wait_for_function("window.porticoEvents.some(e => e.type === 'signup')")
    signup = events(page, "signup")[0]["detail"]
    assert signup["merchant"] == "acme" and signup["plan"] == "starter"
    assert re.fullmatch(r"sig_[0-9a-f]{24}", signup["signupId"])
    assert set(signup) == {"signupId", "plan", "merchant"}  # no personal data crosses over
    assert len(stored(app, "acme", "customers")) == 1
    assert not [url for url in cookies_sent if url.startswith(server.url)]
    context.close()


def test_an_origin_not_allowed_cannot_frame_the_page(embedding, cookieless_browser) -> None:
    server, _, _ = embedding
    stranger = MerchantSite("127.0.0.2")
    stranger.portico_url = server.url
    try:
        page = cookieless_browser.new_page()
        page.goto(stranger.url)
        page.wait_for_timeout(2500)
        assert not events(page, "ready")
        frame = page.frame_locator("#order iframe")
        assert frame.locator("form").count() == 0
        page.close()
    finally:
        stranger.close()
