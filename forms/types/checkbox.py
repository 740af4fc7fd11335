"""``checkbox``: a single yes/no, e.g. a newsletter opt-in. ``required``: must be ticked."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from wtforms import BooleanField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, FieldType, field_type
from forms.specs import FieldSpec
from forms.types._base import build_field


class CheckboxSpec(FieldSpec):
    type: Literal["checkbox"] = Field(description="A single box to tick.")
    default: bool = Field(False, description="Whether the box starts ticked.")


@field_type
class CheckboxType(FieldType):
    name = "checkbox"
    spec = CheckboxSpec
    widget = "checkbox"

    def build(self, spec: CheckboxSpec, context: BuildContext) -> UnboundField:
        return build_field(BooleanField, spec, context, default=spec.default)

    def stored_value(self, spec: CheckboxSpec, value: bool | None) -> bool:
        return bool(value)
