"""What every ``portico`` command builds its work from: the settings, the service
container, one merchant's valid config, or a clear error."""

from __future__ import annotations

import os
from dataclasses import dataclass

import click

from app.config.loader import LoadedMerchant
from app.config.models import MerchantConfig
from app.container import Portico
from app.settings import Settings, load_settings
from app.store import Store


def settings(*, signs: bool = True) -> Settings:
    """The settings from the environment; ``signs=False`` commands sign nothing, so they
    need no secret key (and must not generate one)."""
    environ = dict(os.environ)
    if not signs:
        environ["PORTICO_SECRET_KEY"] = environ.get("PORTICO_SECRET_KEY") or "-"
    return load_settings(environ)


def container(*, signs: bool = True) -> Portico:
    """Every service of this instance, as the web app builds them."""
    return Portico(settings(signs=signs))


def loaded_merchant(services: Portico, slug: str) -> LoadedMerchant:
    """The merchant's loaded file, if it has no errors; else a clear error and exit 1."""
    loaded = services.merchants.get(slug)
    if loaded is None:
        raise click.ClickException(
            f"unknown merchant {slug!r}: there is no {services.merchants.path(slug)}"
        )
    if loaded.config is None:
        raise click.ClickException(f"{slug}: its file has errors; run: portico check {loaded.path}")
    return loaded


@dataclass(frozen=True)
class MerchantContext:
    """One merchant's valid config with the services to act on it."""

    services: Portico
    loaded: LoadedMerchant

    @property
    def slug(self) -> str:
        return self.loaded.slug

    @property
    def config(self) -> MerchantConfig:
        assert self.loaded.config is not None  # loaded_merchant refuses files with errors
        return self.loaded.config

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def store(self) -> Store:
        return self.services.store


def merchant_context(slug: str, *, signs: bool = False) -> MerchantContext:
    services = container(signs=signs)
    return MerchantContext(services, loaded_merchant(services, slug))
