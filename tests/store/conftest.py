from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from app.store import TinyDBStore


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> TinyDBStore:
    return TinyDBStore(data_dir)


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
