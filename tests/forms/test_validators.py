"""Visibility and requirement, number parsing, and translated messages."""

from __future__ import annotations

import re
from decimal import Decimal
from gettext import NullTranslations
from typing import Any

import pytest

from forms.validators import parse_number
from tests.helpers.forms import GERMAN, field, submit

CUSTOMER_TYPE = field(
    "radio",
    name="customer_type",
    choices=[{"value": "private", "label": "Private"}, {"value": "business", "label": "Business"}],
    default="private",
)
BUSINESS = {"field": "customer_type", "equals": "business"}
COMPANY = field("text", name="company", visible_if=BUSINESS, required_if=BUSINESS)
VAT_ID = field("vat_id", name="vat_id", visible_if=BUSINESS)


class TestPresence:
    def test_a_required_field_must_be_filled(self) -> None:
        form = submit([field("text", required=True)], {"answer": "   "})
        assert form.errors == {"answer": ["This field is required."]}

    def test_a_required_checkbox_must_be_ticked(self) -> None:
        form = submit([field("checkbox", required=True)], {})
        assert form.errors == {"answer": ["Please tick this box to continue."]}

    def test_a_required_select_must_be_chosen(self) -> None:
        choices = [{"value": "a", "label": "A"}]
        form = submit([field("select", choices=choices, required=True)], {"answer": ""})
        assert form.errors == {"answer": ["This field is required."]}

    def test_an_empty_optional_field_is_neither_checked_nor_stored(self) -> None:
        form = submit([field("email"), field("number", name="seats")], {"answer": "", "seats": ""})
        assert form.errors == {}
        assert form.values() == {}

    def test_a_hidden_field_is_neither_required_nor_stored(self) -> None:
        form = submit(
            [CUSTOMER_TYPE, COMPANY, VAT_ID],
            {"customer_type": "private", "company": "ACME", "vat_id": "not a VAT ID"},
        )
        assert form.errors == {}
        assert form.values() == {"customer_type": "private"}
        assert form.visible_names() == ["customer_type"]

    def test_required_if_requires_a_shown_field(self) -> None:
        form = submit([CUSTOMER_TYPE, COMPANY, VAT_ID], {"customer_type": "business"})
        assert form.errors == {"company": ["This field is required."]}

    def test_a_shown_field_is_checked_and_stored(self) -> None:
        form = submit(
            [CUSTOMER_TYPE, COMPANY, VAT_ID],
            {"customer_type": "business", "company": " ACME ", "vat_id": "DE 136695976"},
        )
        assert form.errors == {}
        assert form.values() == {
            "customer_type": "business",
            "company": "ACME",
            "vat_id": "DE136695976",
        }

    @pytest.mark.parametrize(
        ("sent", "errors"),
        [
            ({"country": "AT"}, {"answer": ["This field is required."]}),
            ({"country": "CH"}, {"answer": ["This field is required."]}),
            ({"country": "DE"}, {}),
        ],
    )
    def test_required_if_in(self, sent: dict[str, str], errors: dict[str, Any]) -> None:
        fields = [
            field("country", name="country"),
            field("text", required_if={"field": "country", "in": ["AT", "CH"]}),
        ]
        assert submit(fields, sent).errors == errors

    def test_a_field_depending_on_a_hidden_field_is_hidden(self) -> None:
        ticked = {"field": "more", "equals": True}
        fields = [
            CUSTOMER_TYPE,
            field("checkbox", name="more", visible_if=BUSINESS),
            field("text", name="details", visible_if=ticked, required=True),
        ]
        # `more` is sent ticked, but hidden: `details` counts it as empty.
        form = submit(fields, {"customer_type": "private", "more": "y"})
        assert form.errors == {}
        assert form.visible_names() == ["customer_type"]
        assert form.values() == {"customer_type": "private"}

        form = submit(fields, {"customer_type": "business", "more": "y"})
        assert form.visible_names() == ["customer_type", "more", "details"]
        assert form.errors == {"details": ["This field is required."]}

    def test_visibility_follows_the_defaults_before_a_post(self) -> None:
        form_class = type(submit([CUSTOMER_TYPE, COMPANY], {}))
        assert form_class().visible_names() == ["customer_type"]


@pytest.mark.parametrize(
    ("language", "text", "number"),
    [
        ("en", "1.5", Decimal("1.5")),
        ("en", "1,500", Decimal("1500")),
        ("en", "1,500.25", Decimal("1500.25")),
        ("en", "-3", Decimal("-3")),
        ("en", "1,5", None),
        ("de", "1,5", Decimal("1.5")),
        ("de", "1.500", Decimal("1500")),  # the German way wins
        ("de", "1.500,5", Decimal("1500.5")),
        ("de", "1.5", Decimal("1.5")),  # what a browser's number input sends
        ("sv", "1,5", Decimal("1.5")),
        ("sv", "1 500,5", Decimal("1500.5")),  # a plain space for Swedish grouping
        ("pt-BR", "1.500,5", Decimal("1500.5")),
        ("en", "1e3", None),
        ("en", "Infinity", None),
        ("en", "12 apples", None),
        ("de", "1,2,3", None),
    ],
)
def test_parse_number(language: str, text: str, number: Decimal | None) -> None:
    assert parse_number(text, language) == number


def test_a_german_number_is_shown_back_the_german_way() -> None:
    form = submit(
        [field("number"), field("text", name="other", required=True)],
        {"answer": "1.500,5"},
        context=GERMAN,
    )
    assert form.values()["answer"] == "1500.5"
    assert form.answer._value() == "1500,5"
    assert form.errors == {"other": ["This field is required."]}


class Shouting(NullTranslations):
    """A catalog translating every message into upper case, placeholders kept."""

    def gettext(self, message: str) -> str:
        parts = re.split(r"(%\(\w+\)[sd])", message)
        return "".join(part if part.startswith("%(") else part.upper() for part in parts)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


@pytest.mark.parametrize(
    ("spec", "sent", "message"),
    [
        (field("text", required=True), "", "THIS FIELD IS REQUIRED."),
        (field("text", max_length=2), "abc", "ENTER AT MOST 2 CHARACTERS."),
        (field("email"), "nope", "ENTER A VALID EMAIL ADDRESS, LIKE NAME@EXAMPLE.COM."),
        # placeholders are filled after translating
        (field("number", min=10), "9", "ENTER A NUMBER OF AT LEAST 10."),
        # a merchant's message is theirs, used as written
        (field("text", pattern="[0-9]+", pattern_message="Digits only."), "a", "Digits only."),
    ],
)
def test_messages_go_through_the_translations(
    spec: dict[str, Any], sent: str, message: str
) -> None:
    form = submit([spec], {"answer": sent}, translations=Shouting())
    assert form.errors == {"answer": [message]}


def test_the_select_prompt_is_translated() -> None:
    choices = [{"value": "a", "label": "A"}]
    form = submit([field("select", choices=choices)], {}, translations=Shouting())
    assert [choice.label for choice in form.answer.choices] == ["PLEASE CHOOSE…", "A"]


def test_a_select_with_a_default_has_no_prompt() -> None:
    choices = [{"value": "a", "label": "A"}]
    form = submit([field("select", choices=choices, default="a")], {})
    assert [choice.value for choice in form.answer.choices] == ["a"]
