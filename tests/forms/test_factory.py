"""Form classes: built in YAML order, cached per key and context, names checked."""

from __future__ import annotations

import pytest

from forms import RESERVED_NAMES, BuildContext, FormFactory
from forms.factory import build_form_class
from tests.helpers.forms import ENGLISH, GERMAN, field, specs, submit

FIELDS = specs(
    field("text", name="zeta"),
    field("email", name="email"),
    field("checkbox", name="alpha"),
)


def test_fields_follow_the_yaml_order() -> None:
    form = build_form_class(FIELDS, ENGLISH)()
    assert [f.name for f in form] == ["zeta", "email", "alpha"]


def test_labels_and_help_are_localized_when_built() -> None:
    fields = specs(
        field("text", label={"de": "Firma", "en": "Company"}, help={"en": "As registered."}),
    )
    german = build_form_class(fields, GERMAN)()
    english = build_form_class(fields, ENGLISH)()
    assert (german.answer.label.text, german.answer.description) == ("Firma", "As registered.")
    assert (english.answer.label.text, english.answer.description) == ("Company", "As registered.")


class TestFormFactory:
    def test_caches_per_key_and_context(self) -> None:
        factory = FormFactory()
        form_class = factory.form_class("acme@1", FIELDS, ENGLISH)
        assert factory.form_class("acme@1", FIELDS, ENGLISH) is form_class
        assert factory.form_class("acme@1", FIELDS, GERMAN) is not form_class
        assert factory.form_class("acme@2", FIELDS, ENGLISH) is not form_class
        assert factory.form_class("acme@1", FIELDS, BuildContext("en", "en", "DE")) is form_class

    def test_drops_the_least_recently_used(self) -> None:
        factory = FormFactory(max_classes=2)
        first = factory.form_class("a", FIELDS, ENGLISH)
        factory.form_class("b", FIELDS, ENGLISH)
        assert factory.form_class("a", FIELDS, ENGLISH) is first  # "a" is now the newest
        factory.form_class("c", FIELDS, ENGLISH)  # drops "b"
        assert factory.form_class("a", FIELDS, ENGLISH) is first
        assert len(factory._classes) == 2


@pytest.mark.parametrize(
    "name",
    [
        "data",
        "errors",
        "form_errors",
        "meta",
        "validate",
        "process",
        "populate_obj",
        "specs",
        "context",
        "values",
        "attributes",
        "visible_names",
    ],
)
def test_reserved_names(name: str) -> None:
    assert name in RESERVED_NAMES
    with pytest.raises(ValueError, match=f"field name '{name}' is reserved by the form"):
        build_form_class(specs(field("text", name=name)), ENGLISH)


def test_reserved_names_are_all_form_attributes() -> None:
    form = build_form_class(FIELDS, ENGLISH)()
    assert all(hasattr(form, name) for name in RESERVED_NAMES)
    assert not {"email", "name", "company", "plan"} & RESERVED_NAMES


def test_a_name_used_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="field name 'email' is used twice"):
        build_form_class(specs(field("email", name="email"), field("text", name="email")), ENGLISH)


@pytest.mark.parametrize(
    ("spec", "attributes"),
    [
        (
            field("text", name="first_name", required=True, placeholder={"en": "Ada"}),
            {
                "type": "text",
                "required": True,
                "placeholder": "Ada",
                "autocomplete": "given-name",
                "maxlength": 200,
            },
        ),
        (
            field("text", name="company", min_length=2, autocomplete="off"),
            {"type": "text", "autocomplete": "off", "maxlength": 200, "minlength": 2},
        ),
        (field("textarea", rows=6), {"maxlength": 2000, "rows": 6}),
        (field("email"), {"type": "email", "autocomplete": "email", "maxlength": 254}),
        (field("phone"), {"type": "tel", "autocomplete": "tel", "maxlength": 40}),
        (field("number", step="0.5"), {"type": "text", "inputmode": "decimal", "maxlength": 40}),
        (field("number", step=1), {"type": "text", "inputmode": "numeric", "maxlength": 40}),
        (
            field("date", min="2030-01-01", max="2030-12-31"),
            {"type": "date", "min": "2030-01-01", "max": "2030-12-31"},
        ),
        (field("country", name="city"), {"autocomplete": "country"}),
        (field("select", name="city", choices=[{"value": "a", "label": "A"}]), {}),
        (field("checkbox", required=True), {"required": True}),
        (field("postal_code"), {"type": "text", "autocomplete": "postal-code", "maxlength": 20}),
        (field("vat_id"), {"type": "text", "autocomplete": "off", "maxlength": 32}),
        (field("iban"), {"type": "text", "autocomplete": "off", "maxlength": 50}),
        (field("hidden", name="city", required=True), {}),
        # a browser would refuse to send a form whose hidden input is required
        (
            field("text", name="city", required=True, visible_if={"field": "x", "equals": "y"}),
            {"type": "text", "autocomplete": "address-level2", "maxlength": 200},
        ),
    ],
)
def test_attributes(spec: dict, attributes: dict) -> None:
    form = build_form_class(specs(spec), ENGLISH)()
    assert form.attributes(spec["name"]) == attributes


def test_date_bounds_of_today_are_evaluated_when_shown() -> None:
    from forms.validators import today

    form = build_form_class(specs(field("date", min="today")), ENGLISH)()
    assert form.attributes("answer")["min"] == today("UTC").isoformat()


def test_condition_data_for_the_page_script() -> None:
    form = submit(
        [
            field("checkbox", name="more"),
            field(
                "text",
                visible_if={"field": "more", "equals": True},
                required_if={"field": "more", "in": [True]},
            ),
        ],
        {},
    )
    assert form.condition_data("more") is None
    assert form.condition_data("answer") == {"field": "more", "values": ["true"]}
    assert form.condition_data("answer", "required_if") == {"field": "more", "values": ["true"]}


def test_field_type_and_spec_by_name() -> None:
    form = build_form_class(FIELDS, ENGLISH)()
    assert form.field_type("email").name == "email"
    assert form.spec("zeta").type == "text"
