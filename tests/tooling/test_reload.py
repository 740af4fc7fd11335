"""A merchant file edited while Portico runs: served at once when valid; when broken,
its problems are logged once per change and, in development only, shown on its 503 page."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from flask import Flask

from tests.helpers.app import DEMO_CONFIG, make_app

BROKEN = 'merchant:\n  name: Stromma\n  email: "<script>alert(1)</script>"\n'


def served_app(tmp_path: Path, environment: str) -> tuple[Flask, Path]:
    config = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG / "merchants", config / "merchants")
    app = make_app(tmp_path / "instance", config, PORTICO_ENV=environment)
    return app, config / "merchants" / "stromma.yaml"


def registry_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "app.config.registry" and r.levelno == logging.ERROR
    ]


def test_a_broken_file_is_logged_once_per_change_and_shown_in_development(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app, path = served_app(tmp_path, "development")
    client = app.test_client()
    good = path.read_text(encoding="utf-8")
    assert client.get("/stromma/order?lang=en").status_code == 200
    caplog.set_level(logging.INFO)
    path.write_text(BROKEN, encoding="utf-8")
    first = client.get("/stromma/order?lang=en")
    logged = registry_errors(caplog)
    assert first.status_code == 503 and logged
    assert all("stromma.yaml:" in line for line in logged)
    for _ in range(3):
        assert client.get("/stromma/portal?lang=en").status_code == 503
    assert registry_errors(caplog) == logged  # nothing new until the file changes again

    html = first.get_data(as_text=True)
    assert "Problems in the merchant file" in html
    assert "stromma.yaml:3:" in html  # file:line:column of the bad email
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert client.get("/acme/order?lang=en").status_code == 200  # the others keep serving

    path.write_text(BROKEN.replace("Stromma", "Strömma"), encoding="utf-8")
    assert client.get("/stromma/order?lang=en").status_code == 503
    assert len(registry_errors(caplog)) > len(logged)  # a new change is logged again

    path.write_text(good, encoding="utf-8")
    assert client.get("/stromma/order?lang=en").status_code == 200


def test_production_shows_only_a_generic_503(tmp_path: Path) -> None:
    app, path = served_app(tmp_path, "production")
    path.write_text(BROKEN, encoding="utf-8")
    response = app.test_client().get("/stromma/order?lang=en", base_url="https://localhost")
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "This page is being updated" in html
    assert "stromma.yaml" not in html and "Problems in the merchant file" not in html
