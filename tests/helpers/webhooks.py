"""Webhooks as a merchant's endpoint sees them: a real HTTP receiver on loopback that
records every POST and answers with the statuses a test plans (the ``receiver`` fixture
of ``tests/conftest.py`` runs it)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET_ENV = "PORTICO_STROMMA_WEBHOOK_SECRET"
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
