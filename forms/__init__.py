"""The low-code form engine: validated field specs in, WTForms classes and clean values out.

Nothing here knows about Portico's Flask application (``app``): callers give
field specs, a language and a gettext ``translations`` object.
"""

from forms.factory import RESERVED_NAMES, FormFactory, OrderedForm
from forms.registry import FIELD_TYPES, AnyFieldSpec, BuildContext, autocomplete_token, field_type
from forms.specs import Choice, Condition, FieldSpec
from forms.text import LocalizedText, TextKind, localize

__all__ = [
    "FIELD_TYPES",
    "RESERVED_NAMES",
    "AnyFieldSpec",
    "BuildContext",
    "Choice",
    "Condition",
    "FieldSpec",
    "FormFactory",
    "LocalizedText",
    "OrderedForm",
    "TextKind",
    "autocomplete_token",
    "field_type",
    "localize",
]
