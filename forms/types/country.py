"""``country``: a country from a list named in the page language, stored as its ISO code."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField

from forms.registry import BuildContext, FieldType, field_type
from forms.specs import FieldSpec
from forms.types.select import choice_field
from forms.validators import babel_locale

# Territory codes in CLDR that are not countries one lives in: the EU and
# eurozone, the UN, "outlying Oceania", pseudo-locales, "unknown", and the
# ISO "exceptionally reserved" codes (Ascension, Clipperton, Diego Garcia,
# Ceuta and Melilla, Canary Islands, Tristan da Cunha).
NOT_COUNTRIES = frozenset(
    {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
)


def _sort_key(name: str) -> str:
    """Accents ignored, so Österreich sorts with the O's (no ICU needed)."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@lru_cache(maxsize=32)
def country_names(language: str) -> Mapping[str, str]:
    """ISO code → country name in ``language``, sorted by name."""
    territories = babel_locale(language).territories
    names = {
        code: name
        for code, name in territories.items()
        if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES
    }
    return MappingProxyType(dict(sorted(names.items(), key=lambda item: _sort_key(item[1]))))


def _known_country(code: str) -> str:
    if code not in country_names("en"):
        raise ValueError(f"{code!r} is not an ISO 3166 country code (upper case, like DE)")
    return code


CountryCode = Annotated[
    str,
    AfterValidator(_known_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"}),
]


class CountrySpec(FieldSpec):
    type: Literal["country"] = Field(description="A country, chosen from a list.")
    countries: tuple[CountryCode, ...] | None = Field(
        None, min_length=1, description="Offer only these countries (ISO codes like DE, AT)."
    )
    default: CountryCode | None = Field(None, description="The country chosen at first.")

    @model_validator(mode="after")
    def _offered_default(self) -> CountrySpec:
        if self.countries and self.default is not None and self.default not in self.countries:
            raise ValueError(f"'default' {self.default} is not in 'countries'")
        return self


@field_type
class CountryType(FieldType):
    name = "country"
    spec = CountrySpec
    widget = "select"
    autocomplete = "country"

    def build(self, spec: CountrySpec, context: BuildContext) -> UnboundField:
        names = country_names(context.language)
        offered = set(spec.countries or names)
        options = [SelectChoice(code, name) for code, name in names.items() if code in offered]
        return choice_field(SelectField, spec, context, options, prompt=spec.default is None)
