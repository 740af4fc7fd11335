"""``phone``: a telephone number, stored in E.164 (``+4930123456``)."""

from __future__ import annotations

from typing import Literal

import phonenumbers
from pydantic import Field, field_validator
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, field_type
from forms.specs import FieldSpec
from forms.types._base import LineType, build_field
from forms.validators import Length, PhoneNumber


class PhoneSpec(FieldSpec):
    type: Literal["phone"] = Field(description="A telephone number.")
    default: str | None = Field(None, description="The number the field starts with.")
    default_region: str | None = Field(
        None,
        description="The country (ISO code, e.g. DE) of numbers typed without a country code;"
        " the merchant's country if not given.",
    )

    @field_validator("default_region")
    @classmethod
    def _known_region(cls, region: str | None) -> str | None:
        if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{region!r} is not a country code known for phone numbers")
        return region


@field_type
class PhoneType(LineType):
    name = "phone"
    spec = PhoneSpec
    input_type = "tel"
    autocomplete = "tel"
    max_length = 40

    def build(self, spec: PhoneSpec, context: BuildContext) -> UnboundField:
        region = spec.default_region or context.default_country
        return build_field(
            StringField,
            spec,
            context,
            Length(self.max_length),
            PhoneNumber(region),
            default=spec.default,
        )
