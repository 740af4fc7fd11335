"""``select``: one option from a drop-down list."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field
from wtforms import Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, FieldType, field_type
from forms.text import localize
from forms.types._base import ChoicesSpec, build_field
from forms.validators import OneOf


class SelectSpec(ChoicesSpec):
    type: Literal["select"] = Field(description="One option from a drop-down list.")


def choice_field(
    field_class: type[SelectField],
    spec: Any,
    context: BuildContext,
    options: list[SelectChoice],
    prompt: bool,
) -> UnboundField:
    """A choice field accepting only ``options``' values.

    With ``prompt``, the list starts with an empty "Please choose…" option,
    translated when the form is bound.
    """

    def choices(form: Form, field: SelectField) -> list[SelectChoice]:
        if not prompt:
            return options
        return [SelectChoice("", field.gettext("Please choose…")), *options]

    return build_field(
        field_class,
        spec,
        context,
        OneOf(option.value for option in options),
        choices=choices,
        validate_choice=False,  # OneOf says it in our words
        default=spec.default,
    )


@field_type
class SelectType(FieldType):
    name = "select"
    spec = SelectSpec
    widget = "select"
    field_class: ClassVar[type[SelectField]] = SelectField
    prompt: ClassVar[bool] = True  # an empty first option when nothing is chosen by default

    def build(self, spec: ChoicesSpec, context: BuildContext) -> UnboundField:
        options = [
            SelectChoice(
                choice.value, localize(choice.label, context.language, context.default_language)
            )
            for choice in spec.choices
        ]
        prompt = self.prompt and spec.default is None
        return choice_field(self.field_class, spec, context, options, prompt)
