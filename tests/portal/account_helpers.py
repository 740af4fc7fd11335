"""Helpers of the details, preferences, help and feedback tests."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import DEMO_CONFIG
from tests.portal.helpers import Mailbox, csrf_token, sign_in, sign_up, stored


def signed_in(app: Flask, mailbox: Mailbox, merchant: str, email: str) -> FlaskClient:
    """A new browser that signed up at ``merchant`` with ``email`` and signed in."""
    client = app.test_client()
    sign_up(client, merchant, email)
    sign_in(client, mailbox, merchant, email)
    return client


def page_token(client: FlaskClient, path: str) -> str:
    """The session's form token, from the page at ``path``."""
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    return csrf_token(response.get_data(as_text=True))


def customer(app: Flask, merchant: str, email: str) -> dict:
    found = [c for c in stored(app, merchant, "customers") if c["email_key"] == email.casefold()]
    assert len(found) == 1, found
    return found[0]


def events(app: Flask, merchant: str, event_type: str) -> list[dict]:
    return [e for e in stored(app, merchant, "outbox") if e.get("type") == event_type]


def audits(app: Flask, merchant: str, action: str) -> list[dict]:
    return [a for a in stored(app, merchant, "audit") if a["action"] == action]


def edited_config(tmp_path: Path, merchant: str, old: str, new: str) -> Path:
    """A copy of the demo config whose ``merchant`` YAML has ``old`` replaced by ``new``."""
    target = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, target)
    path = target / "merchants" / f"{merchant}.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")
    return target


def error_summary(html: str) -> list[str]:
    """The messages listed in the page's error summary."""
    block = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(0), re.S) if block else []
