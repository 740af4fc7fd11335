"""``date``: a calendar day, stored as ``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, model_validator
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, FieldType, field_type
from forms.specs import FieldSpec
from forms.types._base import build_field
from forms.validators import Date, DateBound, Length, resolve_date

BOUND = " A date (YYYY-MM-DD) or `today`, the current day in the merchant's time zone."
MAX_LENGTH = 10  # YYYY-MM-DD


class DateSpec(FieldSpec):
    type: Literal["date"] = Field(description="A calendar day.")
    min: DateBound = Field(None, description="The earliest day accepted." + BOUND)
    max: DateBound = Field(None, description="The latest day accepted." + BOUND)
    default: DateBound = Field(None, description="The day the field starts with." + BOUND)

    @model_validator(mode="after")
    def _consistent(self) -> DateSpec:
        if isinstance(self.min, date) and isinstance(self.max, date) and self.min > self.max:
            raise ValueError("'min' is later than 'max'")
        return self


@field_type
class DateType(FieldType):
    name = "date"
    spec = DateSpec
    input_type = "date"

    def build(self, spec: DateSpec, context: BuildContext) -> UnboundField:
        return build_field(
            StringField,
            spec,
            context,
            Length(MAX_LENGTH),
            Date(context.language, context.timezone, spec.min, spec.max),
            # a callable: "today" is the day the form is shown, not the day it was built
            default=lambda: iso_date(resolve_date(spec.default, context.timezone)),
        )

    def attributes(self, spec: DateSpec, context: BuildContext) -> dict[str, Any]:
        attributes = super().attributes(spec, context)
        for key in ("min", "max"):
            bound = resolve_date(getattr(spec, key), context.timezone)
            if bound is not None:
                attributes[key] = bound.isoformat()
        return attributes

    def stored_value(self, spec: DateSpec, value: date | None) -> str | None:
        return iso_date(value)


def iso_date(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
