"""From a merchant file to a validated config and every problem found on the way."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from app.config.checks import CheckContext, run_checks
from app.config.errors import validation_problems
from app.config.models import MerchantConfig
from app.config.problems import Position, Problem
from app.config.yamlsource import SourceMap, YamlError, parse_yaml

SLUG = re.compile(r"^[a-z0-9-]{2,40}$")
RESERVED_SLUGS = frozenset({"static", "healthz", "embed.js", "api", "admin", "embed"})


@dataclass(frozen=True)
class LoadedMerchant:
    """One merchant file as read: the config when it has no errors, and its problems."""

    slug: str
    path: Path
    version: str  # a digest of the file's bytes: a new file is a new version
    config: MerchantConfig | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def report(self) -> list[str]:
        """Every problem as ``file:line:column: severity: message``, in file order."""
        ordered = sorted(self.problems, key=lambda p: p.position or Position(1, 1))
        return [problem.format(str(self.path)) for problem in ordered]


def slug_problem(slug: str) -> str | None:
    if not SLUG.match(slug):
        return (
            f"the file name gives the merchant slug '{slug}', which must be 2 to 40 "
            "lowercase letters, digits or '-'"
        )
    if slug in RESERVED_SLUGS:
        return f"the merchant slug '{slug}' is reserved by Portico's own URLs; rename the file"
    return None


def load_merchant(path: Path, themes: frozenset[str]) -> LoadedMerchant:
    """Read, validate and check one merchant file. Never raises for bad content."""
    slug = path.stem
    raw = path.read_bytes()
    version = hashlib.sha256(raw).hexdigest()[:16]
    problems: list[Problem] = []
    if message := slug_problem(slug):
        problems.append(Problem.error((), message, Position(1, 1)))
    try:
        document = parse_yaml(raw)
    except YamlError as error:
        return LoadedMerchant(slug, path, version, None, (*problems, error.problem))
    data, source = document.data, document.source
    if not isinstance(data, dict):
        problem = Problem.error((), "expected a mapping of keys such as 'merchant' and 'plans'")
        return LoadedMerchant(slug, path, version, None, (*problems, _placed(problem, source)))
    try:
        config = MerchantConfig.model_validate(data)
    except ValidationError as error:
        problems += validation_problems(MerchantConfig, data, error, source)
        return LoadedMerchant(slug, path, version, None, tuple(problems))
    context = CheckContext(config, data, path.parent, themes, slug=slug)
    problems += (_placed(problem, source) for problem in run_checks(context))
    has_errors = any(problem.severity == "error" for problem in problems)
    return LoadedMerchant(slug, path, version, None if has_errors else config, tuple(problems))


def _placed(problem: Problem, source: SourceMap) -> Problem:
    if problem.position is not None:
        return problem
    return Problem(problem.severity, problem.path, problem.message, source.position(problem.path))
