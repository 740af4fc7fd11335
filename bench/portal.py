"""A bench client signed in to the portal the way support signs a customer in:
``portico portal-link`` prints a link, its page's one button (a POST) starts the session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bench.load import Connection
from tests.helpers.orders import form_token


def sign_in(base_url: str, environment: dict[str, str], merchant: str, email: str) -> str:
    """The ``Cookie`` header of a fresh portal session for ``email``.

    ``environment`` must be the server's (same instance folder, secret and base URL).
    """
    link = subprocess.run(
        [str(Path(sys.executable).with_name("portico")), "portal-link", merchant, email],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = urlsplit(link).path
    with Connection(base_url) as connection:
        status, _, page = connection.request("GET", path)
        if status != 200:
            raise RuntimeError(f"the sign-in link answered {status}")
        status, headers, _ = connection.request(
            "POST",
            path,
            f"form_token={form_token(page.decode())}".encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "Origin": connection.origin},
        )
    cookie = headers.get("set-cookie", "").split(";", 1)[0]
    if status != 303 or not cookie:
        raise RuntimeError(f"signing in answered {status} without a session cookie")
    return cookie
