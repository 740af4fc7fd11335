"""The order form: the engine's merchant fields plus the page's own inputs.

The plan choice is named ``plan``, each consent's checkbox its consent
``name``, and ``form_token`` carries the signed token. ``homepage`` is a
honeypot that people never see and bots fill in. The payment choice and the
card and bank inputs are engine fields (see :mod:`app.signup.payment_fields`).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from wtforms import BooleanField, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, StopValidation

from app.config.models import MerchantConfig
from app.core.i18n import translations
from app.signup.payment_fields import PAYMENT_INPUTS, payment_specs
from forms import BuildContext, FormFactory, OrderedForm, localize

HONEYPOT = "homepage"
PAGE_INPUTS = frozenset({"plan", "coupon", "form_token", HONEYPOT}) | PAYMENT_INPUTS


def _choice_made(form: OrderedForm, field: RadioField) -> None:
    if field.data not in {choice.value for choice in field.choices}:
        raise StopValidation(field.gettext("Choose one of the options shown."))


def _ticked(form: OrderedForm, field: BooleanField) -> None:
    if not field.data:
        raise StopValidation(field.gettext("Please tick this box to continue."))


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class OrderFormFactory:
    """Builds and caches order form classes per merchant version and language."""

    def __init__(self, fields: FormFactory) -> None:
        self.fields = fields
        self._classes: dict[tuple[Hashable, BuildContext], type[OrderedForm]] = {}

    def form_class(
        self, key: Hashable, config: MerchantConfig, context: BuildContext
    ) -> type[OrderedForm]:
        cached = self._classes.get((key, context))
        if cached is not None:
            return cached
        payment = payment_specs(config, translations(context.language))
        base = self.fields.form_class(key, (*config.order_page.fields, *payment), context)
        language, default = context.language, context.default_language
        attributes: dict[str, Any] = {
            "plan": RadioField(
                choices=[
                    SelectChoice(p.id, localize(p.name, language, default))
                    for p in config.offered_plans
                ],
                validators=[_choice_made],
                validate_choice=False,
            ),
        }
        if config.coupons:
            attributes["coupon"] = StringField(
                filters=[_strip], validators=[Length(max=40)]
            )  # billing checks the code
        for consent in config.order_page.consents:
            attributes[consent.name] = BooleanField(
                validators=[_ticked] if consent.required else []
            )
        attributes["form_token"] = HiddenField()
        attributes[HONEYPOT] = StringField()
        form_class = type(f"{base.__name__}Order", (base,), attributes)
        if len(self._classes) >= 512:
            self._classes.pop(next(iter(self._classes)))
        self._classes[(key, context)] = form_class
        return form_class
