"""``portico db``: the PostgreSQL store's schema, and moving merchants over from TinyDB."""

from __future__ import annotations

import sys

import click

from app.cli import context
from app.store import StoreError, TinyDBStore


def _postgres_url(url: str | None) -> str:
    """``url``, else ``PORTICO_STORE``; a PostgreSQL URL either way (never echoed: it
    may hold a password)."""
    url = url or context.settings(signs=False).store_url
    if not url.startswith(("postgresql://", "postgres://")):
        raise click.ClickException(
            "no PostgreSQL database given: pass --url postgresql://… or set PORTICO_STORE"
        )
    return url


@click.group()
def db() -> None:
    """The PostgreSQL store: schema upgrades, copying data over from TinyDB."""


@db.command()
@click.option("--url", default=None, help="postgresql://… (default: PORTICO_STORE).")
def upgrade(url: str | None) -> None:
    """Apply the schema migrations the database lacks; safe while other servers run it too."""
    from app.store.migrate import latest_version
    from app.store.migrate import upgrade as apply_migrations

    try:
        applied = apply_migrations(_postgres_url(url))
    except StoreError as error:
        raise click.ClickException(str(error)) from None
    for migration in applied:
        click.echo(f"applied {migration.version}_{migration.name}")
    click.echo(f"the schema is at {latest_version()}")


@db.command()
@click.option("--from", "source", type=click.Choice(["tinydb"]), required=True)
@click.option("--to", "target", required=True, help="postgresql://… of the new store.")
@click.option("--merchant", default=None, help="Only this merchant (default: every one).")
def copy(source: str, target: str, merchant: str | None) -> None:
    """Copy merchants' data from the TinyDB files into PostgreSQL and verify the copy.

    Documents are upserted and counters only move forward, so a second run
    changes nothing that already arrived. Stop the servers that write to the
    TinyDB files first, or run it again once they are stopped."""
    from app.store.postgres import PostgresStore
    from app.store.transfer import copy_merchant

    tinydb = TinyDBStore(context.settings(signs=False).data_dir)
    postgres = PostgresStore(_postgres_url(target))
    try:
        merchants = [merchant] if merchant else tinydb.merchants()
        if merchant and merchant not in tinydb.merchants():
            raise click.ClickException(
                f"no TinyDB data for merchant {merchant!r} in {tinydb.data_dir}"
            )
        if not merchants:
            raise click.ClickException(f"no TinyDB data in {tinydb.data_dir}: nothing to copy")
        failed = False
        for slug in merchants:
            try:
                copied = copy_merchant(tinydb, postgres, slug)
            except (StoreError, ValueError) as error:
                raise click.ClickException(f"{slug}: {error}") from None
            click.echo(copied.summary(), err=bool(copied.differences))
            failed = failed or bool(copied.differences)
    finally:
        postgres.close()
    sys.exit(1 if failed else 0)
