"""Webhook fixtures: a merchant whose YAML points at the loopback ``receiver``
(``tests/conftest.py``), its secret in the environment, an app on a clock the test moves."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers.app import DEMO_CONFIG, make_app, stop_background_work
from tests.helpers.clock import Clock
from tests.helpers.webhooks import SECRET, SECRET_ENV, Receiver


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


@pytest.fixture
def clock() -> Clock:
    return Clock.from_wall()


@pytest.fixture
def app(instance_dir: Path, config_dir: Path, clock: Clock) -> Iterator[Flask]:
    """An app over ``instance_dir`` on the test's clock; a second one over the same
    folder (:func:`~tests.helpers.app.make_app`) is a restart, or another worker process."""
    app = make_app(instance_dir, config_dir, clock=clock)
    yield app
    stop_background_work(app)


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET
