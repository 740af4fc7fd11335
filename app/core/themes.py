"""Where a theme's files are: the chosen theme, then the default theme.

Themes are installed by the operator under ``themes/`` and trusted; a merchant
only chooses one by name (``branding.theme``). Merchants' own folders hold
assets, never templates: a template can run code, a merchant file must not.
"""

from __future__ import annotations

from pathlib import Path

from app.settings import THEMES_DIR

DEFAULT_THEME = "default"


def chain(theme: str) -> tuple[Path, ...]:
    """Folders searched in order: the theme, then the default theme."""
    if theme == DEFAULT_THEME:
        return (THEMES_DIR / DEFAULT_THEME,)
    return (THEMES_DIR / theme, THEMES_DIR / DEFAULT_THEME)
