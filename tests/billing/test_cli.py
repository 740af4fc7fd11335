"""`portico bill [--until DATE]` over the demo merchants."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from app.cli import main
from app.cli.billing import end_of_day
from app.store import TinyDBStore
from tests.helpers.app import DEMO_CONFIG, app_settings
from tests.helpers.billing import Shop, demo_config
from tests.helpers.clock import Clock


def test_bill_renews_every_merchant_up_to_the_date(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    store = TinyDBStore(instance / "data")
    clock = Clock(datetime(2026, 1, 10, 12, tzinfo=UTC))
    for slug, plan in (("acme", "business"), ("thistle", "office-small")):
        Shop(store, clock, demo_config(slug), slug).sign_up(
            plan, "invoice", None, fields={"email": "a@b.example"}
        )
    runner = CliRunner()
    env = app_settings(instance)
    result = runner.invoke(main, ["bill", "--until", "2026-03-10"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("acme: 2 invoice(s)")
    assert any(line.startswith("stromma: 0 invoice(s)") for line in lines)
    assert any(line.startswith("thistle: 2 invoice(s)") for line in lines)
    again = runner.invoke(main, ["bill", "--until", "2026-03-10"], env=env)
    assert again.exit_code == 0 and "acme: 0 invoice(s)" in again.output


def test_bill_exits_1_when_a_merchant_file_is_broken(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    shutil.copytree(DEMO_CONFIG, config_dir)
    (config_dir / "merchants" / "broken.yaml").write_text("merchant: [\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["bill"], env=app_settings(tmp_path / "instance", config_dir))
    assert result.exit_code == 1
    assert "broken: not billed" in result.output
    assert "acme: 0 invoice(s)" in result.output


def test_until_includes_the_whole_day_in_the_merchants_time_zone() -> None:
    moment = end_of_day(datetime(2026, 3, 10).date(), "Europe/Berlin")
    assert moment.astimezone(UTC).isoformat() == "2026-03-10T22:59:59.999999+00:00"
