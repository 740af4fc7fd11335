"""Pydantic's validation errors, rewritten as Portico's positioned problems.

Each message names what was expected and what was received, lists the valid
choices and suggests the nearest one for a typo. Positions come from the YAML
source map; pydantic's location is mapped back onto the document's own keys
(pydantic inserts union member tags that the document does not have).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError

from app.config.annotations import child_annotation, model_of
from app.config.problems import Path, Problem, describe, did_you_mean, one_of
from app.config.yamlsource import SourceMap

_TYPE_NAMES = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "decimal_type": "a number",
    "decimal_parsing": "a number",
    "float_type": "a number",
    "date_type": "a date like 2026-12-31",
    "date_parsing": "a date like 2026-12-31",
    "date_from_datetime_parsing": "a date like 2026-12-31",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "list_type": "a list",
    "tuple_type": "a list",
}

_PATTERN_NAMES = {
    r"^[a-z][a-z0-9_]{0,39}$": "a name of lowercase letters, digits and '_', starting with "
    "a letter (at most 40 characters)",
    r"^[a-z0-9][a-z0-9_-]{0,39}$": "an id of lowercase letters, digits, '-' and '_' "
    "(at most 40 characters)",
    r"^#(?:[0-9a-fA-F]{3}){1,2}$": "a colour like '#0b5fff' or '#fff'",
    r"^[A-Za-z0-9_-]{2,40}$": "a code of 2 to 40 letters, digits, '-' and '_'",
    r"^[A-Z_][A-Z0-9_]{0,63}$": "an environment variable name like 'ACME_WEBHOOK_SECRET'",
}


def _walk(root: type[BaseModel], data: Any, loc: tuple) -> tuple[Path, Any, Any]:
    """Map pydantic's ``loc`` onto document keys: (path, annotation, value) of its end."""
    path: list[str | int] = []
    annotation: Any = root
    value = data
    for part in loc:
        if (isinstance(value, dict) and isinstance(part, str) and part in value) or (
            isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        ):
            annotation, value = child_annotation(annotation, part, value), value[part]
        elif isinstance(value, dict) and isinstance(part, str) and len(path) == len(loc) - 1:
            annotation, value = child_annotation(annotation, part, value), None  # a missing key
        else:
            continue  # a union member tag pydantic adds
        path.append(part)
    return tuple(path), annotation, value


def _keys_of(root: type[BaseModel], data: Any, parent: Path) -> list[str]:
    annotation: Any = root
    value = data
    for part in parent:
        annotation, value = child_annotation(annotation, part, value), value[part]
    model = model_of(annotation, value)
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _literal_choices(error: dict) -> list[str]:
    return re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))


def _message(root: type[BaseModel], data: Any, error: dict, path: Path, value: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        key = path[-1]
        keys = _keys_of(root, data, path[:-1])
        return f"unknown key '{key}'{did_you_mean(key, keys)}; expected one of: {one_of(keys)}"
    if kind == "missing":
        return f"required key '{path[-1]}' is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        tag = ctx.get("tag", value.get("type") if isinstance(value, dict) else None)
        if tag is None:
            return f"required key 'type' is missing; expected one of: {one_of(choices)}"
        return (
            f"unknown field type {describe(tag)}{did_you_mean(tag, choices)}; "
            f"expected one of: {one_of(choices)}"
        )
    if kind == "literal_error":
        choices = _literal_choices(error)
        return (
            f"expected one of: {one_of(choices)}, received {describe(value)}"
            f"{did_you_mean(value, choices)}"
        )
    if kind == "string_pattern_mismatch":
        wanted = _PATTERN_NAMES.get(ctx.get("pattern", ""), f"text matching {ctx.get('pattern')}")
        return f"expected {wanted}, received {describe(value)}"
    if kind in _TYPE_NAMES:
        return f"expected {_TYPE_NAMES[kind]}, received {describe(value)}"
    if kind in ("too_short", "too_long"):
        return error["msg"].replace("Tuple", "the list").replace("List", "the list")
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return f"{error['msg'].lower()}, received {describe(value)}"
    return f"{error['msg']}, received {describe(value)}"


def _dedupe(errors: list[dict]) -> Iterator[dict]:
    """One error per location: a union reports once per member, keep the first."""
    seen: set[tuple] = set()
    for error in errors:
        key = tuple(part for part in error["loc"] if not isinstance(part, str) or "[" not in part)
        if key in seen:
            continue
        seen.add(key)
        yield error


def validation_problems(
    root: type[BaseModel], data: Any, error: ValidationError, source: SourceMap
) -> list[Problem]:
    problems = []
    for item in _dedupe(error.errors(include_url=False)):
        path, _, value = _walk(root, data, item["loc"])
        message = _message(root, data, item, path, value)
        if item["type"] == "union_tag_invalid" and isinstance(value, dict) and "type" in value:
            path = (*path, "type")
        if item["type"] == "extra_forbidden":
            position = source.position(path, key=True)
        elif item["type"] == "missing":
            position = source.position(path[:-1])
        else:
            position = source.position(path)
        problems.append(Problem.error(path, message, position))
    return problems
