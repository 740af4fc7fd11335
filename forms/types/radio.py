"""``radio``: one option from a short list, all shown at once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from wtforms import RadioField

from forms.registry import field_type
from forms.types._base import ChoicesSpec
from forms.types.select import SelectType


class RadioSpec(ChoicesSpec):
    type: Literal["radio"] = Field(description="One option from a short list, all shown.")


@field_type
class RadioType(SelectType):
    name = "radio"
    spec = RadioSpec
    widget = "radio"
    field_class = RadioField
    prompt = False
