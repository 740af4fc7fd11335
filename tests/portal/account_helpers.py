"""Helpers of the details, preferences, help and feedback tests."""

from __future__ import annotations

import re

from flask import Flask

from tests.portal.helpers import stored


def events(app: Flask, merchant: str, event_type: str) -> list[dict]:
    return [e for e in stored(app, merchant, "outbox") if e.get("type") == event_type]


def error_summary(html: str) -> list[str]:
    """The messages listed in the page's error summary."""
    block = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    return re.findall(r"<li>(.*?)</li>", block.group(0), re.S) if block else []
