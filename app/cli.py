"""The ``portico`` command: check, scaffold, describe and serve merchant files; run billing."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from app.config.loader import load_merchant, slug_problem
from app.config.registry import installed_themes
from app.config.scaffold import scaffold
from app.config.schema import merchant_schema
from app.db_cli import db
from app.export_cli import export
from app.metrics_cli import metrics_command
from app.portal_cli import access, portal_link
from app.preview_cli import preview
from app.settings import THEMES_DIR, load_settings
from app.store import Store, StoreError, open_store
from app.webhooks_cli import webhooks


@click.group()
def main() -> None:
    """Portico: hosted order pages and a self-service portal from one YAML file per merchant."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(paths: tuple[Path, ...], strict: bool) -> None:
    """Validate merchant YAML: every problem as file:line:column: severity: message."""
    if not paths:
        merchants_dir = load_settings().merchants_dir
        paths = tuple(sorted(merchants_dir.glob("*.yaml")))
        if not paths:
            raise click.ClickException(f"no merchant files (*.yaml) in {merchants_dir}")
    themes = installed_themes(THEMES_DIR)
    errors = warnings = 0
    for path in paths:
        if not path.is_file():
            click.echo(f"{path}:1:1: error: no such file", err=True)
            errors += 1
            continue
        loaded = load_merchant(path, themes)
        for line in loaded.report():
            click.echo(line)
        errors += len(loaded.errors)
        warnings += len(loaded.warnings)
    failed = errors > 0 or (strict and warnings > 0)
    summary = f"{len(paths)} file(s): {errors} error(s), {warnings} warning(s)"
    click.echo(summary + (" (strict: warnings count as errors)" if strict and warnings else ""))
    sys.exit(1 if failed else 0)


@main.command()
@click.argument("slug")
@click.option("--name", default=None, help="The merchant's name (default: from the slug).")
def new(slug: str, name: str | None) -> None:
    """Scaffold a commented merchant YAML that passes `portico check`."""
    if message := slug_problem(slug):
        raise click.ClickException(message)
    path = load_settings().merchants_dir / f"{slug}.yaml"
    if path.exists():
        raise click.ClickException(f"{path} exists already; nothing was changed")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scaffold(slug, name), encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run: portico check {path}")


@main.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the merchant YAML, for editors."""
    click.echo(json.dumps(merchant_schema(), indent=2, ensure_ascii=False))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Development server for the merchants in PORTICO_CONFIG_DIR; YAML reloads on change."""
    from app.factory import create_app
    from app.web.worker import DeliveryWorker

    app = create_app()
    with DeliveryWorker(app):  # sends mails and webhooks in the background
        app.run(host=host, port=port, debug=False, use_reloader=False)


def end_of_day(day: date, timezone: str) -> datetime:
    """The last moment of ``day`` in ``timezone``: ``--until`` includes the whole day."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone))
    return next_midnight - timedelta(microseconds=1)


@main.command()
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Bill everything due up to the end of this day (merchant time). Default: now.",
)
@click.option(
    "--mail/--no-mail",
    default=True,
    help="Send the mails the run wrote (rendering invoice PDFs) before exiting, or leave"
    " them to portico mail deliver.",
)
def bill(until: datetime | None, mail: bool) -> None:
    """Run renewals, invoices, collections and payment retries for every merchant."""
    from app.billing.service import BillingService
    from app.config.registry import MerchantRegistry
    from app.documents import utc_now
    from app.store import open_store

    settings = load_settings()
    registry = MerchantRegistry(settings.merchants_dir, THEMES_DIR)
    service = BillingService(
        open_store(settings.store_url, settings.data_dir),
        utc_now,
        assets_dir=settings.merchants_dir,
    )
    failed = False
    for loaded in registry.all():
        if loaded.config is None:
            click.echo(
                f"{loaded.slug}: not billed, its file has errors (run portico check)", err=True
            )
            failed = True
            continue
        moment = end_of_day(until.date(), loaded.config.merchant.timezone) if until else None
        try:
            run = service.bill_until(loaded.slug, loaded.config, moment)
        except Exception as error:  # one merchant's failure must not stop the others
            click.echo(f"{loaded.slug}: billing failed: {error}", err=True)
            failed = True
            continue
        click.echo(run.summary())
        for problem in run.errors:
            click.echo(f"{loaded.slug}: {problem}", err=True)
        failed = failed or bool(run.errors)
    if mail:  # the mails this run wrote go out now
        failed = not _deliver_mails(None) or failed
    sys.exit(1 if failed else 0)


@main.group()
def mail() -> None:
    """Outgoing mail waiting in the merchants' outboxes."""


@mail.command("deliver")
@click.argument("merchant", required=False)
def mail_deliver(merchant: str | None) -> None:
    """Send the pending mails of MERCHANT (default: every merchant) and print the counts.

    A mail that fails stays in the outbox for the next run and does not change the
    exit status; a merchant whose file has errors (nothing could be tried) does."""
    sys.exit(0 if _deliver_mails(merchant) else 1)


def _deliver_mails(merchant: str | None) -> bool:
    """Send pending mails with the app's store, mailer and billing; False when a
    merchant's mails could not be tried at all."""
    from app.factory import create_app
    from app.web.mails import deliver_all

    app = create_app()
    with app.app_context():
        try:
            deliveries = deliver_all(merchant)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
    for delivery in deliveries:
        click.echo(delivery.summary(), err=bool(delivery.skipped))
    return not any(delivery.skipped for delivery in deliveries)


def _storage() -> tuple[Store, Path]:
    """The configured store and the backups folder; backup and restore sign nothing,
    so they need no secret key (and must not generate one)."""
    settings = load_settings(
        {**os.environ, "PORTICO_SECRET_KEY": os.environ.get("PORTICO_SECRET_KEY") or "-"}
    )
    return open_store(settings.store_url, settings.data_dir), settings.instance_dir / "backups"


def _dated(folder: Path, merchant: str, label: str = "") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return folder / f"{merchant}-{label}{stamp}.json"


@main.command()
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


@main.command()
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


# The portal's commands live with the portal: portico portal-link, portico access.

main.add_command(db)
main.add_command(portal_link)
main.add_command(access)
main.add_command(webhooks)
main.add_command(export)
main.add_command(metrics_command)
main.add_command(preview)
