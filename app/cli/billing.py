"""``portico bill``: renewals, invoices, collections and retries up to a moment."""

from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click

from app.cli import context
from app.cli.mail import deliver_mails


def end_of_day(day: date, timezone: str) -> datetime:
    """The last moment of ``day`` in ``timezone``: ``--until`` includes the whole day."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(timezone))
    return next_midnight - timedelta(microseconds=1)


@click.command()
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
    services = context.container()
    failed = False
    for loaded in services.merchants.all():
        if loaded.config is None:
            click.echo(
                f"{loaded.slug}: not billed, its file has errors (run portico check)", err=True
            )
            failed = True
            continue
        moment = end_of_day(until.date(), loaded.config.merchant.timezone) if until else None
        try:
            run = services.billing.bill_until(loaded.slug, loaded.config, moment)
        except Exception as error:  # one merchant's failure must not stop the others
            click.echo(f"{loaded.slug}: billing failed: {error}", err=True)
            failed = True
            continue
        click.echo(run.summary())
        for problem in run.errors:
            click.echo(f"{loaded.slug}: {problem}", err=True)
        failed = failed or bool(run.errors)
    if mail:  # the mails this run wrote go out now
        failed = not deliver_mails(services, None) or failed
    sys.exit(1 if failed else 0)
