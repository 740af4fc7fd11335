"""``portico preview <merchant>``: preview URLs with a fresh token, valid for an hour."""

from __future__ import annotations

from urllib.parse import urlencode

import click

from app.cli.context import merchant_context
from app.reports.preview import LIFETIME_SECONDS, PreviewTokens


def preview_urls(base_url: str, merchant: str, token: str, languages: tuple[str, ...]) -> list[str]:
    """The order page and the portal in every language, then the fields page and the metrics."""
    urls = [
        f"{base_url}/{merchant}/preview/{page}?{urlencode({'token': token, 'lang': language})}"
        for page in ("order", "portal")
        for language in languages
    ]
    urls += [
        f"{base_url}/{merchant}/preview/{page}?{urlencode({'token': token})}"
        for page in ("fields", "metrics")
    ]
    return urls


@click.command()
@click.argument("merchant")
def preview(merchant: str) -> None:
    """Print preview URLs (from PORTICO_BASE_URL) of MERCHANT's pages with sample data.

    Anyone with a link sees the merchant's metrics for the next hour: share it only
    with the merchant's own people."""
    context = merchant_context(merchant, signs=True)
    token = PreviewTokens(context.settings.secret_key).issue(merchant)
    for url in preview_urls(context.settings.base_url, merchant, token, context.config.languages):
        click.echo(url)
    click.echo(f"valid for {LIFETIME_SECONDS // 60} minutes", err=True)
