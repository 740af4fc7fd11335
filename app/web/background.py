"""Work done after the response, in a small per-process thread pool, in the app's context.

Used for what a request must not wait for: sign-in mails (their timing would
tell whether an address is known) and the mails a change leaves in the outbox
(rendering an invoice PDF and talking to the SMTP server take longer than the
change itself). Work handed over here may be lost with the process, so it must
be work that is safe to lose: requested again, or picked up later from the
store.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)


class BackgroundWork:
    """Runs callables in ``workers`` threads of this process, each in ``app``'s context."""

    def __init__(self, app: Flask, workers: int, name: str) -> None:
        self.app = app
        self.workers = workers
        self.name = name
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pid = 0
        self._pending: set[Future] = set()

    def submit(self, work: Callable[..., Any], *args: Any) -> None:
        """Run ``work(*args)`` soon; returns at once. An error is logged, never raised."""
        future = self._pool().submit(self._run, work, *args)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def drain(self, timeout: float = 30.0) -> None:
        """Wait until the work submitted so far is done (tests, shutdown)."""
        with self._lock:
            pending = set(self._pending)
        wait(pending, timeout=timeout)

    def shutdown(self) -> None:
        """Finish the work submitted so far and stop the threads."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)

    def _pool(self) -> ThreadPoolExecutor:
        # Created in the process that uses it: a pool made before a fork (gunicorn
        # --preload) would have no threads in the worker.
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
                self._pid = os.getpid()
            return self._executor

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def _run(self, work: Callable[..., Any], *args: Any) -> None:
        with self.app.app_context():
            try:
                work(*args)
            except Exception:
                log.exception("background work %s failed", getattr(work, "__name__", work))
