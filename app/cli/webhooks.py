"""``portico webhooks deliver [MERCHANT]`` and ``portico webhooks log <merchant>``."""

from __future__ import annotations

import sys

import click

from app.cli import context
from app.outbox.webhooks import delivery


@click.group()
def webhooks() -> None:
    """Events sent to the merchants' webhook endpoints."""


@webhooks.command("deliver")
@click.argument("merchant", required=False)
def webhooks_deliver(merchant: str | None) -> None:
    """Send the due webhooks of MERCHANT (default: every merchant) and print the counts.

    A delivery that fails is retried by a later run and does not change the exit
    status; a merchant whose file has errors (nothing could be tried) does."""
    container = context.container()
    try:
        runs = delivery.deliver_all(container.store, container.merchants, container.now, merchant)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    for run in runs:
        click.echo(run.summary(), err=bool(run.skipped))
    sys.exit(1 if any(run.skipped for run in runs) else 0)


@webhooks.command("log")
@click.argument("merchant")
def webhooks_log(merchant: str) -> None:
    """Print MERCHANT's webhook deliveries, oldest first: time of the last attempt (or
    when queued), event type, event id, URL, status, attempts and the last error."""
    container = context.container()
    if container.merchants.get(merchant) is None:
        path = container.merchants.path(merchant)
        raise click.ClickException(f"no merchant '{merchant}': {path} does not exist")
    entries = delivery.deliveries(container.store, merchant)
    if not entries:
        click.echo(f"{merchant}: no webhook deliveries yet")
    for entry in entries:
        click.echo(
            "  ".join(
                (
                    entry["last_attempt_at"] or entry["created_at"],
                    entry["event_type"],
                    entry["event_id"],
                    entry["url"],
                    entry["status"],
                    f"attempts={entry['attempts']}",
                    entry["last_error"] or "-",
                )
            )
        )
