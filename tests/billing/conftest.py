"""Billing fixtures: a real store in tmp_path (each store in turn), a clock the test
moves, the test merchant's config and a shop of services over them."""

from __future__ import annotations

import pytest

from app.config.models import MerchantConfig
from app.store import Store, TinyDBStore
from tests.helpers.billing import Clock, Shop, make_config


@pytest.fixture
def store(any_store: Store) -> Store:
    """Each store in turn: billing runs on TinyDB and, when configured, on PostgreSQL."""
    return any_store


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def config() -> MerchantConfig:
    return make_config()


@pytest.fixture
def shop(store: TinyDBStore, clock: Clock, config: MerchantConfig) -> Shop:
    return Shop(store, clock, config, "shop")
