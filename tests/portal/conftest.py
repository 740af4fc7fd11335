"""Portal fixtures: the app is ``tests/conftest.py``'s (mail to the file outbox, or to a
real SMTP server when the test takes ``mailbox``), on a clock the test moves."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.helpers.clock import Clock


@pytest.fixture
def clock(app: Flask) -> Clock:
    """The time of every service, which the test moves forward."""
    clock = Clock.from_wall()
    app.extensions["portico"].clock = clock
    return clock
