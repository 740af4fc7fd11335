"""What a merchant may say about one field: the shared keys of every field type.

Each field type (``forms/types/<type>.py``) subclasses :class:`FieldSpec`, fixes
``type`` to its name and adds the constraints that fit it. Specs are immutable
pydantic models; unknown keys are refused so a typo never passes silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from forms.text import LocalizedText

FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
PortalAccess = Literal["edit", "read", "none"]
ConditionValue = str | bool | int


class Spec(BaseModel):
    """Base of every merchant-facing model: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def condition_key(value: object) -> str:
    """One spelling for a submitted or declared value, so `true`, "true" and True agree."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Condition(Spec):
    """``{field: customer_type, equals: business}`` or ``{field: country, in: [DE, AT]}``."""

    field: FieldName = Field(description="The name of an earlier field this condition looks at.")
    equals: ConditionValue | None = Field(None, description="The value that makes it true.")
    in_: tuple[ConditionValue, ...] | None = Field(
        None, alias="in", description="Any of these values makes it true."
    )

    @model_validator(mode="after")
    def _one_test(self) -> Condition:
        if (self.equals is None) == (self.in_ is None):
            raise ValueError("give exactly one of 'equals' or 'in'")
        return self

    @property
    def values(self) -> tuple[str, ...]:
        """The declared values, spelt as :func:`condition_key` spells them."""
        raw = (self.equals,) if self.in_ is None else self.in_
        return tuple(condition_key(value) for value in raw)

    def matches(self, values: Mapping[str, object]) -> bool:
        return condition_key(values.get(self.field)) in self.values


class Choice(Spec):
    value: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="What is submitted and stored when this option is chosen (1-100 characters)."
    )
    label: LocalizedText = Field(description="The option's text as shown; plain text.")


class FieldSpec(Spec):
    """The keys every field has. ``type`` picks the subclass."""

    name: FieldName = Field(description="The input's name in the form and in stored data.")
    type: str
    label: LocalizedText = Field(description="Plain text, escaped when shown.")
    help: LocalizedText | None = Field(None, description="A hint shown under the field.")
    placeholder: LocalizedText | None = Field(
        None,
        description="A hint shown inside the empty input of fields one types into; select, "
        "radio, checkbox, country and hidden fields ignore it.",
    )
    required: bool = Field(
        False,
        description="true: the form is only sent with this field filled in (a checkbox: "
        "ticked); while visible_if hides the field, it is not required.",
    )
    visible_if: Condition | None = Field(
        None, description="Show (and store) the field only when this holds."
    )
    required_if: Condition | None = Field(None, description="Require the field when this holds.")
    portal: PortalAccess = Field(
        "none", description="What the self-service portal may do with this field."
    )
    autocomplete: str | None = Field(
        None, description="An HTML autocomplete token, overriding the type's default."
    )
    section: LocalizedText | None = Field(
        None, description="Starts a new group of fields with this heading before this field."
    )
