"""What a merchant may write for each field type, and the errors for what they may not."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from forms import FIELD_TYPES, AnyFieldSpec, FieldSpec
from forms.types.country import country_names
from tests.helpers.forms import field, specs


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (field("text", pattern="[a-z"), "not a valid regular expression"),
        (field("text", max_length=10001), "less than or equal to 10000"),
        (field("text", min_length=10, max_length=5), "'min_length' is larger than 'max_length'"),
        (field("text", pattern_message="Digits"), "'pattern_message' needs a 'pattern'"),
        (field("textarea", rows=0), "greater than or equal to 1"),
        (field("text", colour="red"), "Extra inputs are not permitted"),
        (field("phone", default_region="XX"), "'XX' is not a country code known for phone"),
        (field("number", min=5, max=1), "'min' is larger than 'max'"),
        (field("number", min=5, default=1), "'default' is outside 'min'..'max'"),
        (field("number", step=0), "greater than 0"),
        (field("number", max="NaN"), "finite number"),
        (field("select", choices=[]), "at least 1 item"),
        (
            field("select", choices=[{"value": "a", "label": "A"}], default="b"),
            "'default' must be one of the choice values (a), not 'b'",
        ),
        (
            field("radio", choices=[{"value": "a", "label": "A"}, {"value": "a", "label": "B"}]),
            "choice values must be unique, repeated: a",
        ),
        (field("date", min="2030-02-01", max="2030-01-01"), "'min' is later than 'max'"),
        (field("date", min="tomorrow"), "Input should be a valid date"),
        (field("country", countries=["de"]), "'de' is not an ISO 3166 country code"),
        (field("country", countries=["EU"]), "'EU' is not an ISO 3166 country code"),
        (field("country", countries=["DE"], default="AT"), "'default' AT is not in 'countries'"),
        (field("postal_code", country_field="Country"), "should match pattern"),
        (field("text", label=None), "label"),
        (field("widget"), "does not match any of the expected tags"),
    ],
)
def test_invalid_specs_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        specs(spec)


def test_type_defaults() -> None:
    text, textarea, email, hidden = specs(
        field("text"), field("textarea"), field("email"), {"name": "campaign", "type": "hidden"}
    )
    assert (text.max_length, textarea.max_length, textarea.rows) == (200, 2000, 4)
    assert (email.portal, text.portal) == ("read", "none")
    assert hidden.label is None


def test_dates_may_be_relative_to_today() -> None:
    (spec,) = specs(field("date", min="today", default="today"))
    assert (spec.min, spec.default) == ("today", "today")


def test_every_type_key_is_described_for_editors() -> None:
    shared = set(FieldSpec.model_fields) - {"type", "portal"}
    for kind in FIELD_TYPES.values():
        for name, info in kind.spec.model_fields.items():
            if name not in shared:
                assert info.description, f"{kind.name}.{name} has no description"


def test_the_json_schema_covers_every_type() -> None:
    schema = TypeAdapter(AnyFieldSpec).json_schema()
    design = "text textarea email phone number select radio checkbox date country postal_code"
    expected = {*design.split(), "vat_id", "iban", "hidden"}
    assert set(schema["discriminator"]["mapping"]) == set(FIELD_TYPES) == expected


class TestCountryNames:
    def test_are_in_the_page_language_and_sorted(self) -> None:
        names = country_names("de")
        assert names["DE"] == "Deutschland"
        codes = list(names)
        # accents do not send Österreich to the end
        assert codes.index("OM") < codes.index("AT") < codes.index("PK")

    @pytest.mark.parametrize("code", ["EU", "EZ", "UN", "QO", "XA", "XB", "ZZ", "IC", "001", "150"])
    def test_leave_out_what_is_not_a_country(self, code: str) -> None:
        assert code not in country_names("en")

    def test_keep_real_countries(self) -> None:
        names = country_names("en")
        assert {"DE", "AT", "US", "XK", "AQ"} <= names.keys()
        assert len(names) > 240
