"""``textarea``: several lines of free text."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field
from wtforms import TextAreaField

from forms.registry import BuildContext, field_type
from forms.types._base import MaxLength, StringSpec
from forms.types.text import TextType


class TextareaSpec(StringSpec):
    type: Literal["textarea"] = Field(description="Several lines of text.")
    max_length: MaxLength = 2000
    rows: int = Field(4, ge=1, le=30, description="The visible height in lines.")


@field_type
class TextareaType(TextType):
    name = "textarea"
    spec = TextareaSpec
    widget = "textarea"
    field_class = TextAreaField

    def attributes(self, spec: TextareaSpec, context: BuildContext) -> dict[str, Any]:
        return {**super().attributes(spec, context), "rows": spec.rows}
