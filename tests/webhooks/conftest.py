"""Webhook fixtures: a real HTTP receiver on loopback and a merchant whose YAML points at it."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask import Flask

from app.factory import create_app
from tests.conftest import DEMO_CONFIG
from tests.portal.helpers import Clock

SECRET_ENV = "STROMMA_WEBHOOK_SECRET"
SECRET = "whsec-test-0123456789abcdef"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


class Receiver:
    """Records every POST; answers each path with the statuses queued for it, then 200."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.planned: dict[str, list[int]] = {}
        self.delay = 0.0  # seconds each answer takes (a slow endpoint)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                with receiver.lock:
                    queue = receiver.planned.get(self.path, [])
                    status = queue.pop(0) if queue else 200
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, status)
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def fail(self, path: str, *statuses: int) -> None:
        self.planned[path] = list(statuses)

    def accepted(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [
                r
                for r in self.requests
                if 200 <= r.answered < 300 and (path is None or r.path == path)
            ]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join()


@pytest.fixture
def config_dir(tmp_path: Path, receiver: Receiver) -> Path:
    """The demo merchant stromma (30-day trial) with two loopback endpoints: /hooks gets
    signup.completed, /other gets subscription.created and invoice.paid."""
    merchants = tmp_path / "config" / "merchants"
    shutil.copytree(DEMO_CONFIG / "merchants" / "stromma", merchants / "stromma")
    yaml = (DEMO_CONFIG / "merchants" / "stromma.yaml").read_text(encoding="utf-8")
    yaml += f"""
webhooks:
  - url: "{receiver.url}/hooks"
    events: [signup.completed]
    secret_env: {SECRET_ENV}
  - url: "{receiver.url}/other"
    events: [subscription.created, invoice.paid]
    secret_env: {SECRET_ENV}
"""
    (merchants / "stromma.yaml").write_text(yaml, encoding="utf-8")
    return tmp_path / "config"


def make_app(instance_dir: Path, config_dir: Path, clock: Clock) -> Flask:
    """An app over ``instance_dir``; a second one over the same folder is a restart (or
    another worker process)."""
    app = create_app(
        {
            "PORTICO_INSTANCE_DIR": str(instance_dir),
            "PORTICO_CONFIG_DIR": str(config_dir),
            "PORTICO_SECRET_KEY": "webhook-test-secret-key-0123456789",
            "PORTICO_BASE_URL": "http://portico.test",
            "PORTICO_SMTP_URL": "",
            "PORTICO_MIN_FILL_SECONDS": "0",
        }
    )
    app.extensions["portico"].clock = clock
    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(instance_dir: Path, config_dir: Path, clock: Clock) -> Flask:
    return make_app(instance_dir, config_dir, clock)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET
