"""``portico payments import|record`` and ``portico refund``: bank transfers and refunds."""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from app.banking.reconcile import ALREADY, OVER, PAID, PARTLY, UNMATCHED, BankTransfers
from app.banking.statements import MAX_STATEMENT_BYTES, StatementError, parse
from app.billing.base import NotFoundError
from app.cli import context
from app.core.money import Money, MoneyError, parse_amount, to_decimal


def _transfers(ctx: context.MerchantContext) -> BankTransfers:
    services = ctx.services
    return BankTransfers(ctx.store, services.now, gateways=services.gateways)


def _money(amount: int, currency: str) -> str:
    return f"{to_decimal(amount, currency)} {currency}"


@click.group()
def payments() -> None:
    """Payments received by bank transfer."""


@payments.command(name="import")
@click.argument("merchant")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_statement(merchant: str, file: Path) -> None:
    """Reconcile a bank statement (camt.053, MT940) with open invoices."""
    ctx = context.merchant_context(merchant)
    if file.stat().st_size > MAX_STATEMENT_BYTES:
        raise click.ClickException(f"{file}: too large for a bank statement")
    try:
        entries = parse(file.read_bytes())
    except StatementError as error:
        raise click.ClickException(f"{file}: {error}") from None
    report = _transfers(ctx).import_entries(ctx.slug, ctx.config, entries)
    currency = ctx.config.merchant.currency
    for outcome in report.outcomes:
        entry = outcome.entry
        amount = _money(entry.amount, entry.currency)
        line = f"{outcome.status:<9} {entry.booked or '-'} {amount:>14}  {entry.reference}"
        if outcome.invoices:
            line += f"  → {', '.join(outcome.invoices)}"
        if outcome.credit:
            line += f" (credit {_money(outcome.credit, currency)})"
        if outcome.status == UNMATCHED:
            line += f"  [{outcome.reason}] {entry.payer} {entry.text}".rstrip()
        click.echo(line)
    click.echo(
        f"{ctx.slug}: {report.count(PAID)} matched, {report.count(PARTLY)} partly paid,"
        f" {report.count(OVER)} overpaid, {report.count(UNMATCHED)} unmatched,"
        f" {report.count(ALREADY)} already imported, {report.debits} debit(s) ignored"
    )
    if report.unmatched_before:
        click.echo(f"unmatched from earlier imports ({len(report.unmatched_before)}):")
        for kept in report.unmatched_before:
            amount = _money(kept["amount"], kept["currency"])
            click.echo(
                f"  {kept['booked'] or '-'} {amount:>14}  {kept['reference']}  {kept['text']}"
            )


@payments.command(name="record")
@click.argument("merchant")
@click.argument("invoice_number")
@click.argument("amount")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--reference", default=None, help="The bank's reference of the transfer.")
def record(
    merchant: str, invoice_number: str, amount: str, on: datetime | None, reference: str | None
) -> None:
    """Record one payment received for an invoice (AMOUNT like 58.31)."""
    ctx = context.merchant_context(merchant)
    currency = ctx.config.merchant.currency
    try:
        minor = parse_amount(amount, currency)
    except MoneyError as error:
        raise click.ClickException(f"amount: {error}") from None
    at = None
    if on is not None:
        at = datetime.combine(on.date(), time(12), ZoneInfo(ctx.config.merchant.timezone))
        if at.date() > ctx.services.now().astimezone(at.tzinfo).date():
            raise click.ClickException(f"--date {on.date()} is in the future")
    try:
        payment = _transfers(ctx).record(ctx.slug, ctx.config, invoice_number, minor, reference, at)
    except NotFoundError:
        raise click.ClickException(f"{merchant} has no invoice {invoice_number}") from None
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"recorded {Money(minor, currency).format('en')} for {invoice_number}"
        f" ({payment['id']}, reference {payment['reference']})"
    )


@click.command()
@click.argument("merchant")
@click.argument("invoice_number")
@click.option("--amount", default=None, help="Part of the payment (default: all not refunded).")
def refund(merchant: str, invoice_number: str, amount: str | None) -> None:
    """Refund an invoice's payment through the provider that took the money."""
    ctx = context.merchant_context(merchant)
    currency = ctx.config.merchant.currency
    try:
        minor = parse_amount(amount, currency) if amount is not None else None
    except MoneyError as error:
        raise click.ClickException(f"amount: {error}") from None
    if minor == 0:
        raise click.ClickException("amount: a refund must be positive")
    try:
        note, done = _transfers(ctx).refund(ctx.slug, ctx.config, invoice_number, minor)
    except NotFoundError:
        raise click.ClickException(f"{merchant} has no invoice {invoice_number}") from None
    except (ValueError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    paid_back = _money(-done["amount"], currency)
    how = (
        "owed to the customer: pay it back by bank transfer"
        if done.get("payout") == "owed"
        else f"refunded through {done.get('method') or 'the provider'}"
    )
    click.echo(f"refund {done['id']} of {paid_back} for {invoice_number}: {how}")
    if note is not None:
        click.echo(f"credit note {note['number']} issued")
