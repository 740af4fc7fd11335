"""``email``: an email address, stored with its domain in lower case."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, field_type
from forms.specs import FieldSpec, PortalAccess
from forms.types._base import LineType, build_field
from forms.validators import EmailAddress, Length


class EmailSpec(FieldSpec):
    type: Literal["email"] = Field(description="An email address.")
    default: str | None = Field(None, description="The address the field starts with.")
    portal: PortalAccess = Field(
        "read", description="What the self-service portal may do with this field."
    )


@field_type
class EmailType(LineType):
    name = "email"
    spec = EmailSpec
    input_type = "email"
    autocomplete = "email"
    max_length = 254  # the longest address SMTP delivers to

    def build(self, spec: EmailSpec, context: BuildContext) -> UnboundField:
        return build_field(
            StringField,
            spec,
            context,
            Length(self.max_length),
            EmailAddress(),
            default=spec.default,
        )
