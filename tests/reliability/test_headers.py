"""Security headers on every response of every route, and errors that never show a stack trace.

Routes come from ``app.url_map``, so a new blueprint is covered the day it is
registered; its parameters are filled with demo values (a real sign-up id
where one is needed) or made-up ones, and errors (404, 405, 413, 500) must
carry the same headers as pages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from app.web.merchant import open_merchant
from tests.helpers.app import mails_sent, make_app
from tests.helpers.orders import VALID, open_form, stored

PARAMETERS = {
    "merchant": "acme",
    "kind": "logo",
    "theme": "default",
    "filename": "portico.css",
    "token": "made-up-token",
}


def https_app(instance_dir: Path, **overrides: str) -> Flask:
    """The app as served behind HTTPS."""
    return make_app(instance_dir, PORTICO_BASE_URL="https://portico.test", **overrides)


def directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts}


def check_headers(response, url: str, *, production: bool = False) -> None:
    headers = response.headers
    policy = directives(headers.get("Content-Security-Policy", ""))
    assert policy, f"{url}: no Content-Security-Policy"
    scripts = policy.get("script-src", policy.get("default-src", ""))
    assert scripts in ("'self'", "'none'"), f"{url}: script-src {scripts!r}"
    assert "unsafe-inline" not in scripts and "unsafe-eval" not in scripts
    assert "frame-ancestors" in policy, f"{url}: no frame-ancestors"
    assert policy.get("base-uri", "'none'") == "'none'" or "sandbox" in policy
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("Referrer-Policy") in ("strict-origin-when-cross-origin", "no-referrer")
    assert re.fullmatch(r"[0-9a-f]{16}", headers.get("X-Request-ID", "")), url
    if policy["frame-ancestors"] == "'none'":
        assert headers.get("X-Frame-Options") == "DENY", url
    hsts = headers.get("Strict-Transport-Security")
    if production:
        assert hsts and "max-age=63072000" in hsts, url
    else:
        assert hsts is None, f"{url}: HSTS in development would stick to localhost"


def route_urls(app: Flask, signup_id: str) -> Iterator[tuple[str, str, Rule]]:
    """(method, url, rule) for every route and method, parameters filled in."""
    for rule in app.url_map.iter_rules():
        values = {name: PARAMETERS.get(name, "made-up") for name in rule.arguments}
        if "signup_id" in values:
            values["signup_id"] = signup_id
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted((rule.methods or set()) - {"HEAD"}):
            yield method, path, rule


@pytest.fixture
def signup_id(app: Flask, client: FlaskClient) -> str:
    token = open_form(client, "acme")
    response = client.post("/acme/order", data={**VALID["acme"], "form_token": token})
    assert response.status_code == 303
    return response.headers["Location"].split("/complete/")[1].split("?")[0]


@pytest.mark.parametrize("production", [False, True], ids=["development", "production"])
def test_every_route_and_method_sends_the_security_headers(
    instance_dir: Path, production: bool
) -> None:
    env = {"PORTICO_ENV": "production"} if production else {}
    app = https_app(instance_dir, PORTICO_SIGNUP_RATE_LIMIT="1000 per minute", **env)
    client = app.test_client()
    token = open_form(client, "acme")
    response = client.post("/acme/order", data={**VALID["acme"], "form_token": token})
    signup_id = response.headers["Location"].split("/complete/")[1].split("?")[0]
    seen = set()
    for method, url, rule in route_urls(app, signup_id):
        response = client.open(url, method=method, data={} if method == "POST" else None)
        assert response.status_code < 500, f"{method} {url}: {response.status_code}"
        check_headers(response, f"{method} {url}", production=production)
        seen.add(rule.endpoint)
        response.close()
    assert {"order.order_page", "order.submit_order", "order.complete"} <= seen
    for method, url in [
        ("GET", "/nobody/order"),
        ("GET", "/no/such/page/at/all"),
        ("DELETE", "/acme/order"),
        ("GET", "/acme/order?embed=1&origin=https://www.acme.example"),
    ]:
        check_headers(client.open(url, method=method), url, production=production)


def test_embed_mode_opens_framing_only_to_the_merchants_origins(client: FlaskClient) -> None:
    policy = directives(client.get("/acme/order?embed=1").headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == "https://www.acme.example http://localhost:8001"
    assert "X-Frame-Options" not in client.get("/acme/order?embed=1").headers
    assert (
        directives(client.get("/acme/order").headers["Content-Security-Policy"])["frame-ancestors"]
        == "'none'"
    )


def test_oversized_posts_get_413_with_headers(client: FlaskClient) -> None:
    response = client.post("/acme/order", data={"company": "x" * 70_000})
    assert response.status_code == 413
    check_headers(response, "POST /acme/order (oversized)")
    assert "Traceback" not in response.get_data(as_text=True)
    many_parts = {f"f{i}": "1" for i in range(1_000)}
    response = client.post("/acme/order", data=many_parts, content_type="multipart/form-data")
    assert response.status_code == 413  # more parts than any order form has
    check_headers(response, "POST /acme/order (1000 parts)")


@pytest.fixture
def failing_app(instance_dir: Path) -> Flask:
    """The app with routes that fail the way a bug would: anywhere, and on a merchant page."""
    app = https_app(instance_dir)

    def boom() -> str:
        raise RuntimeError("secret detail: db password=hunter2")

    def merchant_boom(merchant: str) -> str:
        open_merchant(merchant)
        raise KeyError("internal_state")

    def gone() -> str:
        abort(503)

    app.add_url_rule("/boom", "boom", boom)
    app.add_url_rule("/<merchant>/boom", "merchant_boom", merchant_boom)
    app.add_url_rule("/gone", "gone", gone)
    return app


@pytest.mark.parametrize("url", ["/boom", "/acme/boom", "/stromma/boom?lang=en"])
def test_a_500_shows_a_request_id_and_no_trace(
    failing_app: Flask, url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="app.web.errors"):
        response = failing_app.test_client().get(url)
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    check_headers(response, url)
    request_id = response.headers["X-Request-ID"]
    assert request_id in html  # the page shows the reference a customer can quote
    for leak in ("Traceback", "hunter2", "RuntimeError", "KeyError", "internal_state", ".py"):
        assert leak not in html
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].exc_info is not None  # the log has the trace
    if url != "/boom":
        assert '<html lang="' in html and "site-footer__merchant" in html  # branded


def test_503_is_not_logged_as_a_crash(failing_app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="app.web.errors"):
        response = failing_app.test_client().get("/gone")
    assert response.status_code == 503
    check_headers(response, "/gone")
    assert caplog.records == []


def test_a_mail_that_fails_after_the_commit_still_answers_success(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """The sign-up is committed before its mail is rendered: a bug in rendering must
    neither hide the success from the customer nor lose the mail."""

    def broken(*args, **kwargs):
        raise RuntimeError("template bug")

    monkeypatch.setattr("app.outbox.mails.render_mail", broken)
    token = open_form(client, "stromma")
    with caplog.at_level(logging.ERROR):
        response = client.post("/stromma/order", data={**VALID["stromma"], "form_token": token})
        mails_sent(app)
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).status_code == 200
    [mail] = stored(app, "stromma", "outbox", kind="mail")
    assert mail["sent_at"] is None  # waits for the next attempt
    assert any("outbox" in record.getMessage() for record in caplog.records)


def test_a_store_held_too_long_is_a_503_to_send_again(instance_dir: Path) -> None:
    from filelock import FileLock

    app = https_app(instance_dir)
    store = app.extensions["portico"].store
    store.lock_timeout = 0.2
    client = app.test_client()
    data = {**VALID["stromma"], "form_token": open_form(client, "stromma", "?lang=en")}
    with FileLock(f"{store.path('stromma')}.lock"):  # another worker in a long commit
        busy = client.post("/stromma/order?lang=en", data=data)
    assert busy.status_code == 503
    assert "Nothing was saved" in busy.get_data(as_text=True)
    assert client.post("/stromma/order?lang=en", data=data).status_code == 303
