"""The time a test says it is: the services read it, the test moves it forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

START = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)  # the billing tests' first day


class Clock:
    """The time a test says it is; ``advance`` travels forward."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    @classmethod
    def from_wall(cls) -> Clock:
        """A clock starting at the real time now, to the second."""
        return cls(datetime.now(UTC).replace(microsecond=0))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
