"""The import rules of the design that keep the data flow one-way, checked on the source.

Each rule is read from every ``import`` in ``app/`` and ``forms/``, function-level
imports included, so a rule cannot be broken quietly by a late import.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB_FRAMEWORKS = ("flask", "flask_babel", "flask_wtf", "flask_limiter", "werkzeug")
DOMAIN_PACKAGES = (
    "app.core",
    "app.config",
    "app.signup",
    "app.billing",
    "app.portal",
    "app.outbox",
    "app.reports",
    "app.store",
    "app.container",
    "app.settings",
)
DATABASE_DRIVERS = ("tinydb", "psycopg", "psycopg_pool")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imports() -> dict[str, frozenset[str]]:
    """Every module of app/ and forms/ with the modules (and ``module.name``s) it imports."""
    found: dict[str, frozenset[str]] = {}
    for path in sorted([*ROOT.glob("app/**/*.py"), *ROOT.glob("forms/**/*.py")]):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[module_name(path)] = frozenset(names)
    return found


def within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == package or name.startswith(package + ".") for package in packages)


def offenders(modules: tuple[str, ...], forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    return {
        module: sorted(name for name in names if within(name, forbidden))
        for module, names in imports().items()
        if within(module, modules) and any(within(name, forbidden) for name in names)
    }


def test_the_rules_see_every_layer() -> None:
    """A rule over an empty set would pass for nothing: each layer has modules."""
    for package in (*DOMAIN_PACKAGES, "app.web", "app.cli", "forms"):
        assert any(within(module, (package,)) for module in imports()), package


def test_the_form_engine_knows_nothing_of_the_app() -> None:
    assert offenders(("forms",), ("app",)) == {}


@pytest.mark.parametrize("package", DOMAIN_PACKAGES)
def test_domain_services_do_not_import_flask_or_the_adapters(package: str) -> None:
    assert offenders((package,), (*WEB_FRAMEWORKS, "app.web", "app.cli", "app.factory")) == {}


def test_the_command_line_does_not_go_through_the_web_layer() -> None:
    """Only ``portico serve`` builds the Flask app, to serve it."""
    found = offenders(("app.cli",), (*WEB_FRAMEWORKS, "app.web"))
    assert found == {}
    serving = {m for m, names in imports().items() if "app.factory" in names}
    assert {m for m in serving if m.startswith("app.cli")} == {"app.cli.serve"}


def test_nothing_imports_a_blueprint() -> None:
    importers = {
        module: sorted(name for name in names if name.endswith(".blueprint"))
        for module, names in imports().items()
        if any(name.endswith(".blueprint") for name in names)
    }
    assert importers == {}


def test_only_the_store_talks_to_the_databases() -> None:
    found = {
        module: sorted(name for name in names if within(name, DATABASE_DRIVERS))
        for module, names in imports().items()
        if not within(module, ("app.store",))
    }
    assert {module: names for module, names in found.items() if names} == {}
