"""The merchants an instance serves, each reloaded when its file changes.

A broken file takes only its own merchant offline: ``get`` still answers
with its problems (the pages show 503), and the log says which line is wrong.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from app.config.loader import SLUG, LoadedMerchant, load_merchant

log = logging.getLogger(__name__)


def installed_themes(themes_dir: Path) -> frozenset[str]:
    return (
        frozenset(entry.name for entry in themes_dir.iterdir() if (entry / "templates").is_dir())
        if themes_dir.is_dir()
        else frozenset()
    )


class MerchantRegistry:
    def __init__(self, merchants_dir: Path, themes_dir: Path) -> None:
        self.merchants_dir = merchants_dir
        self.themes = installed_themes(themes_dir)
        self._loaded: dict[str, tuple[tuple[int, int, int], LoadedMerchant]] = {}
        self._lock = threading.Lock()

    def path(self, slug: str) -> Path:
        return self.merchants_dir / f"{slug}.yaml"

    def get(self, slug: str) -> LoadedMerchant | None:
        """The merchant as its file says now, or ``None`` when there is no such merchant."""
        if not SLUG.match(slug):
            return None
        path = self.path(slug)
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            with self._lock:
                self._loaded.pop(slug, None)
            return None
        identity = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._loaded.get(slug)
        if cached and cached[0] == identity:
            return cached[1]
        loaded = load_merchant(path, self.themes)
        for line in loaded.report():
            (log.error if loaded.config is None else log.info)("%s", line)
        with self._lock:
            self._loaded[slug] = (identity, loaded)
        return loaded

    def slugs(self) -> list[str]:
        if not self.merchants_dir.is_dir():
            return []
        return sorted(path.stem for path in self.merchants_dir.glob("*.yaml"))

    def all(self) -> list[LoadedMerchant]:
        return [loaded for slug in self.slugs() if (loaded := self.get(slug)) is not None]
