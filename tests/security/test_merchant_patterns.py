"""Issue 15, finding 6: a merchant ``pattern`` cannot stall the server (ReDoS).

The attack: ``pattern: "^(a+)+$"`` and a few anonymous posts of ``aaaa…!`` kept every
worker busy for ~40 s each. Patterns run on RE2 (linear time), and ``portico check``
refuses what RE2 cannot compile (backreferences, lookaround). No timing is asserted:
Python's ``re`` needs about 2**n steps for ``n`` letters here, so these inputs would take
longer than the age of the universe; the tests finishing is the proof.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from pydantic import TypeAdapter
from werkzeug.datastructures import MultiDict

from app.cli import main
from forms import AnyFieldSpec, BuildContext
from forms.factory import build_form_class
from forms.validators import Pattern, postal_code_rules
from tests.helpers.security import ACME_SIGNUP, edit_yaml, open_order

EVIL = "^(a+)+$"
ATTACK = "a" * 9_000 + "!"  # re: ~2**9000 steps; RE2: one pass
MESSAGE = "Only the letter a, please."


def add_field(merchants: Path, **field: object) -> None:
    def change(data: dict) -> None:
        fields = data["order_page"]["fields"]
        fields.insert(1, {"name": "reference", "type": "text", "label": "Reference", **field})

    edit_yaml(merchants / "acme.yaml", change)


@pytest.fixture
def config_dir(config_dir: Path) -> Path:
    add_field(config_dir / "merchants", pattern=EVIL, max_length=10_000, pattern_message=MESSAGE)
    return config_dir


def test_the_catastrophic_pattern_passes_check_because_it_runs_in_linear_time(
    app: Flask,
) -> None:
    loaded = app.extensions["portico"].merchants.get("acme")
    assert loaded.config is not None, loaded.report()


def test_anonymous_posts_of_the_attack_are_answered_with_the_pattern_message(
    app: Flask, client: FlaskClient
) -> None:
    for _ in range(4):  # the probe's four posts
        token = open_order(client)
        data = {**ACME_SIGNUP, "reference": ATTACK, "form_token": token}
        response = client.post("/acme/order?lang=en", data=data)
        assert response.status_code == 422
        assert MESSAGE in response.get_data(as_text=True)
    with app.extensions["portico"].store.read("acme") as tx:
        assert list(tx.collection("customers").all()) == []
    token = open_order(client)
    data = {**ACME_SIGNUP, "reference": "a" * 9_000, "form_token": token}
    assert client.post("/acme/order?lang=en", data=data).status_code == 303


def test_the_form_engine_runs_merchant_patterns_on_re2() -> None:
    specs = TypeAdapter(list[AnyFieldSpec]).validate_python(
        [{"name": "code", "type": "text", "label": "Code", "pattern": EVIL, "max_length": 10000}]
    )
    form_class = build_form_class(specs, BuildContext("en", "en", "DE"))
    form = form_class(MultiDict({"code": ATTACK}))
    assert not form.validate()
    assert form.errors["code"] == ["Enter a value in the format asked for."]
    assert type(Pattern(EVIL).regex).__module__.startswith("re2")


def test_postal_code_patterns_run_on_re2_too() -> None:
    matchers, examples = postal_code_rules("DE")
    assert matchers and all(type(m).__module__.startswith("re2") for m in matchers)
    assert matchers[0].match(examples[0]) and not matchers[0].match("1" * 19 + "!")


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"^(a)\1$", r"invalid escape sequence: \1"),
        ("^(?=a)a+$", "invalid perl operator: (?="),
        ("^(?<!b)a+$", "invalid perl operator: (?<!"),
        ("^a{1001}$", "invalid repetition size: {1001}"),
        ("[a-z", "missing ]: [a-z"),
    ],
)
def test_check_refuses_patterns_re2_cannot_run_with_a_position(
    runner: CliRunner, merchants: Path, pattern: str, reason: str
) -> None:
    path = merchants / "acme.yaml"
    add_field(merchants, pattern=pattern)
    result = runner.invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.strip().startswith("pattern:"))
    column = lines[number - 1].index("pattern:") + len("pattern: ") + 1
    expected = (
        f"{path}:{number}:{column}: error: order_page.fields[1].pattern: "
        f"not a valid regular expression: {reason} (patterns use RE2 syntax"
    )
    assert expected in result.output, result.output
