"""The background thread of ``portico serve``: sends pending mails and due webhooks.

Production runs ``portico mail deliver`` and ``portico webhooks deliver`` from
a timer (cron, a systemd timer) instead; both are safe to run in parallel with
this thread, since every delivery is claimed with a lease.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from app.container import Portico
from app.outbox.webhooks import delivery

log = logging.getLogger(__name__)


class DeliveryWorker:
    """Delivers right away, then every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, container: Portico, interval: float = 30.0) -> None:
        self.container = container
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="portico-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to end and wait for it (a delivery under way finishes first)."""
        self._stopping.set()
        self._thread.join()

    def __enter__(self) -> DeliveryWorker:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def deliver_once(self) -> None:
        container = self.container
        for run in container.mails.deliver_all(container.merchants):
            if run.sent or run.failed or run.given_up:
                log.info("%s", run.summary())
        for hooks in delivery.deliver_all(container.store, container.merchants, container.now):
            if hooks.delivered or hooks.retrying or hooks.failed:
                log.info("%s", hooks.summary())

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.deliver_once()
            except Exception:  # a bad run must not end the thread: the next one may succeed
                log.exception("background delivery failed; trying again in %s s", self.interval)
            self._stopping.wait(self.interval)
