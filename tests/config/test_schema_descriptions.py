"""Every key of the merchant YAML explains itself: editors show the description as a tooltip."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app.config.schema import merchant_schema


def _properties(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every ``properties`` entry under ``node`` (``$defs``, ``anyOf`` and ``items`` included)."""
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            for key, value in properties.items():
                yield f"{path}.{key}", value
        for key, value in node.items():
            yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _properties(value, f"{path}[{index}]")


def test_the_walk_reaches_nested_definitions() -> None:
    found = dict(_properties(merchant_schema(), "#"))
    assert "#.merchant" in found
    assert "#/$defs/Address.city" in found
    assert "#/$defs/TextSpec.placeholder" in found  # a field type, reached through $defs


def test_every_property_has_a_description() -> None:
    missing = [
        path
        for path, schema in _properties(merchant_schema(), "#")
        if not (isinstance(schema, dict) and str(schema.get("description", "")).strip())
    ]
    assert not missing, "keys without a description (add Field(description=...)):\n" + "\n".join(
        missing
    )
