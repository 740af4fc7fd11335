"""Problems found in a merchant file: what, where, and how bad.

The wording of these messages is part of Portico's interface: merchants read
them in their terminal and editors parse ``file:line:column``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

Path = tuple[str | int, ...]
Severity = Literal["error", "warning"]


class Position(NamedTuple):
    line: int
    column: int


@dataclass(frozen=True)
class Problem:
    severity: Severity
    path: Path
    message: str
    position: Position | None = None

    @classmethod
    def error(cls, path: Path, message: str, position: Position | None = None) -> Problem:
        return cls("error", path, message, position)

    @classmethod
    def warning(cls, path: Path, message: str, position: Position | None = None) -> Problem:
        return cls("warning", path, message, position)

    def format(self, filename: str) -> str:
        line, column = self.position or Position(1, 1)
        where = f"{format_path(self.path)}: " if self.path else ""
        return f"{filename}:{line}:{column}: {self.severity}: {where}{self.message}"


def format_path(path: Path) -> str:
    """``('plans', 0, 'price')`` → ``plans[0].price``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'email'?)`` for a near miss, otherwise an empty string."""
    if not isinstance(value, str):
        return ""
    matches = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    if not matches:
        lowered = {choice.lower(): choice for choice in choices}
        if value.lower() in lowered:
            matches = [lowered[value.lower()]]
    return f" (did you mean '{matches[0]}'?)" if matches else ""


def one_of(choices: Iterable[str]) -> str:
    return ", ".join(f"'{choice}'" for choice in sorted(choices))


def describe(value: object) -> str:
    """How a received value is named in a message: its text and its YAML type."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, str):
        return f"'{text}'"
    return f"{text}"
