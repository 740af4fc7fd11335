"""The built-in field types. Importing a module registers its type."""

from forms.types import (  # noqa: F401
    checkbox,
    country,
    date,
    email,
    hidden,
    iban,
    number,
    phone,
    postal_code,
    radio,
    select,
    text,
    textarea,
    vat_id,
)
