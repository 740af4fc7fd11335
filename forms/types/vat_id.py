"""``vat_id``: an EU VAT ID, checksum only (no VIES lookup), stored compact."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, field_type
from forms.specs import FieldSpec
from forms.types._base import LineType, build_field
from forms.validators import Length, VatId


class VatIdSpec(FieldSpec):
    type: Literal["vat_id"] = Field(description="An EU VAT ID, like DE136695976.")
    default: str | None = Field(None, description="The VAT ID the field starts with.")


@field_type
class VatIdType(LineType):
    name = "vat_id"
    spec = VatIdSpec
    autocomplete = "off"
    max_length = 32

    def build(self, spec: VatIdSpec, context: BuildContext) -> UnboundField:
        return build_field(
            StringField, spec, context, Length(self.max_length), VatId(), default=spec.default
        )
