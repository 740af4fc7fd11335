"""What the merchant-facing commands (export, metrics, preview) share: one merchant's
valid config and its store, or a clear error."""

from __future__ import annotations

import os
from dataclasses import dataclass

import click

from app.config.models import MerchantConfig
from app.config.registry import MerchantRegistry
from app.settings import THEMES_DIR, Settings, load_settings
from app.store import Store, open_store


@dataclass(frozen=True)
class MerchantContext:
    slug: str
    settings: Settings
    config: MerchantConfig
    store: Store


def merchant_context(slug: str, *, signs: bool = False) -> MerchantContext:
    """The merchant's config and store; ``signs=False`` commands sign nothing, so they
    need no secret key (and must not generate one)."""
    environ = dict(os.environ)
    if not signs:
        environ["PORTICO_SECRET_KEY"] = environ.get("PORTICO_SECRET_KEY") or "-"
    settings = load_settings(environ)
    registry = MerchantRegistry(settings.merchants_dir, THEMES_DIR)
    loaded = registry.get(slug)
    if loaded is None:
        raise click.ClickException(f"unknown merchant {slug!r}: there is no {registry.path(slug)}")
    if loaded.config is None:
        raise click.ClickException(f"{slug}: its file has errors; run: portico check {loaded.path}")
    store = open_store(settings.store_url, settings.data_dir)
    return MerchantContext(slug, settings, loaded.config, store)
