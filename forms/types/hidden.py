"""``hidden``: a value carried along unseen, e.g. a campaign id prefilled from a link."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from wtforms import HiddenField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, FieldType, field_type
from forms.specs import FieldSpec
from forms.text import LocalizedText
from forms.types._base import build_field
from forms.validators import Length

MAX_LENGTH = 200


class HiddenSpec(FieldSpec):
    type: Literal["hidden"] = Field(description="A value sent along but not shown.")
    label: LocalizedText | None = Field(None, description="A name for exports; never shown.")
    default: str | None = Field(
        None,
        max_length=MAX_LENGTH,  # longer, every sign-up would fail on a field nobody sees
        description="The value sent unless the page sets another.",
    )


@field_type
class HiddenType(FieldType):
    name = "hidden"
    spec = HiddenSpec
    widget = "hidden"
    personal_data = False

    def build(self, spec: HiddenSpec, context: BuildContext) -> UnboundField:
        return build_field(HiddenField, spec, context, Length(MAX_LENGTH), default=spec.default)

    def attributes(self, spec: HiddenSpec, context: BuildContext) -> dict[str, Any]:
        return {}  # nothing a person sees or types: no placeholder, autocomplete or limits
