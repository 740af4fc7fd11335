"""WTForms classes built from field specs: WTForms' "dynamic form composition".

One class per (config key, build context), cached: a merchant's form is built
once per language, not once per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from gettext import NullTranslations
from typing import Any, ClassVar, Literal

from wtforms import Form

from forms.registry import FIELD_TYPES, BuildContext, FieldType
from forms.specs import FieldSpec

JSON = str | int | float | bool | None | list["JSON"] | dict[str, "JSON"]


class OrderedForm(Form):
    """A form whose fields follow ``specs`` in order.

    Instantiate with ``meta={"translations": t}`` (a gettext translations
    object) so the built-in messages come out in the page language.
    """

    specs: ClassVar[tuple[FieldSpec, ...]] = ()
    context: ClassVar[BuildContext]
    _specs_by_name: ClassVar[dict[str, FieldSpec]] = {}

    class Meta:
        csrf = False  # the app checks CSRF for the whole page
        translations: Any = NullTranslations()

        def get_translations(self, form: Form) -> Any:
            return self.translations

    def spec(self, name: str) -> FieldSpec:
        return self._specs_by_name[name]

    def field_type(self, name: str) -> FieldType:
        return FIELD_TYPES[self.spec(name).type]

    def visible_values(self) -> dict[str, Any]:
        """The data of the fields currently shown, in order.

        One pass suffices because a condition only looks at earlier fields;
        a field hidden by its own condition counts as empty for later ones.
        """
        values: dict[str, Any] = {}
        for spec in self.specs:
            if spec.visible_if is None or spec.visible_if.matches(values):
                values[spec.name] = self[spec.name].data
        return values

    def visible_names(self) -> list[str]:
        return list(self.visible_values())

    def values(self) -> dict[str, JSON]:
        """What to store after :meth:`validate` returned ``True``: the shown, filled fields."""
        stored: dict[str, JSON] = {}
        for name, data in self.visible_values().items():
            if data is None or data == "":  # left empty (an unticked box is False, and kept)
                continue
            value = self.field_type(name).stored_value(self.spec(name), data)
            if value is not None:
                stored[name] = value
        return stored

    def attributes(self, name: str) -> dict[str, Any]:
        """HTML attributes for the field's input, besides name, id and value."""
        return self.field_type(name).attributes(self.spec(name), self.context)

    def condition_data(
        self, name: str, rule: Literal["visible_if", "required_if"] = "visible_if"
    ) -> dict[str, JSON] | None:
        """A field's condition as JSON, for the page script to mirror it
        (``data-visible-if``): ``{"field": "customer_type", "values": ["business"]}``.

        Values are spelt as :func:`~forms.specs.condition_key` spells them: a
        ticked checkbox is ``"true"``.
        """
        condition = getattr(self.spec(name), rule)
        if condition is None:
            return None
        return {"field": condition.field, "values": list(condition.values)}


RESERVED_NAMES: frozenset[str] = frozenset(
    name
    for name in {*dir(OrderedForm()), *OrderedForm.__annotations__}  # an instance: `meta`
    if not name.startswith("_")
)
"""Field names that would hide an attribute or method of the form."""


def build_form_class(specs: Sequence[FieldSpec], context: BuildContext) -> type[OrderedForm]:
    """A new form class with one field per spec, in order."""
    by_name: dict[str, FieldSpec] = {}
    for spec in specs:
        if spec.name in RESERVED_NAMES:
            raise ValueError(f"field name {spec.name!r} is reserved by the form")
        if spec.name in by_name:
            raise ValueError(f"field name {spec.name!r} is used twice")
        by_name[spec.name] = spec
    attrs: dict[str, Any] = {"specs": tuple(specs), "context": context, "_specs_by_name": by_name}
    # WTForms orders fields by when they were created: build them in spec order.
    for spec in specs:
        attrs[spec.name] = FIELD_TYPES[spec.type].build(spec, context)
    return type("PorticoForm", (OrderedForm,), attrs)


class FormFactory:
    """Builds and caches form classes by ``(key, context)``.

    A changed config comes with a new key, so entries never go stale; the
    least recently used ones are dropped beyond ``max_classes``.
    """

    def __init__(self, max_classes: int = 512) -> None:
        self.max_classes = max_classes
        self._classes: OrderedDict[tuple[Hashable, BuildContext], type[OrderedForm]] = OrderedDict()
        # Also keeps two threads from creating fields at once, which could
        # interleave WTForms' creation counter and so the field order.
        self._lock = threading.Lock()

    def form_class(
        self, key: Hashable, specs: Sequence[FieldSpec], context: BuildContext
    ) -> type[OrderedForm]:
        cache_key = (key, context)
        with self._lock:
            form_class = self._classes.get(cache_key)
            if form_class is None:
                form_class = self._classes[cache_key] = build_form_class(specs, context)
                if len(self._classes) > self.max_classes:
                    self._classes.popitem(last=False)
            else:
                self._classes.move_to_end(cache_key)
            return form_class
