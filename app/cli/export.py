"""``portico export <merchant> customers|subscriptions|invoices|consents``."""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.context import merchant_context
from app.reports import exports


@click.command()
@click.argument("merchant")
@click.argument("kind", type=click.Choice(exports.KINDS))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "--excel",
    is_flag=True,
    help="CSV for Excel: starts with a UTF-8 byte order mark so umlauts survive.",
)
@click.option(
    "--delimiter",
    type=click.Choice([",", ";", "tab"]),
    default=",",
    show_default=True,
    help="CSV separator; ';' for spreadsheets in locales that write decimal commas.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output.",
)
def export(
    merchant: str, kind: str, fmt: str, excel: bool, delimiter: str, output: Path | None
) -> None:
    """Export a merchant's KIND as CSV (spreadsheet-safe) or JSON, in UTF-8."""
    if excel and fmt != "csv":
        raise click.UsageError("--excel applies to --format csv only")
    context = merchant_context(merchant)
    rows = exports.rows(context.store, merchant, context.config, kind)
    if fmt == "json":
        text = exports.to_json(rows)
    else:
        separator = "\t" if delimiter == "tab" else delimiter
        text = exports.to_csv(rows, exports.COLUMNS[kind], excel=excel, delimiter=separator)
    if output is None:
        click.echo(text, nl=False)
        return
    # newline="" keeps the CSV's own CRLF line ends as they are
    with output.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    click.echo(f"wrote {len(rows)} {kind} to {output}", err=True)
