"""``portico check``, ``new`` and ``schema``: writing and checking merchant files."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from app.cli import context
from app.config.loader import load_merchant, slug_problem
from app.config.registry import installed_themes
from app.config.scaffold import scaffold
from app.config.schema import merchant_schema
from app.settings import THEMES_DIR


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
def check(paths: tuple[Path, ...], strict: bool) -> None:
    """Validate merchant YAML: every problem as file:line:column: severity: message."""
    if not paths:
        merchants_dir = context.settings(signs=False).merchants_dir
        paths = tuple(sorted(merchants_dir.glob("*.yaml")))
        if not paths:
            raise click.ClickException(f"no merchant files (*.yaml) in {merchants_dir}")
    themes = installed_themes(THEMES_DIR)
    errors = warnings = 0
    for path in paths:
        if not path.is_file():
            click.echo(f"{path}:1:1: error: no such file", err=True)
            errors += 1
            continue
        loaded = load_merchant(path, themes)
        for line in loaded.report():
            click.echo(line)
        errors += len(loaded.errors)
        warnings += len(loaded.warnings)
    failed = errors > 0 or (strict and warnings > 0)
    summary = f"{len(paths)} file(s): {errors} error(s), {warnings} warning(s)"
    click.echo(summary + (" (strict: warnings count as errors)" if strict and warnings else ""))
    sys.exit(1 if failed else 0)


@click.command()
@click.argument("slug")
@click.option("--name", default=None, help="The merchant's name (default: from the slug).")
def new(slug: str, name: str | None) -> None:
    """Scaffold a commented merchant YAML that passes `portico check`."""
    if message := slug_problem(slug):
        raise click.ClickException(message)
    path = context.settings(signs=False).merchants_dir / f"{slug}.yaml"
    if path.exists():
        raise click.ClickException(f"{path} exists already; nothing was changed")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(scaffold(slug, name), encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run: portico check {path}")


@click.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the merchant YAML, for editors."""
    click.echo(json.dumps(merchant_schema(), indent=2, ensure_ascii=False))
