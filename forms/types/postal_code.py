"""``postal_code``: checked against the format of the chosen country."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, field_type
from forms.specs import FieldName, FieldSpec
from forms.types._base import LineType, build_field
from forms.types.country import country_names
from forms.validators import Length, PostalCode


class PostalCodeSpec(FieldSpec):
    type: Literal["postal_code"] = Field(description="A postal code.")
    default: str | None = Field(None, description="The code the field starts with.")
    country_field: FieldName | None = Field(
        None,
        description="An earlier `country` field whose country's format applies;"
        " without it, the merchant's country.",
    )


@field_type
class PostalCodeType(LineType):
    name = "postal_code"
    spec = PostalCodeSpec
    autocomplete = "postal-code"
    max_length = 20

    def build(self, spec: PostalCodeSpec, context: BuildContext) -> UnboundField:
        check = PostalCode(
            spec.country_field, context.default_country, country_names(context.language)
        )
        return build_field(
            StringField, spec, context, Length(self.max_length), check, default=spec.default
        )
