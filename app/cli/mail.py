"""``portico mail deliver``: the mails waiting in the merchants' outboxes."""

from __future__ import annotations

import sys

import click

from app.cli import context
from app.container import Portico


@click.group()
def mail() -> None:
    """Outgoing mail waiting in the merchants' outboxes."""


@mail.command("deliver")
@click.argument("merchant", required=False)
def mail_deliver(merchant: str | None) -> None:
    """Send the pending mails of MERCHANT (default: every merchant) and print the counts.

    A mail that fails stays in the outbox for the next run and does not change the
    exit status; a merchant whose file has errors (nothing could be tried) does."""
    sys.exit(0 if deliver_mails(context.container(), merchant) else 1)


def deliver_mails(services: Portico, merchant: str | None) -> bool:
    """Send pending mails; False when a merchant's mails could not be tried at all."""
    try:
        deliveries = services.mails.deliver_all(services.merchants, merchant)
    except LookupError as error:
        raise click.ClickException(str(error)) from None
    for delivery in deliveries:
        click.echo(delivery.summary(), err=bool(delivery.skipped))
    return not any(delivery.skipped for delivery in deliveries)
