"""The portal's commands: ``portico portal-link`` and ``portico access add|remove|list``."""

from __future__ import annotations

import click

from app.cli import context
from app.config.loader import LoadedMerchant
from app.portal import PortalServices
from app.portal.access import DOMAIN, AccessError
from app.portal.tokens import DIRECT, LIFETIME, signin_link
from app.settings import Settings


def _open(merchant: str) -> tuple[Settings, LoadedMerchant, PortalServices]:
    services = context.container()
    return services.settings, context.loaded_merchant(services, merchant), services.portal


@click.command("portal-link")
@click.argument("merchant")
@click.argument("email")
@click.option(
    "--lang",
    default=None,
    help="Language of the portal pages (default: the customer's, else the merchant's first).",
)
def portal_link(merchant: str, email: str, lang: str | None) -> None:
    """Print a sign-in link for EMAIL: it works once, for 15 minutes.

    The link is built from PORTICO_BASE_URL. Hand it over only to the person
    who owns the address: whoever opens it is signed in.
    """
    settings, loaded, services = _open(merchant)
    config = loaded.config
    assert config is not None
    if not config.portal.enabled:
        raise click.ClickException(f"{merchant} has its portal switched off (portal.enabled)")
    if lang is not None and lang not in config.languages:
        raise click.ClickException(
            f"--lang {lang}: {merchant} offers {', '.join(config.languages)}"
        )
    accounts = services.access.accounts_for(merchant, email)
    if not accounts:
        raise click.ClickException(
            f"{email} may not sign in to the portal of {merchant}: it is no customer's own"
            " address and no access rule grants it (see: portico access add)"
        )
    language = lang or _customer_language(services, merchant, accounts) or config.languages[0]
    if language not in config.languages:
        language = config.languages[0]
    issued = services.tokens.issue(merchant, email, language=language, channel=DIRECT)
    assert issued is not None  # direct links are never throttled
    click.echo(signin_link(settings.base_url, merchant, issued.token, language))
    minutes = int(LIFETIME.total_seconds() // 60)
    click.echo(
        f"works once, for {minutes} minutes (until {issued.expires_at:%Y-%m-%d %H:%M} UTC)",
        err=True,
    )


def _customer_language(services: PortalServices, merchant: str, accounts: list) -> str | None:
    own = [a for a in accounts if a.via == "own"]
    overview = services.accounts.overview(merchant, own[0].customer_id) if own else None
    return overview.language if overview else None


@click.group()
def access() -> None:
    """Portal access rules: who besides an account's own address may manage it.

    ACCOUNT is a customer number such as C-000123. A --domain rule lets every
    address at exactly that domain in (not its subdomains); an --email rule
    one address. Rules of one account may not overlap.
    """


@access.command("add")
@click.argument("merchant")
@click.argument("account")
@click.option(
    "--domain", default=None, help="Grant every address at this domain, e.g. example.com."
)
@click.option("--email", default=None, help="Grant this one address.")
def access_add(merchant: str, account: str, domain: str | None, email: str | None) -> None:
    """Let a domain or an address manage ACCOUNT in the portal."""
    _, _, services = _open(merchant)
    try:
        rule = services.access.add(merchant, account, domain=domain, email=email)
    except AccessError as error:
        raise click.ClickException(str(error)) from None
    who = f"every address at {rule.value}" if rule.kind == DOMAIN else rule.value
    click.echo(f"{merchant} {rule.customer_number}: {who} may now manage this account")


@access.command("remove")
@click.argument("merchant")
@click.argument("account")
@click.option("--domain", default=None, help="The domain rule to remove.")
@click.option("--email", default=None, help="The address rule to remove.")
def access_remove(merchant: str, account: str, domain: str | None, email: str | None) -> None:
    """Take back a domain or address rule of ACCOUNT; its sessions end at their next request."""
    _, _, services = _open(merchant)
    try:
        rule = services.access.remove(merchant, account, domain=domain, email=email)
    except AccessError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{merchant} {rule.customer_number}: removed the rule {rule.describe()}")


@access.command("list")
@click.argument("merchant")
@click.argument("account")
def access_list(merchant: str, account: str) -> None:
    """Show who may manage ACCOUNT: its own address, then its rules."""
    _, _, services = _open(merchant)
    try:
        granted = services.access.list(merchant, account)
    except AccessError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{merchant} {granted.number}")
    click.echo(f"  own address  {granted.email}")
    for rule in granted.rules:
        click.echo(f"  --{rule.kind:<6}     {rule.value}  (added {rule.created_at[:10]})")
    if not granted.rules:
        click.echo("  no further rules")
