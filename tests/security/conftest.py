"""Security tests run on a writable copy of the demo merchants (``config_dir`` override)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.security import copy_demo


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """acme and stromma, as in the demo: two tenants of one instance."""
    config = tmp_path / "config"
    copy_demo(config, "acme", "stromma")
    return config


@pytest.fixture
def merchants(config_dir: Path) -> Path:
    return config_dir / "merchants"
