"""``number``: a decimal number, typed the page language's way, stored as a string."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_validator
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, FieldType, field_type
from forms.specs import FieldSpec
from forms.types._base import build_field
from forms.validators import Length, Number, localized_number

MAX_LENGTH = 40


class NumberSpec(FieldSpec):
    type: Literal["number"] = Field(description="A number, whole or decimal.")
    min: Decimal | None = Field(None, description="The smallest number accepted.")
    max: Decimal | None = Field(None, description="The largest number accepted.")
    step: Decimal | None = Field(
        None, gt=0, description="Accept only `min` plus multiples of this (1: whole numbers)."
    )
    default: Decimal | None = Field(None, description="The number the field starts with.")

    @model_validator(mode="after")
    def _consistent(self) -> NumberSpec:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("'min' is larger than 'max'")
        if self.default is not None and not (
            (self.min is None or self.default >= self.min)
            and (self.max is None or self.default <= self.max)
        ):
            raise ValueError("'default' is outside 'min'..'max'")
        return self


class LocalizedNumberField(StringField):
    """Shows a parsed number the page language's way (1,5 in German), so it parses again."""

    def __init__(self, *args: Any, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = language

    def _value(self) -> str:
        if isinstance(self.data, Decimal):
            return localized_number(self.language, self.data, grouped=False)
        return super()._value()


@field_type
class NumberType(FieldType):
    name = "number"
    spec = NumberSpec

    def build(self, spec: NumberSpec, context: BuildContext) -> UnboundField:
        # The default as a person would type it, so it parses like a submitted value.
        default = None
        if spec.default is not None:
            default = localized_number(context.language, spec.default, grouped=False)
        return build_field(
            LocalizedNumberField,
            spec,
            context,
            Length(MAX_LENGTH),
            Number(context.language, spec.min, spec.max, spec.step),
            default=default,
            language=context.language,
        )

    def attributes(self, spec: NumberSpec, context: BuildContext) -> dict[str, Any]:
        # A text input, not type=number: that one ignores the page language and
        # changes its value when scrolled over.
        integral = spec.step is not None and spec.step == spec.step.to_integral_value()
        return {
            **super().attributes(spec, context),
            "inputmode": "numeric" if integral else "decimal",
            "maxlength": MAX_LENGTH,
        }

    def stored_value(self, spec: NumberSpec, value: Decimal | None) -> str | None:
        return None if value is None else format(value, "f")
