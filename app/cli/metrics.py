"""``portico metrics <merchant> [--since DATE] [--until DATE] [--format text|csv|json]``."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import datetime

import click

from app.cli.context import merchant_context
from app.core.clock import utc_now
from app.reports import metrics

DAY = click.DateTime(formats=["%Y-%m-%d"])


@click.command("metrics")
@click.argument("merchant")
@click.option("--since", type=DAY, default=None, help="First day (default: a year before --until).")
@click.option("--until", type=DAY, default=None, help="Last day, included (default: today).")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True
)
def metrics_command(
    merchant: str, since: datetime | None, until: datetime | None, fmt: str
) -> None:
    """MRR, subscriptions, churn, trial conversion, the order funnel, portal use and feedback."""
    if since and until and since > until:
        raise click.UsageError("--since is after --until")
    context = merchant_context(merchant)
    config = context.config
    now = utc_now()
    start, end = metrics.period(
        since.date() if since else None, until.date() if until else None,
        config.merchant.timezone, now,
    )  # fmt: skip
    report = metrics.compute(context.store, merchant, config.merchant.currency, start, end, now)
    rows = metrics.rows(report)
    if fmt == "json":
        click.echo(json.dumps(asdict(report), default=str, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(("section", "key", "value"))
        writer.writerows(rows)
        click.echo(buffer.getvalue(), nl=False)
    else:
        for section, key, value in rows:
            click.echo(f"{section:<22} {key:<24} {value}")
