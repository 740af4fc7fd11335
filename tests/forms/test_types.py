"""Every field type: what it accepts, how it stores it, and what it says otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from forms import FIELD_TYPES
from tests.helpers.forms import GERMAN, field, submit

TEXT = field("text", min_length=3, max_length=5)
CODE = field("text", pattern=r"[A-Z]{3}-[0-9]+")
CODE_WITH_MESSAGE = field(
    "text", pattern=r"[A-Z]{3}-[0-9]+", pattern_message={"en": "Use the form ABC-123."}
)
SEATS = field("number", min=1, max=100, step=1)
PRICE = field("number", min="0.5", step="0.25")
CHOICES = [{"value": "a", "label": "A"}, {"value": "b", "label": {"en": "B"}}]
DATE = field("date", min="2030-01-01", max="2030-12-31")
COUNTRY = field("country", name="country", countries=["DE", "AT", "NL", "AQ"])
POSTAL = field("postal_code", country_field="country")


@pytest.mark.parametrize(
    ("spec", "sent", "stored"),
    [
        (TEXT, "  abc ", "abc"),
        (TEXT, "abcde", "abcde"),
        (CODE, "ABC-12", "ABC-12"),
        (field("textarea"), "line 1\r\nline 2", "line 1\r\nline 2"),
        (field("email"), " Name@Example.COM ", "Name@example.com"),
        (field("phone"), "030 1234567", "+49301234567"),
        (field("phone"), "+44 20 7946 0958", "+442079460958"),
        (field("phone", default_region="AT"), "0664 1234567", "+436641234567"),
        (field("number"), "1.5", "1.5"),
        (field("number"), "1,500", "1500"),
        (field("number"), "-2", "-2"),
        (SEATS, "100", "100"),
        (PRICE, "0.75", "0.75"),
        (field("select", choices=CHOICES), "b", "b"),
        (field("radio", choices=CHOICES), "a", "a"),
        (field("checkbox"), "y", True),
        (DATE, "2030-01-31", "2030-01-31"),
        (field("country"), "FR", "FR"),
        (field("postal_code"), "10115", "10115"),
        (field("vat_id"), "de 136 695 976", "DE136695976"),
        (field("vat_id"), "GR094014201", "EL094014201"),
        (field("iban"), "de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        (field("hidden"), "spring-sale", "spring-sale"),
    ],
)
def test_valid_input_is_stored_clean(spec: dict[str, Any], sent: str, stored: Any) -> None:
    form = submit([spec], {"answer": sent})
    assert form.errors == {}
    assert form.values() == {"answer": stored}


@pytest.mark.parametrize(
    ("spec", "sent", "message"),
    [
        (TEXT, "ab", "Enter at least 3 characters."),
        (field("text", min_length=1, max_length=1), "ab", "Enter at most 1 character."),
        (TEXT, "abcdef", "Enter at most 5 characters."),
        (field("text"), "x" * 201, "Enter at most 200 characters."),
        (field("textarea"), "x" * 2001, "Enter at most 2000 characters."),
        (CODE, "abc-12", "Enter a value in the format asked for."),
        (CODE_WITH_MESSAGE, "ABC-12 and more", "Use the form ABC-123."),
        (field("email"), "name.example.com", "Enter a valid email address, like name@example.com."),
        (field("email"), "name@localhost", "Enter a valid email address, like name@example.com."),
        (field("email"), "a@" + "b" * 250 + ".de", "Enter at most 254 characters."),
        (field("phone"), "12", "Enter a valid phone number, like +49 30 123456."),
        (field("phone"), "call me", "Enter a valid phone number, like +49 30 123456."),
        (field("number"), "twelve", "Enter a number, like 12.5."),
        (field("number"), "1e3", "Enter a number, like 12.5."),
        (field("number"), "NaN", "Enter a number, like 12.5."),
        (field("number"), "1.2.3", "Enter a number, like 12.5."),
        (SEATS, "0", "Enter a number of at least 1."),
        (SEATS, "1000", "Enter a number of at most 100."),
        (SEATS, "1.5", "Enter a whole number."),
        (PRICE, "0.6", "Enter a number like 0.5 or 0.75."),
        (field("select", choices=CHOICES), "c", "Choose one of the options offered."),
        (field("radio", choices=CHOICES), "A", "Choose one of the options offered."),
        (DATE, "31.01.2030", None),  # the example is today's date, checked below
        (DATE, "2029-12-31", "Enter a date on or after January 1, 2030."),
        (DATE, "2031-01-01", "Enter a date on or before December 31, 2030."),
        (field("country"), "EU", "Choose one of the options offered."),
        (field("country", countries=["DE", "AT"]), "FR", "Choose one of the options offered."),
        (field("postal_code"), "1011", "Enter a valid postal code for Germany, like 26133."),
        (
            field("vat_id"),
            "DE136695977",
            "Enter a valid EU VAT ID with its country code, like DE136695976.",
        ),
        (
            field("iban"),
            "DE89370400440532013001",
            "Enter a valid IBAN, like DE89 3704 0044 0532 0130 00.",
        ),
        (field("hidden"), "x" * 201, "Enter at most 200 characters."),
    ],
)
def test_invalid_input_says_what_to_do(
    spec: dict[str, Any], sent: str, message: str | None
) -> None:
    form = submit([spec], {"answer": sent})
    assert form.errors.keys() == {"answer"}
    if message is not None:
        assert form.errors["answer"] == [message]


def test_a_date_that_is_no_date_gets_an_example() -> None:
    form = submit([DATE], {"answer": "2030-02-30"})
    [message] = form.errors["answer"]
    assert message.startswith("Enter a valid date, like 20")


@pytest.mark.parametrize(
    ("country", "sent", "stored"),
    [
        ("NL", " 1234   ab ", "1234 AB"),
        ("NL", "1234ab", "1234AB"),
        ("AT", "1010", "1010"),
        ("AQ", "anything 1", "ANYTHING 1"),  # no known format: any code
        ("", "10115", "10115"),  # no country chosen: the merchant's (DE)
    ],
)
def test_postal_code_follows_the_chosen_country(country: str, sent: str, stored: str) -> None:
    form = submit([COUNTRY, POSTAL], {"country": country, "answer": sent})
    assert form.errors == {}
    assert form.values()["answer"] == stored


def test_postal_code_message_names_the_chosen_country() -> None:
    form = submit([COUNTRY, POSTAL], {"country": "NL", "answer": "10115"}, context=GERMAN)
    assert form.errors == {"answer": ["Enter a valid postal code for Niederlande, like 1234 AB."]}


def test_an_unticked_checkbox_is_stored_as_false() -> None:
    form = submit([field("checkbox", default=True)], {})
    assert form.errors == {}
    assert form.values() == {"answer": False}


def test_a_hidden_field_keeps_its_default_when_not_sent() -> None:
    form = submit([field("hidden", default="c1"), field("text", name="other")], {"other": "x"})
    assert form.values() == {"answer": "c1", "other": "x"}


@pytest.mark.parametrize(
    ("spec", "rendered"),
    [
        (field("number", default="1500.5"), "1500,5"),
        (field("number", default=0), "0"),
        (field("date", default="2030-01-02"), "2030-01-02"),
        (field("text", default="Hallo"), "Hallo"),
    ],
)
def test_defaults_are_shown_and_accepted_unchanged(spec: dict[str, Any], rendered: str) -> None:
    blank = submit([spec], {"answer": rendered}, context=GERMAN)
    assert blank.errors == {}
    form_class = type(blank)
    assert form_class().answer._value() == rendered


class TestIban:
    SENT = "DE89 3704 0044 0532 0130 00"

    def test_is_never_rendered_back(self) -> None:
        form = submit(
            [field("iban"), field("text", name="other", min_length=5)],
            {
                "answer": self.SENT,
                "other": "x",
            },
        )
        assert "answer" not in form.errors
        assert form.answer._value() == ""
        html = str(form.answer())
        assert "DE89" not in html and "3704" not in html

    def test_is_not_rendered_back_when_invalid_either(self) -> None:
        form = submit([field("iban")], {"answer": "DE89 3704 0044 0532 0130 01"})
        assert form.errors
        assert "3704" not in str(form.answer())

    def test_tells_themes_not_to_echo(self) -> None:
        iban = FIELD_TYPES["iban"]
        assert iban.echo_value is False
        assert iban.personal_data is True
        assert all(kind.echo_value for name, kind in FIELD_TYPES.items() if name != "iban")

    @pytest.mark.parametrize(
        ("value", "shown"),
        [
            ("DE89370400440532013000", "DE89 **** **** **** **30 00"),
            ("nl91 abna 0417 1643 00", "NL91 **** **** **43 00"),
            ("DE1234", "**** **"),
            (None, ""),
        ],
    )
    def test_masked(self, value: str | None, shown: str) -> None:
        assert FIELD_TYPES["iban"].masked(value) == shown
