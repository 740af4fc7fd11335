"""HTML ``autocomplete`` tokens for well-known field names.

Used when neither the spec nor its type names a token, so a merchant's
``first_name`` field is filled in by the browser without saying so in YAML.
"""

NAME_TOKENS: dict[str, str] = {
    "name": "name",
    "full_name": "name",
    "first_name": "given-name",
    "given_name": "given-name",
    "middle_name": "additional-name",
    "last_name": "family-name",
    "family_name": "family-name",
    "surname": "family-name",
    "nickname": "nickname",
    "company": "organization",
    "organization": "organization",
    "organisation": "organization",
    "job_title": "organization-title",
    "street": "address-line1",
    "address": "address-line1",
    "address_line1": "address-line1",
    "address_line2": "address-line2",
    "address_line3": "address-line3",
    "city": "address-level2",
    "town": "address-level2",
    "region": "address-level1",
    "state": "address-level1",
    "province": "address-level1",
    "zip": "postal-code",
    "birthday": "bday",
    "birth_date": "bday",
    "date_of_birth": "bday",
    "website": "url",
    "username": "username",
}
