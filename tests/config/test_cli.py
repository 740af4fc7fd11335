"""The `portico check`, `new` and `schema` commands as a merchant uses them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from app.cli import main
from app.config.schema import merchant_schema
from tests.helpers.app import DEMO_CONFIG, DEMO_MERCHANTS

SCHEMA_FILE = DEMO_CONFIG / "merchant.schema.json"


@pytest.mark.parametrize("slug", DEMO_MERCHANTS)
def test_demo_merchants_pass_strict_check(runner: CliRunner, slug: str) -> None:
    result = runner.invoke(
        main, ["check", "--strict", str(DEMO_CONFIG / "merchants" / f"{slug}.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "0 error(s), 0 warning(s)" in result.output


def test_check_without_paths_checks_every_merchant(runner: CliRunner, monkeypatch) -> None:
    monkeypatch.setenv("PORTICO_CONFIG_DIR", str(DEMO_CONFIG))
    result = runner.invoke(main, ["check"])
    assert result.exit_code == 0, result.output
    assert f"{len(DEMO_MERCHANTS)} file(s): 0 error(s), 0 warning(s)" in result.output


def test_check_exits_1_on_errors_and_prints_positions(runner: CliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("merchant:\n  name: X\nplans: 3\n", encoding="utf-8")
    result = runner.invoke(main, ["check", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:3:8: error: plans: expected a list, received 3" in result.output
    assert f"{broken}:1:1: error: order_page: required key 'order_page' is missing" in result.output


def test_strict_turns_warnings_into_failure(runner: CliRunner, tmp_path: Path) -> None:
    source = (DEMO_CONFIG / "merchants" / "thistle.yaml").read_text(encoding="utf-8")
    path = tmp_path / "thistle.yaml"
    path.write_text(
        source.replace(
            "title: {en: Fresh coffee for your office, de: Frischer Kaffee fürs Büro}",
            "title: {en: Fresh coffee}",
        ),
        encoding="utf-8",
    )
    shutil.copytree(DEMO_CONFIG / "merchants" / "thistle", tmp_path / "thistle")
    assert runner.invoke(main, ["check", str(path)]).exit_code == 0
    strict = runner.invoke(main, ["check", "--strict", str(path)])
    assert strict.exit_code == 1
    assert "warning: order_page.title: no 'de' text" in strict.output


def test_new_scaffolds_a_file_that_passes_strict_check(
    runner: CliRunner, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("PORTICO_CONFIG_DIR", str(tmp_path))
    result = runner.invoke(main, ["new", "bakery", "--name", 'Bäckerei "Korn"'])
    assert result.exit_code == 0, result.output
    path = tmp_path / "merchants" / "bakery.yaml"
    check = runner.invoke(main, ["check", "--strict", str(path)])
    assert check.exit_code == 0, check.output
    assert yaml.safe_load(path.read_text(encoding="utf-8"))["merchant"]["name"] == 'Bäckerei "Korn"'
    again = runner.invoke(main, ["new", "bakery"])
    assert again.exit_code == 1 and "exists already" in again.output


@pytest.mark.parametrize("slug", ["admin", "A", "x", "../evil"])
def test_new_refuses_bad_slugs(runner: CliRunner, tmp_path: Path, monkeypatch, slug: str) -> None:
    monkeypatch.setenv("PORTICO_CONFIG_DIR", str(tmp_path))
    result = runner.invoke(main, ["new", slug])
    assert result.exit_code == 1
    assert not (tmp_path / "merchants").exists()


def test_schema_is_draft_2020_12_and_matches_the_committed_file(runner: CliRunner) -> None:
    result = runner.invoke(main, ["schema"])
    printed = json.loads(result.output)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(printed)
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == printed, (
        "config/merchant.schema.json is stale: run `portico schema > config/merchant.schema.json`"
    )


@pytest.mark.parametrize("slug", DEMO_MERCHANTS)
def test_schema_accepts_the_demo_files(slug: str) -> None:
    text = (DEMO_CONFIG / "merchants" / f"{slug}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../merchant.schema.json\n")
    jsonschema.validate(_as_json(yaml.safe_load(text)), merchant_schema())


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("plans"),
        lambda d: d["merchant"].update(currencyy="EUR"),
        lambda d: d["order_page"]["fields"][0].update(type="txt"),
        lambda d: d["plans"][0].update(interval="fortnight"),
        lambda d: d["branding"]["colors"].update(primary="blue"),
    ],
)
def test_schema_rejects_broken_files(change) -> None:
    data = _as_json(yaml.safe_load((DEMO_CONFIG / "merchants" / "acme.yaml").read_text()))
    change(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, merchant_schema())


def _as_json(data: object) -> object:
    """YAML dates and numbers as JSON would carry them (the editor sees text)."""
    return json.loads(json.dumps(data, default=str))
