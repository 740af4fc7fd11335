"""The field-type registry: each type is one small module in ``forms/types``.

A :class:`FieldType` knows its spec model, the WTForms field and validators it
builds, the HTML it asks the theme for (widget, input type, ``inputmode``,
``autocomplete``) and how a submitted value is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Union

from pydantic import Field
from wtforms.fields.core import UnboundField

from forms.autocomplete import NAME_TOKENS
from forms.specs import FieldSpec
from forms.text import localize


@dataclass(frozen=True)
class BuildContext:
    """What a form is built for: the page language and the merchant's defaults."""

    language: str
    default_language: str
    default_country: str
    timezone: str = "UTC"  # what "today" means for date fields


TEXT_WIDGETS = frozenset({"input", "textarea"})  # the widgets a person types into


class FieldType:
    name: ClassVar[str]
    spec: ClassVar[type[FieldSpec]]
    widget: ClassVar[str] = "input"  # the theme macro that renders it
    input_type: ClassVar[str] = "text"
    inputmode: ClassVar[str | None] = None
    autocomplete: ClassVar[str | None] = None
    personal_data: ClassVar[bool] = True  # stored about a person: masked in logs, exported
    echo_value: ClassVar[bool] = True  # False: a theme must never render the submitted value

    def build(self, spec: FieldSpec, context: BuildContext) -> UnboundField:
        raise NotImplementedError

    def attributes(self, spec: FieldSpec, context: BuildContext) -> dict[str, Any]:
        """HTML attributes for the input, besides name, id and value."""
        attributes: dict[str, Any] = {}
        if self.widget == "input":
            attributes["type"] = self.input_type
        if self.inputmode:
            attributes["inputmode"] = self.inputmode
        if spec.placeholder is not None and self.widget in TEXT_WIDGETS:
            attributes["placeholder"] = localize(
                spec.placeholder, context.language, context.default_language
            )
        # A browser refuses to submit a form whose hidden input is `required`,
        # so only unconditionally shown fields say so; the page script mirrors the rest.
        if spec.required and spec.visible_if is None:
            attributes["required"] = True
        token = autocomplete_token(spec)
        if token:
            attributes["autocomplete"] = token
        return attributes

    def stored_value(self, spec: FieldSpec, value: Any) -> Any:
        """The JSON value kept for a valid submitted ``value`` (``None``: nothing)."""
        return value if value not in ("", None) else None


FIELD_TYPES: dict[str, FieldType] = {}


def autocomplete_token(spec: FieldSpec) -> str | None:
    """The HTML ``autocomplete`` token: the spec's, else the type's, else one guessed by name.

    Names are only guessed for free-text inputs: a select or checkbox called
    ``city`` is not the city.
    """
    if spec.autocomplete:
        return spec.autocomplete
    kind = FIELD_TYPES[spec.type]
    if kind.autocomplete:
        return kind.autocomplete
    return NAME_TOKENS.get(spec.name) if kind.widget in TEXT_WIDGETS else None


def field_type(cls: type[FieldType]) -> type[FieldType]:
    """Class decorator registering a field type under its ``name``."""
    if cls.name in FIELD_TYPES:
        raise ValueError(f"field type {cls.name!r} registered twice")
    FIELD_TYPES[cls.name] = cls()
    return cls


def _any_field_spec() -> Any:
    import forms.types  # noqa: F401  (registers every built-in type)

    specs = tuple(kind.spec for kind in FIELD_TYPES.values())
    return Annotated[Union[specs], Field(discriminator="type")]  # noqa: UP007  (a runtime tuple)


AnyFieldSpec = _any_field_spec()
