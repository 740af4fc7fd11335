"""Portal fixtures: the app from the factory, sending mail to a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask

from app.factory import create_app
from tests.conftest import DEMO_CONFIG
from tests.portal.helpers import Clock, Mailbox, free_port


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.smtp_url = f"smtp://127.0.0.1:{controller.port}"  # type: ignore[attr-defined]
    yield box
    controller.stop()


def make_portal_app(instance_dir: Path, mailbox: Mailbox, **overrides: str) -> Flask:
    return create_app(
        {
            "PORTICO_INSTANCE_DIR": str(instance_dir),
            "PORTICO_CONFIG_DIR": str(DEMO_CONFIG),
            "PORTICO_SECRET_KEY": "portal-test-secret-key-0123456789",
            "PORTICO_BASE_URL": "http://portico.test",
            "PORTICO_SMTP_URL": mailbox.smtp_url,  # type: ignore[attr-defined]
            "PORTICO_MIN_FILL_SECONDS": "0",
            **overrides,
        }
    )


@pytest.fixture
def app(instance_dir: Path, mailbox: Mailbox) -> Iterator[Flask]:
    app = make_portal_app(instance_dir, mailbox)
    yield app
    app.extensions["portico.signin_mailer"].shutdown()
    app.extensions["portico.mail_sender"].shutdown()  # before the mailbox stops


@pytest.fixture
def clock(app: Flask) -> Clock:
    """The time of every service, which the test moves forward."""
    clock = Clock()
    app.extensions["portico"].clock = clock
    return clock
