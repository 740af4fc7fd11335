"""Issue 15, finding 4: a merchant file names only its own environment variables.

The attack: ``webhooks[].secret_env: PORTICO_SECRET_KEY`` (or another merchant's webhook
secret) made Portico sign merchant A's webhooks with that secret, handing A the key to
forge B's webhooks or every session and token of the instance. Every ``*_env`` key must
name a variable ``PORTICO_<SLUG>_…``; ``portico check`` refuses any other name on its
key, and the webhook signer refuses it again at run time, logging the name, never a value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.config.envnames import OPERATOR_VARIABLES, EnvNamespace, env_prefix
from app.outbox.webhooks import delivery
from tests.helpers.app import ROOT
from tests.helpers.security import copy_demo, edit_yaml, sign_up_acme

OPERATOR_SECRET = "operator-secret-key-0123456789"
STROMMA_SECRET = "whsec-stromma-0123456789"
ACME_SECRET = "whsec-acme-0123456789"
ENVIRON = {
    "PORTICO_SECRET_KEY": OPERATOR_SECRET,
    "PORTICO_STROMMA_WEBHOOK_SECRET": STROMMA_SECRET,
    "PORTICO_ACME_WEBHOOK_SECRET": ACME_SECRET,
}


def set_secret_env(path: Path, name: str) -> None:
    edit_yaml(path, lambda data: data["webhooks"][0].update(secret_env=name))


def check(runner: CliRunner, path: Path) -> tuple[int, list[str]]:
    result = runner.invoke(main, ["check", str(path)])
    return result.exit_code, [line for line in result.output.splitlines() if ": error: " in line]


def position_of(path: Path, text: str) -> str:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text in line:
            return f"{number}:{line.index(text) + 1}"
    raise AssertionError(text)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("PORTICO_SECRET_KEY", "'PORTICO_SECRET_KEY' is one of Portico's own settings, never "
                               "a merchant's: name it PORTICO_ACME_… instead"),
        ("PORTICO_STROMMA_WEBHOOK_SECRET", "'PORTICO_STROMMA_WEBHOOK_SECRET' is outside this "
                                           "merchant's namespace: name it PORTICO_ACME_…"),
        ("ACME_WEBHOOK_SECRET", "'ACME_WEBHOOK_SECRET' is outside this merchant's namespace: "
                                "name it PORTICO_ACME_…"),
        ("PORTICO_SMTP_URL", "is one of Portico's own settings"),
        ("PORTICO_ACME_", "is outside this merchant's namespace"),
        ("AWS_SECRET_ACCESS_KEY", "is outside this merchant's namespace"),
    ],
)  # fmt: skip
def test_check_refuses_a_webhook_secret_outside_the_namespace(
    runner: CliRunner, merchants: Path, name: str, message: str
) -> None:
    path = merchants / "acme.yaml"
    set_secret_env(path, name)
    code, errors = check(runner, path)
    assert code == 1
    where = position_of(path, name)
    [error] = errors
    assert error.startswith(f"{path}:{where}: error: webhooks[0].secret_env: '{name}' ")
    assert message in error


def test_check_refuses_stripe_keys_outside_the_namespace(
    runner: CliRunner, merchants: Path
) -> None:
    """The same rule for every ``*_env`` key, Stripe's included."""
    path = merchants / "acme.yaml"

    def stripe(data: dict) -> None:
        data["payments"]["providers"] = {"card": "stripe"}
        data["payments"]["stripe"] = {
            "publishable_key": "pk_test_acme",
            "secret_key_env": "PORTICO_STROMMA_STRIPE_SECRET_KEY",
            "webhook_secret_env": "PORTICO_SECRET_KEY",
        }

    edit_yaml(path, stripe)
    code, errors = check(runner, path)
    assert code == 1
    assert any(
        "error: payments.stripe.secret_key_env: 'PORTICO_STROMMA_STRIPE_SECRET_KEY' is outside "
        "this merchant's namespace: name it PORTICO_ACME_…" in line
        for line in errors
    ), errors
    assert any(
        "error: payments.stripe.webhook_secret_env: 'PORTICO_SECRET_KEY' is one of Portico's "
        "own settings" in line
        for line in errors
    ), errors


def test_a_slug_cannot_reach_the_operators_settings_or_a_longer_slugs_namespace(
    runner: CliRunner, tmp_path: Path
) -> None:
    """Merchant ``secret`` has the prefix ``PORTICO_SECRET_`` yet never reads
    ``PORTICO_SECRET_KEY``; merchant ``acme`` never reads ``acme-eu``'s variables."""
    merchants = copy_demo(tmp_path / "config", "acme")
    for slug in ("secret", "acme-eu"):
        (merchants / f"{slug}.yaml").write_text(
            (merchants / "acme.yaml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    for path in merchants.glob("*.yaml"):  # no logos: acme's folder is acme's alone
        edit_yaml(path, lambda data: data.update(branding={"theme": "default"}))
    set_secret_env(merchants / "secret.yaml", "PORTICO_SECRET_KEY")
    set_secret_env(merchants / "acme.yaml", "PORTICO_ACME_EU_WEBHOOK_SECRET")
    set_secret_env(merchants / "acme-eu.yaml", "PORTICO_ACME_EU_WEBHOOK_SECRET")
    assert "is one of Portico's own settings" in check(runner, merchants / "secret.yaml")[1][0]
    [error] = check(runner, merchants / "acme.yaml")[1]
    assert (
        "'PORTICO_ACME_EU_WEBHOOK_SECRET' is in the namespace of merchant 'acme-eu' "
        "(PORTICO_ACME_EU_…): choose a name that does not start with PORTICO_ACME_EU_"
    ) in error
    assert check(runner, merchants / "acme-eu.yaml") == (0, [])  # it is acme-eu's own
    assert env_prefix("acme-eu") == "PORTICO_ACME_EU_"


# --- run time: the signer ---------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.posts: list[tuple[str, bytes, Mapping[str, str]]] = []

    def __call__(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        self.posts.append((url, body, headers))
        return 200


def deliver_as(app: Flask, secret_env: str, recorder: Recorder) -> delivery.Run:
    """Deliver acme's events with its loaded config forged to name ``secret_env``, as if
    the check had been skipped (an old file, a bug): the signer must refuse by itself."""
    container = app.extensions["portico"]
    loaded = container.merchants.get("acme")
    webhook = loaded.config.webhooks[0].model_copy(update={"secret_env": secret_env})
    forged = dataclasses.replace(
        loaded, config=loaded.config.model_copy(update={"webhooks": (webhook,)})
    )
    return delivery.deliver_due(container.store, forged, container.now, recorder, ENVIRON)


@pytest.mark.parametrize(
    "secret_env", ["PORTICO_SECRET_KEY", "PORTICO_STROMMA_WEBHOOK_SECRET", "STROMMA_SECRET"]
)
def test_the_signer_never_signs_with_a_variable_outside_the_namespace(
    app: Flask, client: FlaskClient, secret_env: str, caplog: pytest.LogCaptureFixture
) -> None:
    sign_up_acme(client)
    recorder = Recorder()
    with caplog.at_level(logging.DEBUG):
        run = deliver_as(app, secret_env, recorder)
    assert recorder.posts == []  # nothing signed, nothing sent
    assert run.delivered == 0 and run.retrying == 1
    with app.extensions["portico"].store.read("acme") as tx:
        [entry] = list(tx.collection("webhook_deliveries").all())
    assert entry["last_error"].startswith(f"not sent: the signing secret's variable '{secret_env}'")
    assert secret_env in caplog.text  # the operator learns which name was refused
    assert OPERATOR_SECRET not in caplog.text and STROMMA_SECRET not in caplog.text
    assert OPERATOR_SECRET not in str(entry) and STROMMA_SECRET not in str(entry)


def test_the_merchants_own_variable_signs_its_webhooks(app: Flask, client: FlaskClient) -> None:
    sign_up_acme(client)
    recorder = Recorder()
    assert deliver_as(app, "PORTICO_ACME_WEBHOOK_SECRET", recorder).delivered == 1
    [(url, body, headers)] = recorder.posts
    assert url == "https://acme.example/hooks/portico"
    parts = dict(item.split("=", 1) for item in headers["Portico-Signature"].split(","))
    expected = hmac.new(ACME_SECRET.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(parts["v1"], expected.hexdigest())


def test_the_operators_variables_are_all_known() -> None:
    """Every ``PORTICO_*`` variable Portico or its tools read is refused to merchants, so a
    merchant slug such as ``secret`` or ``smtp`` can never name one."""
    named = set()
    for path in [*ROOT.glob("app/**/*.py"), ROOT / "Makefile"]:
        if path.name != "envnames.py":
            named |= set(re.findall(r"PORTICO_[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")))
    demo = tuple(env_prefix(slug) for slug in ("acme", "stromma", "thistle"))
    assert {name for name in named if not name.startswith(demo)} <= OPERATOR_VARIABLES
    for name in OPERATOR_VARIABLES:
        slug = name.removeprefix("PORTICO_").split("_")[0].lower()
        assert not EnvNamespace(slug).allows(name), name
