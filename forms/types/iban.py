"""``iban``: a bank account for SEPA, stored compact and never shown back in clear."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from stdnum import iban
from wtforms import StringField
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, field_type
from forms.specs import FieldSpec
from forms.types._base import LineType, build_field
from forms.validators import Iban, Length


def masked(value: str | None) -> str:
    """The IBAN with all but its first and last four characters hidden,
    grouped in fours: ``DE89 **** **** **** **30 00``."""
    code = iban.compact(value or "")
    shown = 4 if len(code) > 8 else 0  # a short value is hidden whole
    hidden = code[:shown] + "*" * (len(code) - 2 * shown) + code[len(code) - shown :]
    return " ".join(hidden[start : start + 4] for start in range(0, len(hidden), 4))


class IbanField(StringField):
    """Renders an empty value whatever was sent: a failed post must not echo the IBAN."""

    def _value(self) -> str:
        return ""


class IbanSpec(FieldSpec):
    type: Literal["iban"] = Field(description="An IBAN, for SEPA direct debit.")


@field_type
class IbanType(LineType):
    name = "iban"
    spec = IbanSpec
    autocomplete = "off"
    echo_value = False
    max_length = 50  # 34 characters and the spaces people put between groups

    def build(self, spec: IbanSpec, context: BuildContext) -> UnboundField:
        return build_field(IbanField, spec, context, Length(self.max_length), Iban())

    def masked(self, value: str | None) -> str:
        """What a theme may show instead of the value, e.g. "You entered DE89 …"."""
        return masked(value)
