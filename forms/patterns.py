"""Regular expressions from merchant files, run by RE2: linear time, whatever the pattern.

Python's ``re`` backtracks: a pattern such as ``^(a+)+$`` takes exponential time on
``aaaa…!``, so one merchant's pattern and a few anonymous posts could stall every
worker. RE2 (the ``google-re2`` package) matches in time linear in the input and
refuses what it cannot do in linear time (backreferences, lookaround) when the
pattern is compiled, so ``portico check`` rejects such a pattern before it runs.

RE2 differences a merchant may notice: ``\\d``, ``\\w``, ``\\s`` and ``\\b`` are
ASCII only (``\\p{L}`` matches any letter), and a counted repeat is at most 1000.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Protocol

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # the error reaches the merchant as a message, not on stderr


class CompiledPattern(Protocol):
    def fullmatch(self, text: str) -> object | None: ...

    def match(self, text: str) -> object | None: ...


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why, for a merchant."""


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> CompiledPattern:
    """``pattern`` compiled by RE2, or :class:`PatternError`."""
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        raise PatternError(
            f"not a valid regular expression: {_reason(error)} "
            "(patterns use RE2 syntax, which runs in linear time: no backreferences, "
            "no lookahead or lookbehind, repeats up to {1000})"
        ) from None
    except (TypeError, ValueError) as error:  # a NUL byte, a surrogate
        raise PatternError(f"not a valid regular expression: {error}") from None


def _reason(error: Exception) -> str:
    reason = error.args[0] if error.args else error
    if isinstance(reason, bytes):
        reason = reason.decode("utf-8", "replace")
    return str(reason)
