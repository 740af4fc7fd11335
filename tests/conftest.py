"""Shared fixtures: the app from the factory with a temp instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.factory import create_app
from tests.stores import any_store, postgres_store, postgres_url  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config"
DEMO_MERCHANTS = ("acme", "stromma", "thistle")


def mails_sent(app: Flask) -> None:
    """Wait until the app's background sender sent the mails requests handed to it
    (``app.outbox.mails.send_later``): a response no longer waits for its mails."""
    app.extensions["portico.mail_sender"].drain()


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def config_dir() -> Path:
    """The config folder the app serves; tests that write merchants override it."""
    return DEMO_CONFIG


@pytest.fixture
def app(instance_dir: Path, config_dir: Path) -> Flask:
    return create_app(
        {
            "PORTICO_INSTANCE_DIR": str(instance_dir),
            "PORTICO_CONFIG_DIR": str(config_dir),
            "PORTICO_SECRET_KEY": "test-secret-key-for-signing-only",
            "PORTICO_BASE_URL": "http://portico.test",
            "PORTICO_SMTP_URL": "",
            "PORTICO_MIN_FILL_SECONDS": "0",
        }
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
