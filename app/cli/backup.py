"""``portico backup`` and ``portico restore``: a merchant's data, copied under its lock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from app.cli import context
from app.store import Store, StoreError, open_store


def _storage() -> tuple[Store, Path]:
    """The configured store and the backups folder; backup and restore sign nothing,
    so they need no secret key (and must not generate one)."""
    settings = context.settings(signs=False)
    return open_store(settings.store_url, settings.data_dir), settings.instance_dir / "backups"


def _dated(folder: Path, merchant: str, label: str = "") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return folder / f"{merchant}-{label}{stamp}.json"


@click.command()
@click.argument("merchant")
@click.option(
    "--to",
    "destination",
    type=click.Path(path_type=Path),
    default=None,
    help="A file, or a folder for a dated file (default: INSTANCE/backups/).",
)
def backup(merchant: str, destination: Path | None) -> None:
    """Copy a merchant's data under its write lock: consistent, while Portico runs."""
    store, backups = _storage()
    if destination is None:
        backups.mkdir(parents=True, exist_ok=True)
        destination = backups
    if destination.is_dir():
        destination = _dated(destination, merchant)
    if not destination.parent.is_dir():
        raise click.ClickException(f"{destination.parent} is not a folder; nothing was written")
    try:
        store.backup(merchant, destination)
    except (StoreError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up {merchant} to {destination}")


@click.command()
@click.argument("merchant")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(merchant: str, source: Path) -> None:
    """Replace a merchant's data with a backup; the data it replaces is backed up first."""
    store, backups = _storage()
    kept = None
    try:
        if merchant in store.merchants():
            backups.mkdir(parents=True, exist_ok=True)
            kept = _dated(backups, merchant, "before-restore-")
            store.backup(merchant, kept)
        store.restore(merchant, source)
    except (StoreError, ValueError) as error:
        if kept is not None:
            kept.unlink(missing_ok=True)  # nothing was replaced
        raise click.ClickException(str(error)) from None
    click.echo(f"restored {merchant} from {source}")
    if kept is not None:
        click.echo(f"the data it replaced is in {kept}")
