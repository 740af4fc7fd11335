"""What the fuzzers check, importable without atheris (``tests/fuzz/test_fuzz_properties.py``
runs them on examples, ``tests/fuzz/fuzz_*.py`` under atheris).

Each ``check_*`` takes the fuzzer's bytes and raises ``AssertionError`` (or
lets an unexpected exception through) when Portico misbehaves: anything but
a document or a positioned ``YamlError`` from the YAML reader, anything but a
``LoadedMerchant`` from the loader, a 500 (or a stored customer without a
303) from an order post.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

from app.config.loader import LoadedMerchant, load_merchant
from app.config.registry import installed_themes
from app.config.yamlsource import YamlError, parse_yaml
from app.settings import THEMES_DIR
from app.web.mail_sender import mail_sender
from tests.helpers.app import DEMO_CONFIG

MERCHANTS = ("acme", "stromma", "thistle")
CLEAN_ANSWERS = {303, 400, 403, 410, 413, 422, 429}


def seeds() -> list[bytes]:
    """Starting inputs: the demo merchant files."""
    return [(DEMO_CONFIG / "merchants" / f"{slug}.yaml").read_bytes() for slug in MERCHANTS]


@cache
def _workspace() -> Path:
    """A config folder with the demo merchants' assets, reused for every input."""
    folder = Path(tempfile.mkdtemp(prefix="portico-fuzz-"))
    for slug in MERCHANTS:
        shutil.copytree(DEMO_CONFIG / "merchants" / slug, folder / "merchants" / slug)
    return folder


def check_yaml(data: bytes) -> None:
    """The YAML reader on raw bytes, then the merchant loader on the same bytes."""
    try:
        parse_yaml(data)
    except YamlError as error:
        assert error.problem.message and error.problem.position is not None
    slug = MERCHANTS[len(data) % len(MERCHANTS)]
    path = _workspace() / "merchants" / f"{slug}.yaml"
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)
    loaded = load_merchant(path, installed_themes(THEMES_DIR))
    assert isinstance(loaded, LoadedMerchant)
    assert (loaded.config is None) == bool(loaded.errors)


@cache
def order_app():
    from tests.helpers.app import make_app  # the app only when a harness posts orders

    return make_app(
        _workspace() / "instance",
        PORTICO_SECRET_KEY="fuzz-secret",
        PORTICO_SIGNUP_RATE_LIMIT="100000000 per minute",
    )


def _customers(app, slug: str) -> int:
    with app.extensions["portico"].store.read(slug) as tx:
        return tx.collection("customers").count()


def check_order_post(slug: str, body: bytes, content_type: str) -> None:
    """One order post with a valid form token appended: a clean answer, and a customer
    stored exactly when the answer is a success."""
    app = order_app()
    token = app.extensions["portico"].form_tokens.issue(slug).encode()
    # The last post's mail may still be on its way: its sender writes the data file too.
    mail_sender(app).drain()
    before = _customers(app, slug)
    if before >= 50:  # a long run keeps the data file small, so every input stays fast
        app.extensions["portico"].store.path(slug).unlink()
        before = 0
    response = app.test_client().post(
        f"/{slug}/order", data=body + b"&form_token=" + token, content_type=content_type
    )
    assert response.status_code in CLEAN_ANSWERS, response.status_code
    assert b"Traceback" not in response.get_data()
    created = _customers(app, slug) - before
    assert created == (1 if response.status_code == 303 else 0), (response.status_code, created)
