"""What several field types share: the field builder and the spec bases."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator, model_validator
from wtforms import Field as WTField
from wtforms.fields.core import UnboundField

from forms.patterns import PatternError, compile_pattern
from forms.registry import BuildContext, FieldType
from forms.specs import Choice, FieldSpec
from forms.text import LocalizedText, localize
from forms.validators import Presence, strip

MaxLength = Annotated[
    int, Field(ge=1, le=10000, description="The most characters accepted (at most 10000).")
]


def build_field(
    field_class: type[WTField],
    spec: FieldSpec,
    context: BuildContext,
    *validators: Any,
    **kwargs: Any,
) -> UnboundField:
    """A WTForms field for ``spec``: label and help localized, whitespace stripped,
    :class:`~forms.validators.Presence` first in the chain."""
    return field_class(
        label=localize(spec.label, context.language, context.default_language),
        description=localize(spec.help, context.language, context.default_language),
        validators=[Presence(spec), *validators],
        filters=[strip],
        **kwargs,
    )


class StringSpec(FieldSpec):
    """The keys of free-text fields (``text``, ``textarea``)."""

    default: str | None = Field(None, description="The text the field starts with.")
    min_length: int | None = Field(None, ge=1, description="The fewest characters accepted.")
    max_length: MaxLength = 200
    pattern: str | None = Field(
        None,
        description="A regular expression the whole value must match (RE2 syntax, run in "
        "linear time: no backreferences or lookaround; \\d and \\w are ASCII, \\p{L} is any "
        "letter).",
    )
    pattern_message: LocalizedText | None = Field(
        None, description="The error shown when the value does not match `pattern`."
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                compile_pattern(pattern)  # RE2: what it cannot run in linear time is refused
            except PatternError as error:
                raise ValueError(str(error)) from None
        return pattern

    @model_validator(mode="after")
    def _consistent(self) -> StringSpec:
        if self.min_length is not None and self.min_length > self.max_length:
            raise ValueError("'min_length' is larger than 'max_length'")
        if self.pattern_message is not None and self.pattern is None:
            raise ValueError("'pattern_message' needs a 'pattern'")
        return self


class ChoicesSpec(FieldSpec):
    """The keys of fields offering a fixed list (``select``, ``radio``)."""

    choices: tuple[Choice, ...] = Field(
        min_length=1, description="The options, in the order shown."
    )
    default: str | None = Field(None, description="The value chosen at first.")

    @model_validator(mode="after")
    def _known_default(self) -> ChoicesSpec:
        values = [choice.value for choice in self.choices]
        duplicates = sorted({value for value in values if values.count(value) > 1})
        if duplicates:
            raise ValueError(f"choice values must be unique, repeated: {', '.join(duplicates)}")
        if self.default is not None and self.default not in values:
            raise ValueError(
                f"'default' must be one of the choice values ({', '.join(values)}),"
                f" not {self.default!r}"
            )
        return self


class LineType(FieldType):
    """One line of text that a validator understands, capped at ``max_length``."""

    max_length: ClassVar[int]

    def attributes(self, spec: FieldSpec, context: BuildContext) -> dict[str, Any]:
        return {**super().attributes(spec, context), "maxlength": self.max_length}
