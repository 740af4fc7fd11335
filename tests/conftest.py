"""Shared fixtures: the app from the factory over a temp instance folder, the stores,
and servers on loopback that only the tests asking for them start (an SMTP server's
``mailbox``, a webhook ``receiver``, ``localstripe``).

The helpers they build on are in ``tests/helpers/``.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.store import Store, TinyDBStore
from app.store.migrate import upgrade
from app.store.postgres import PostgresStore
from tests.helpers.app import DEMO_CONFIG, make_app, stop_background_work
from tests.helpers.mail import Mailbox, smtp_server, smtp_settings
from tests.helpers.net import free_port
from tests.helpers.stores import STORES, empty_tables, journaled_store, new_schema
from tests.helpers.stripe import SECRET_ENV, WEBHOOK_ENV, WEBHOOK_SECRET
from tests.helpers.stripe import SECRET_KEY as STRIPE_SECRET_KEY
from tests.helpers.webhooks import Receiver


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def config_dir() -> Path:
    """The config folder the app serves; tests that write merchants override it."""
    return DEMO_CONFIG


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server on loopback and what it received: only for tests that read
    mail. The ``app`` of such a test sends its mail there; every other app writes its
    mail to the file outbox."""
    with smtp_server() as box:
        yield box


@pytest.fixture
def app(instance_dir: Path, config_dir: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The app over the test's instance folder; its mail goes to the file outbox, or to
    the ``mailbox`` fixture's SMTP server when the test takes that fixture."""
    app = make_app(instance_dir, config_dir, **smtp_settings(request))
    yield app
    stop_background_work(app)  # before the mailbox stops


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# --- stores: TinyDB always, PostgreSQL when PORTICO_TEST_POSTGRES says where -------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A connection URL to a fresh, migrated schema of this session's own."""
    with new_schema() as url:
        upgrade(url)
        yield url


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[PostgresStore]:
    """The PostgreSQL store over empty tables."""
    empty_tables(postgres_url)
    store = PostgresStore(postgres_url, lock_timeout=30)
    yield store
    store.close()


@pytest.fixture(params=STORES)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """Each store in turn: a test taking this runs once per store."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_store")
    if request.param == "tinydb-journal":
        return journaled_store(tmp_path / "data")
    return TinyDBStore(tmp_path / "data")


# --- servers on loopback ------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook endpoint on loopback recording every POST."""
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running localstripe (a stateful fake of Stripe's API, with a
    Stripe.js shim at ``/js.stripe.com/v3/``), started once per session on a free port."""
    port = free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"localstripe did not start (exit code {process.poll()})")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def stripe_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """acme's Stripe keys in the environment, as ``secret_key_env`` names them."""
    monkeypatch.setenv(SECRET_ENV, STRIPE_SECRET_KEY)
    monkeypatch.setenv(WEBHOOK_ENV, WEBHOOK_SECRET)
