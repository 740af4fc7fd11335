"""Forms built from YAML-like field dicts, as a merchant writes them, and posted."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from werkzeug.datastructures import MultiDict

from forms import AnyFieldSpec, BuildContext, FieldSpec, OrderedForm
from forms.factory import build_form_class

SPECS = TypeAdapter(list[AnyFieldSpec])
ENGLISH = BuildContext("en", "en", "DE")
GERMAN = BuildContext("de", "de", "DE")


def specs(*fields: dict[str, Any]) -> list[FieldSpec]:
    return SPECS.validate_python(list(fields))


def field(type: str, name: str = "answer", **keys: Any) -> dict[str, Any]:
    """One field as a merchant writes it in YAML."""
    return {"name": name, "type": type, "label": name.capitalize(), **keys}


def submit(
    fields: list[dict[str, Any]],
    data: dict[str, str],
    context: BuildContext = ENGLISH,
    translations: Any = None,
) -> OrderedForm:
    """The form for ``fields`` posted with ``data``, validated."""
    form_class = build_form_class(specs(*fields), context)
    meta = {"translations": translations} if translations is not None else None
    form = form_class(MultiDict(data), meta=meta)
    form.validate()
    return form
