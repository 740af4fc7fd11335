"""The ``portico`` command: one group, each command group in a module of its own."""

from __future__ import annotations

import click

from app.cli.backup import backup, restore
from app.cli.billing import bill
from app.cli.db import db
from app.cli.export import export
from app.cli.mail import mail
from app.cli.merchant_files import check, new, schema
from app.cli.metrics import metrics_command
from app.cli.payments import payments, refund
from app.cli.portal import access, portal_link
from app.cli.preview import preview
from app.cli.serve import serve
from app.cli.webhooks import webhooks


@click.group()
def main() -> None:
    """Portico: hosted order pages and a self-service portal from one YAML file per merchant."""


for command in (
    check,
    new,
    schema,
    serve,
    bill,
    mail,
    backup,
    restore,
    db,
    portal_link,
    access,
    webhooks,
    export,
    metrics_command,
    preview,
    payments,
    refund,
):
    main.add_command(command)
