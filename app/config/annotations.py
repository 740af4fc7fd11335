"""Walking the merchant models by their type annotations.

The checker and the error rewriter both need to know, for a place in the
document, which model or text kind the schema expects there.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from app.config.problems import Path
from forms.text import TextKind


def strip(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def field_annotation(model: type[BaseModel], key: str) -> Any:
    """A model field's annotation with its metadata (pydantic moves it aside)."""
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            if field.metadata:
                return Annotated[(field.annotation, *field.metadata)]
            return field.annotation
    return None


def model_of(annotation: Any, value: Any) -> type[BaseModel] | None:
    """The model an annotation stands for, picking a union member by its ``type``."""
    annotation = strip(annotation)
    if _is_model(annotation):
        return annotation
    if _is_union(annotation):
        models = [arg for arg in map(strip, get_args(annotation)) if _is_model(arg)]
        tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        tagged = [m for m in models if tag in get_args(strip(field_annotation(m, "type")))]
        return (tagged or models or [None])[0]
    return None


def child_annotation(annotation: Any, key: str | int, value: Any) -> Any:
    """The annotation of ``value[key]`` given the annotation of ``value``."""
    model = model_of(annotation, value)
    if model is not None:
        return field_annotation(model, key) if isinstance(key, str) else None
    annotation = strip(annotation)
    if _is_union(annotation):
        containers = [strip(a) for a in get_args(annotation) if get_origin(strip(a)) is not None]
        annotation = next(iter(containers), annotation)
    args = get_args(annotation)
    if get_origin(annotation) in (tuple, list) and args:
        return args[0]
    if get_origin(annotation) is dict and args:
        return args[1]
    return None


def text_kind(annotation: Any) -> TextKind | None:
    """``TextKind.PLAIN``/``HTML`` when the annotation is a merchant text type."""
    if get_origin(annotation) is Annotated:
        kinds = [m for m in annotation.__metadata__ if isinstance(m, TextKind)]
        if kinds:
            return kinds[-1]
        return text_kind(get_args(annotation)[0])
    if _is_union(annotation):
        return next(filter(None, map(text_kind, get_args(annotation))), None)
    return None


def iter_texts(
    value: Any, annotation: Any, path: Path = ()
) -> Iterator[tuple[Path, Any, TextKind]]:
    """Every merchant text in a validated model: its path, value and kind."""
    if value is None:
        return
    kind = text_kind(annotation)
    if kind is not None:
        yield path, value, kind
        return
    if isinstance(value, BaseModel):
        for name, field in type(value).model_fields.items():
            key = field.alias or name
            yield from iter_texts(
                getattr(value, name), field_annotation(type(value), key), (*path, key)
            )
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from iter_texts(item, child_annotation(annotation, index, value), (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from iter_texts(item, child_annotation(annotation, key, value), (*path, key))
