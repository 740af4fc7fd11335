"""`portico backup` and `portico restore` as an operator uses them, with sign-ups in the data."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from app.cli import main
from app.store import TinyDBStore
from tests.helpers.app import mails_sent
from tests.helpers.orders import VALID, open_form, stored
from tests.helpers.stores import stored_tables


@pytest.fixture
def env(instance_dir: Path) -> dict[str, str]:
    """The CLI's environment: the app's instance folder and no secret key at all."""
    return {"PORTICO_INSTANCE_DIR": str(instance_dir), "PORTICO_SECRET_KEY": ""}


def sign_up(client: FlaskClient, email: str) -> str:
    token = open_form(client, "stromma")
    data = {**VALID["stromma"], "email": email, "form_token": token}
    response = client.post("/stromma/order", data=data)
    assert response.status_code == 303
    mails_sent(client.application)  # its sender writes the data file too
    return response.headers["Location"]


def emails(app: Flask) -> list[str]:
    return [customer["email"] for customer in stored(app, "stromma", "customers")]


def test_backup_then_restore_brings_the_data_back(
    app: Flask, client: FlaskClient, runner: CliRunner, env: dict, instance_dir: Path
) -> None:
    sign_up(client, "first@example.com")
    result = runner.invoke(main, ["backup", "stromma"], env=env)
    assert result.exit_code == 0, result.output
    backups = list((instance_dir / "backups").glob("stromma-*.json"))
    assert len(backups) == 1
    assert result.output == f"backed up stromma to {backups[0]}\n"
    assert json.loads(backups[0].read_bytes()) == stored_tables(
        instance_dir / "data" / "stromma.json"
    )
    assert not (instance_dir / "secret_key").exists()  # no key was generated for the CLI

    second = sign_up(client, "second@example.com")
    result = runner.invoke(main, ["restore", "stromma", str(backups[0])], env=env)
    assert result.exit_code == 0, result.output
    kept = next((instance_dir / "backups").glob("stromma-before-restore-*.json"))
    assert result.output.splitlines() == [
        f"restored stromma from {backups[0]}",
        f"the data it replaced is in {kept}",
    ]
    # The running app sees the restored file at once, and numbers go on from the backup.
    assert emails(app) == ["first@example.com"]
    assert client.get(second).status_code == 404
    sign_up(client, "third@example.com")
    assert [c["number"] for c in stored(app, "stromma", "customers")] == ["C-000001", "C-000002"]
    assert len(json.loads(kept.read_bytes())["customers"]) == 2  # what the restore replaced


def test_backup_to_a_file_or_a_folder(
    client: FlaskClient, runner: CliRunner, env: dict, tmp_path: Path
) -> None:
    sign_up(client, "first@example.com")
    target = tmp_path / "nightly.json"
    assert runner.invoke(main, ["backup", "stromma", "--to", str(target)], env=env).exit_code == 0
    assert json.loads(target.read_bytes())["customers"]
    # Again to the same file: replaced whole, never half-written.
    assert runner.invoke(main, ["backup", "stromma", "--to", str(target)], env=env).exit_code == 0
    folder = tmp_path / "vault"
    folder.mkdir()
    result = runner.invoke(main, ["backup", "stromma", "--to", str(folder)], env=env)
    assert result.exit_code == 0, result.output
    assert [p.name[:8] for p in folder.iterdir()] == ["stromma-"]


def test_restore_into_an_empty_instance(
    client: FlaskClient, runner: CliRunner, env: dict, tmp_path: Path
) -> None:
    sign_up(client, "first@example.com")
    target = tmp_path / "stromma.json"
    assert runner.invoke(main, ["backup", "stromma", "--to", str(target)], env=env).exit_code == 0
    elsewhere = {**env, "PORTICO_INSTANCE_DIR": str(tmp_path / "new-disk")}
    result = runner.invoke(main, ["restore", "stromma", str(target)], env=elsewhere)
    assert result.exit_code == 0, result.output
    assert result.output == f"restored stromma from {target}\n"  # nothing was replaced
    with TinyDBStore(tmp_path / "new-disk" / "data").read("stromma") as tx:
        assert tx.collection("customers").count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["backup", "acme"], "no stored data for merchant 'acme'"),
        (["backup", "../etc"], "invalid merchant slug '../etc'"),
        (
            ["backup", "stromma", "--to", "/no/such/folder/x.json"],
            "/no/such/folder is not a folder",
        ),
    ],
)
def test_backup_refusals(
    client: FlaskClient, runner: CliRunner, env: dict, args: list[str], message: str
) -> None:
    sign_up(client, "first@example.com")
    result = runner.invoke(main, args, env=env)
    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "is not valid JSON"),
        (b'{"customers": {"c1": {"id": "other"}}}', "is not a TinyDB database of this store"),
    ],
)
def test_restore_of_what_is_not_a_backup_changes_nothing(
    app: Flask,
    client: FlaskClient,
    runner: CliRunner,
    env: dict,
    instance_dir: Path,
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    sign_up(client, "first@example.com")
    before = (instance_dir / "data" / "stromma.json").read_bytes()
    source = tmp_path / "bad.json"
    source.write_bytes(content)
    result = runner.invoke(main, ["restore", "stromma", str(source)], env=env)
    assert result.exit_code == 1
    assert message in result.output
    assert (instance_dir / "data" / "stromma.json").read_bytes() == before
    assert list((instance_dir / "backups").glob("*")) == []  # no stray safety copy
    missing = runner.invoke(main, ["restore", "stromma", str(tmp_path / "nope.json")], env=env)
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_backup_waits_for_a_running_write_and_contains_all_of_it(
    app: Flask, client: FlaskClient, runner: CliRunner, env: dict, tmp_path: Path
) -> None:
    sign_up(client, "first@example.com")
    store = app.extensions["portico"].store
    inside, release = threading.Event(), threading.Event()

    def slow_transaction() -> None:
        with store.write("stromma") as tx:
            tx.collection("consents").insert({"id": "con_a", "name": "a"})
            inside.set()
            release.wait(5)
            tx.collection("consents").insert({"id": "con_b", "name": "b"})

    writer = threading.Thread(target=slow_transaction)
    writer.start()
    inside.wait(5)
    threading.Timer(0.3, release.set).start()
    target = tmp_path / "during.json"
    result = runner.invoke(main, ["backup", "stromma", "--to", str(target)], env=env)
    writer.join()
    assert result.exit_code == 0, result.output
    consents = json.loads(target.read_bytes())["consents"]
    assert {"con_a", "con_b"} <= set(consents)  # the whole transaction, not half of it
