"""The layout of the tests themselves: what they share lives in ``tests/helpers/``.

A test module that imports from another test module (or from a ``conftest.py``)
couples two suites that should stand alone: renaming a test breaks another,
and pytest collects the imported test functions a second time. So every
``tests.*`` import, in the tests, the helpers and the benchmarks, function-level
imports included, is from ``tests.helpers``; fixtures stay in the
``conftest.py`` files, which pytest finds without an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELPERS = ROOT / "tests" / "helpers"


def sources() -> list[Path]:
    return sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])


def imported_modules(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path`` (or in ``source`` as if it were that
    file); ``from a import b`` counts as ``a.b`` (``b`` may be a module), relative
    imports resolved against the file's package."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    package = path.relative_to(ROOT).parent.parts
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def from_helpers(module: str) -> bool:
    return module == "tests.helpers" or module.startswith("tests.helpers.")


def test_tests_import_only_from_tests_helpers() -> None:
    wrong = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in sources()
        for line, module in imported_modules(path)
        if (module == "tests" or module.startswith("tests.")) and not from_helpers(module)
    ]
    assert wrong == [], (
        "tests import shared code from tests.helpers only, never from a test module or a "
        "conftest (move the helper to tests/helpers/, the fixture to a conftest.py):\n"
        + "\n".join(wrong)
    )


def test_helpers_hold_no_tests() -> None:
    """pytest collects a ``test_*`` function or ``Test*`` class in every module that imports
    it: a helper by such a name would run again in each test module using it."""
    collected = [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.name}"
        for path in sorted(HELPERS.rglob("*.py"))
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name.lower().startswith("test")
    ]
    assert [p.name for p in HELPERS.rglob("test_*.py")] == []
    assert collected == []


def test_the_check_sees_each_way_of_importing_a_test_module() -> None:
    """The rule above catches each form: absolute, ``from package import module``,
    relative, plain ``import``; a late import from the helpers passes."""
    source = (
        "from tests.web.test_order_page import VALID\n"
        "from tests.portal import conftest\n"
        "from .test_mails import SLUG\n"
        "import tests.billing.conftest\n"
        "def late():\n"
        "    from tests.helpers.orders import VALID\n"
    )
    modules = [m for _, m in imported_modules(ROOT / "tests" / "web" / "probe.py", source)]
    assert [m for m in modules if not from_helpers(m)] == [
        "tests.web.test_order_page.VALID",
        "tests.portal.conftest",
        "tests.web.test_mails.SLUG",
        "tests.billing.conftest",
    ]
