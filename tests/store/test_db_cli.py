"""`portico db upgrade` and `portico db copy` as an operator moving to PostgreSQL uses them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import main
from app.store import TinyDBStore, datafiles
from app.store.migrate import latest_version
from app.store.postgres import PostgresStore
from app.store.transfer import differences
from tests.helpers.billing import Shop, make_config
from tests.helpers.clock import Clock
from tests.helpers.stores import new_schema


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


@pytest.fixture
def env(instance: Path) -> dict[str, str]:
    return {"PORTICO_INSTANCE_DIR": str(instance), "PORTICO_SECRET_KEY": "", "PORTICO_STORE": ""}


@pytest.fixture
def shops(instance: Path) -> list[Shop]:
    """Two merchants with sign-ups, invoices and payments in the TinyDB files."""
    tinydb = TinyDBStore(instance / "data")
    config = make_config()
    shop, other = Shop(tinydb, Clock(), config, "shop"), Shop(tinydb, Clock(), config, "other")
    for _ in range(3):
        shop.sign_up()
    shop.sign_up("pro", method="invoice", details=None)
    other.sign_up("yearly")
    shop.clock.advance(days=40)
    shop.bill()
    return [shop, other]


def copy(runner: CliRunner, env: dict, url: str, *extra: str):
    return runner.invoke(main, ["db", "copy", "--from", "tinydb", "--to", url, *extra], env=env)


def test_copy_moves_every_merchant_verifies_and_can_run_again(
    runner: CliRunner, env: dict, shops: list[Shop], postgres_store: PostgresStore
) -> None:
    shop = shops[0]
    tinydb = shop.store
    result = copy(runner, env, postgres_store.conninfo)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split(":")[0] for line in lines] == ["other", "shop"]
    assert all(line.endswith("copied; counts and sums match") for line in lines)
    for slug in ("shop", "other"):
        assert postgres_store.export(slug) == datafiles.load(tinydb.path(slug))  # type: ignore[attr-defined]

    again = copy(runner, env, postgres_store.conninfo)
    assert (again.exit_code, again.output) == (0, result.output)

    # The new store carries on where the files stopped: no number is used twice.
    moved = Shop(postgres_store, shop.clock, shop.config, "shop")
    moved._nonce = 1000
    assert moved.sign_up().customer_number == "C-000005"
    invoices = sorted(int(d["number"].rsplit("-", 1)[1]) for d in moved.docs("invoices"))
    assert invoices == list(range(1, len(invoices) + 1))
    assert len(invoices) > len(shop.docs("invoices"))


def test_copy_of_one_merchant_and_what_the_target_has_beyond_the_source(
    runner: CliRunner, env: dict, shops: list[Shop], postgres_store: PostgresStore
) -> None:
    result = copy(runner, env, postgres_store.conninfo, "--merchant", "other")
    assert result.exit_code == 0, result.output
    assert postgres_store.merchants() == ["other"]
    with postgres_store.write("other") as tx:  # written to PostgreSQL only
        tx.collection("customers").insert({"id": "extra"})
    result = copy(runner, env, postgres_store.conninfo, "--merchant", "other")
    assert result.exit_code == 1
    assert "customers: 1 document(s) in TinyDB, 2 in PostgreSQL" in result.output


def test_differences_compare_money_sums_and_counters() -> None:
    source = {
        "invoices": {"i1": {"id": "i1", "totals": {"gross": 1190}, "lines": [{"amount": 1000}]}},
        "_sequences": {"invoice": {"id": "invoice", "value": 3}},
    }
    altered = {
        "invoices": {"i1": {"id": "i1", "totals": {"gross": 1100}, "lines": [{"amount": 1000}]}},
        "_sequences": {"invoice": {"id": "invoice", "value": 2}},
    }
    assert differences(source, source) == []
    assert differences(source, altered) == [
        "invoices.totals.gross: sums to 1190 in TinyDB, 1100 in PostgreSQL",
        "sequence invoice: 3 in TinyDB, 2 in PostgreSQL",
    ]


def test_upgrade_then_copy_into_a_new_database(
    runner: CliRunner, env: dict, shops: list[Shop]
) -> None:
    with new_schema() as url:
        result = copy(runner, env, url)
        assert result.exit_code == 1
        assert "run `portico db upgrade`" in result.output
        assert "Traceback" not in result.output

        result = runner.invoke(main, ["db", "upgrade"], env={**env, "PORTICO_STORE": url})
        assert result.exit_code == 0, result.output
        assert result.output == f"applied 0001_documents\nthe schema is at {latest_version()}\n"
        result = runner.invoke(main, ["db", "upgrade", "--url", url], env=env)
        assert result.output == f"the schema is at {latest_version()}\n"
        assert copy(runner, env, url).exit_code == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["db", "upgrade"], "no PostgreSQL database given"),
        (["db", "copy", "--from", "tinydb", "--to", "mysql://x"], "no PostgreSQL database given"),
        (["db", "copy", "--from", "json", "--to", "postgresql://x"], "'json' is not"),
    ],
)
def test_bad_arguments_are_clear_errors(
    runner: CliRunner, env: dict, args: list[str], message: str
) -> None:
    result = runner.invoke(main, args, env=env)
    assert result.exit_code != 0
    assert message in result.output


def test_copy_of_a_merchant_without_data(runner: CliRunner, env: dict, instance: Path) -> None:
    result = copy(runner, env, "postgresql://nobody@127.0.0.1:1/none", "--merchant", "acme")
    assert result.exit_code == 1
    assert "no TinyDB data for merchant 'acme'" in result.output
