"""What the order and success pages show, formatted for the page's locale.

Pure functions of the config, a language and a translations object, so the
same wording reaches pages, mails and PDFs.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.support import NullTranslations

from app.config.models import MerchantConfig, Plan
from app.core.money import Money, parse_amount
from forms import localize


@dataclass(frozen=True)
class PlanOption:
    id: str
    name: str
    description: str
    features: tuple[str, ...]
    price: str  # "9,00 €/Monat"
    trial: str  # "14 Tage kostenlos testen", or ""
    setup_fee: str  # "zzgl. 99,00 € einmalige Einrichtung", or ""
    highlight: bool
    badge: str


def price_per_interval(plan: Plan, currency: str, language: str, t: NullTranslations) -> str:
    price = Money(parse_amount(plan.price, currency), currency).format(language)
    count = plan.interval_count
    phrases = {
        "day": t.ngettext("%(price)s/day", "%(price)s every %(num)d days", count),
        "week": t.ngettext("%(price)s/week", "%(price)s every %(num)d weeks", count),
        "month": t.ngettext("%(price)s/month", "%(price)s every %(num)d months", count),
        "year": t.ngettext("%(price)s/year", "%(price)s every %(num)d years", count),
    }
    return phrases[plan.interval] % {"price": price, "num": count}


def plan_option(
    config: MerchantConfig, plan: Plan, language: str, t: NullTranslations
) -> PlanOption:
    default = config.default_language
    currency = config.merchant.currency
    setup = parse_amount(plan.setup_fee, currency)
    trial = (
        t.ngettext("%(num)d day free trial", "%(num)d days free trial", plan.trial_days)
        % {"num": plan.trial_days}
        if plan.trial_days
        else ""
    )
    setup_fee = (
        t.gettext("plus a one-time setup fee of %(amount)s")
        % {"amount": Money(setup, currency).format(language)}
        if setup
        else ""
    )
    return PlanOption(
        id=plan.id,
        name=localize(plan.name, language, default),
        description=localize(plan.description, language, default),
        features=tuple(localize(feature, language, default) for feature in plan.features),
        price=price_per_interval(plan, currency, language, t),
        trial=trial,
        setup_fee=setup_fee,
        highlight=plan.highlight,
        badge=localize(plan.badge, language, default),
    )


def plan_options(config: MerchantConfig, language: str, t: NullTranslations) -> list[PlanOption]:
    return [plan_option(config, plan, language, t) for plan in config.offered_plans]


def payment_method_label(method: str, t: NullTranslations) -> str:
    labels = {
        "card": t.gettext("Credit or debit card"),
        "sepa_debit": t.gettext("SEPA Direct Debit"),
        "invoice": t.gettext("Invoice (bank transfer)"),
    }
    return labels[method]


def masked_email(email: str) -> str:
    """``jane.doe@example.com`` → ``j•••@example.com``: enough to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"
