from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.store import Store, TinyDBStore


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def tinydb_store(data_dir: Path) -> TinyDBStore:
    """The TinyDB store, for what only a store of files has: files, caches, file locks."""
    return TinyDBStore(data_dir)


@pytest.fixture
def store(any_store: Store) -> Store:
    """Each store in turn (PostgreSQL when ``PORTICO_TEST_POSTGRES`` is set)."""
    return any_store


class ParseCounter:
    """Counts the JSON parses of this process; the real ``orjson.loads`` still parses."""

    def __init__(self, loads: Callable[[Any], Any]) -> None:
        self.count = 0
        self._loads = loads

    def __call__(self, raw: Any) -> Any:
        self.count += 1
        return self._loads(raw)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> ParseCounter:
    counter = ParseCounter(orjson.loads)
    monkeypatch.setattr(orjson, "loads", counter)
    return counter
