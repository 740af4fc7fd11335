"""``text``: one line of free text."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, FieldType, field_type
from forms.text import localize
from forms.types._base import StringSpec, build_field
from forms.validators import Length, Pattern


class TextSpec(StringSpec):
    type: Literal["text"] = Field(description="One line of text.")


@field_type
class TextType(FieldType):
    name = "text"
    spec = TextSpec
    field_class: ClassVar[type[StringField]] = StringField

    def build(self, spec: StringSpec, context: BuildContext) -> UnboundField:
        validators: list[Any] = [Length(spec.max_length, spec.min_length)]
        if spec.pattern is not None:
            message = localize(spec.pattern_message, context.language, context.default_language)
            validators.append(Pattern(spec.pattern, message or None))
        return build_field(self.field_class, spec, context, *validators, default=spec.default)

    def attributes(self, spec: StringSpec, context: BuildContext) -> dict[str, Any]:
        attributes = super().attributes(spec, context)
        attributes["maxlength"] = spec.max_length
        if spec.min_length is not None:
            attributes["minlength"] = spec.min_length
        return attributes
