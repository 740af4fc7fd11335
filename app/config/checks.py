"""Checks that need more than one key: references, money, files, languages, contrast.

Each check is a generator of problems over a validated config; all of them
run, so a merchant sees every problem of a file at once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path as FilePath

from app.config.annotations import iter_texts
from app.config.assets import AssetMissing, AssetRefused, load_asset
from app.config.colors import contrast_ratio, readable_on
from app.config.envnames import EnvNamespace, env_problems
from app.config.html import html_texts, stripped_markup
from app.config.models import COUNTRIES, LANGUAGES, MerchantConfig
from app.config.problems import Path, Problem, did_you_mean, format_path, one_of
from app.core.money import MoneyError, parse_amount
from forms import RESERVED_NAMES, TextKind

ORDER_PAGE_NAMES = frozenset(
    {"plan", "payment_method", "coupon", "form_token", "homepage", "lang", "embed", "origin"}
)
"""Inputs the order page itself uses; a merchant field may not take these names."""

MIN_CONTRAST = 4.5


@dataclass(frozen=True)
class CheckContext:
    config: MerchantConfig
    data: dict
    merchants_dir: FilePath
    themes: frozenset[str]
    slug: str = ""  # the file name; names the merchant's PORTICO_<SLUG>_ variables


Check = Callable[[CheckContext], Iterator[Problem]]


def _error(path: Path, message: str) -> Problem:
    return Problem.error(path, message)


def _warning(path: Path, message: str) -> Problem:
    return Problem.warning(path, message)


def check_unique_names(ctx: CheckContext) -> Iterator[Problem]:
    page = ctx.config.order_page
    names = [(("order_page", "fields", i, "name"), f.name) for i, f in enumerate(page.fields)]
    names += [(("order_page", "consents", i, "name"), c.name) for i, c in enumerate(page.consents)]
    seen: dict[str, Path] = {}
    for path, name in names:
        if name in seen:
            yield _error(path, f"duplicate name '{name}' (also used at {format_path(seen[name])})")
        seen.setdefault(name, path)
        if name in ORDER_PAGE_NAMES or name in RESERVED_NAMES:
            yield _error(path, f"'{name}' is reserved; choose another name")
    plan_ids = Counter(plan.id for plan in ctx.config.plans)
    for index, plan in enumerate(ctx.config.plans):
        if plan_ids[plan.id] > 1:
            yield _error(("plans", index, "id"), f"duplicate plan id '{plan.id}'")
    codes = Counter(coupon.code.upper() for coupon in ctx.config.coupons)
    for index, coupon in enumerate(ctx.config.coupons):
        if codes[coupon.code.upper()] > 1:
            yield _error(("coupons", index, "code"), f"duplicate coupon code '{coupon.code}'")
    for key in ("languages", ("payments", "methods")):
        path = key if isinstance(key, tuple) else (key,)
        values = ctx.data
        for part in path:
            values = values.get(part, []) if isinstance(values, dict) else []
        repeated = [value for value, n in Counter(map(str, values)).items() if n > 1]
        if repeated:
            yield _error(path, f"'{repeated[0]}' is listed twice")


def check_email_field(ctx: CheckContext) -> Iterator[Problem]:
    fields = ctx.config.order_page.fields
    emails = [i for i, field in enumerate(fields) if field.type == "email"]
    named = [i for i, field in enumerate(fields) if field.name == "email"]
    if not named:
        yield _error(
            ("order_page", "fields"),
            "every order page needs exactly one field named 'email' of type email; none found",
        )
    for index in named:
        if fields[index].type != "email":
            yield _error(
                ("order_page", "fields", index, "type"),
                f"the field 'email' must have type email, received '{fields[index].type}'",
            )
    for index in emails:
        if fields[index].name != "email":
            yield _error(
                ("order_page", "fields", index),
                "an order page has exactly one email field, named 'email'; "
                f"'{fields[index].name}' would be a second one",
            )


def check_conditions(ctx: CheckContext) -> Iterator[Problem]:
    fields = ctx.config.order_page.fields
    position = {field.name: index for index, field in enumerate(fields)}
    for index, field in enumerate(fields):
        for key in ("visible_if", "required_if"):
            condition = getattr(field, key)
            if condition is None:
                continue
            path = ("order_page", "fields", index, key, "field")
            target = position.get(condition.field)
            if target is None:
                yield _error(
                    path,
                    f"'{condition.field}' is not a field of this page"
                    f"{did_you_mean(condition.field, position)}",
                )
                continue
            if target >= index:
                yield _error(
                    path,
                    f"'{condition.field}' does not come before '{field.name}'; "
                    "a condition may only look at earlier fields",
                )
                continue
            allowed = _possible_values(fields[target])
            for value in condition.values:
                if allowed is not None and value not in allowed:
                    yield _error(
                        ("order_page", "fields", index, key),
                        f"field '{condition.field}' cannot take the value '{value}'; "
                        f"expected one of: {one_of(allowed)}{did_you_mean(value, allowed)}",
                    )


def _possible_values(field: object) -> list[str] | None:
    """The values a field can submit, when they are a closed set."""
    if getattr(field, "type", None) == "checkbox":
        return ["true", "false"]
    choices = getattr(field, "choices", None)
    if choices:
        return [choice.value for choice in choices]
    countries = getattr(field, "countries", None)
    if getattr(field, "type", None) == "country":
        return sorted(countries or COUNTRIES)
    return None


def check_field_references(ctx: CheckContext) -> Iterator[Problem]:
    """Field options that name another field or a country."""
    fields = ctx.config.order_page.fields
    types = {field.name: field.type for field in fields}
    for index, field in enumerate(fields):
        country_field = getattr(field, "country_field", None)
        if country_field is not None and types.get(country_field) != "country":
            yield _error(
                ("order_page", "fields", index, "country_field"),
                f"'{country_field}' is not a country field of this page"
                f"{did_you_mean(country_field, [n for n, t in types.items() if t == 'country'])}",
            )
        for offset, code in enumerate(getattr(field, "countries", None) or ()):
            if code not in COUNTRIES:
                yield _error(
                    ("order_page", "fields", index, "countries", offset),
                    f"unknown country code '{code}'{did_you_mean(code, COUNTRIES)}",
                )


def check_plan_references(ctx: CheckContext) -> Iterator[Problem]:
    config = ctx.config
    ids = [plan.id for plan in config.plans]
    references: list[tuple[Path, str]] = []
    references += [
        (("order_page", "plans", i), p) for i, p in enumerate(config.order_page.plans or ())
    ]
    if config.order_page.default_plan:
        references.append((("order_page", "default_plan"), config.order_page.default_plan))
    references += [
        (("portal", "change_plan", "plans", i), p)
        for i, p in enumerate(config.portal.change_plan.plans)
    ]
    for c, coupon in enumerate(config.coupons):
        references += [(("coupons", c, "plans", i), p) for i, p in enumerate(coupon.plans or ())]
    for path, plan_id in references:
        if plan_id not in ids:
            yield _error(
                path, f"unknown plan '{plan_id}'{did_you_mean(plan_id, ids)}; plans: {one_of(ids)}"
            )
    offered = [plan.id for plan in config.offered_plans]
    if ids and not offered:
        yield _error(("order_page", "plans"), "the order page offers no available plan")
    default = config.order_page.default_plan
    if default in ids and default not in offered:
        yield _error(("order_page", "default_plan"), f"plan '{default}' is not offered on the page")
    retention = config.portal.cancel.retention_coupon
    if retention and config.coupon(retention) is None:
        codes = [coupon.code for coupon in config.coupons]
        yield _error(
            ("portal", "cancel", "retention_coupon"),
            f"unknown coupon '{retention}'{did_you_mean(retention, codes)}",
        )
    changeable = (
        set(config.portal.change_plan.plans) if config.portal.change_plan.enabled else set()
    )
    for index, plan in enumerate(config.plans):
        if plan.available and plan.id not in offered and plan.id not in changeable:
            yield _warning(
                ("plans", index, "id"),
                f"nobody can reach plan '{plan.id}': it is neither offered on the order page "
                "(order_page.plans) nor a plan change target (portal.change_plan.plans)",
            )


def check_money(ctx: CheckContext) -> Iterator[Problem]:
    currency = ctx.config.merchant.currency
    amounts: list[tuple[Path, object]] = []
    for index, plan in enumerate(ctx.config.plans):
        amounts += [
            (("plans", index, "price"), plan.price),
            (("plans", index, "setup_fee"), plan.setup_fee),
        ]
    for index, coupon in enumerate(ctx.config.coupons):
        if coupon.amount_off is not None:
            amounts.append((("coupons", index, "amount_off"), coupon.amount_off))
    for path, amount in amounts:
        try:
            parse_amount(amount, currency)
        except MoneyError as error:
            yield _error(path, f"not a valid amount in {currency}: {error}")


def check_branding(ctx: CheckContext) -> Iterator[Problem]:
    branding = ctx.config.branding
    if branding.theme not in ctx.themes:
        yield _error(
            ("branding", "theme"),
            f"theme '{branding.theme}' is not installed{did_you_mean(branding.theme, ctx.themes)}; "
            f"installed themes: {one_of(ctx.themes)}",
        )
    for key in ("logo", "favicon"):
        relative = getattr(branding, key)
        if relative is not None:
            yield from asset_problems(ctx, ("branding", key), relative)
    colors = branding.colors
    ratio = contrast_ratio(colors.text, colors.background)
    if ratio < MIN_CONTRAST:
        yield _warning(
            ("branding", "colors", "text"),
            f"text {colors.text} on background {colors.background} has a contrast of "
            f"{ratio:.2f}:1, below the {MIN_CONTRAST}:1 that WCAG AA asks for",
        )
    for key in ("primary", "accent"):
        color = getattr(colors, key)
        if color is None:
            continue
        button_text = readable_on(color)
        ratio = contrast_ratio(button_text, color)
        if ratio < MIN_CONTRAST:
            yield _warning(
                ("branding", "colors", key),
                f"no text colour reaches {MIN_CONTRAST}:1 on {color} (best: {ratio:.2f}:1); "
                "buttons in this colour will be hard to read",
            )
        link_ratio = contrast_ratio(color, colors.background)
        if key == "primary" and link_ratio < 3:
            yield _warning(
                ("branding", "colors", key),
                f"{color} on background {colors.background} has a contrast of "
                f"{link_ratio:.2f}:1; links and focus rings need at least 3:1",
            )


def asset_problems(ctx: CheckContext, path: Path, relative: str) -> Iterator[Problem]:
    """A logo or favicon: in the merchant's own folder, a regular file (no symbolic link),
    and by its content a PNG, JPEG, WebP, ICO or SVG image (:mod:`app.config.assets`)."""
    try:
        asset = load_asset(ctx.merchants_dir, relative, ctx.slug or None)
    except AssetMissing:
        yield _error(path, f"file {relative!r} does not exist (looked in {ctx.merchants_dir})")
        return
    except AssetRefused as refused:
        yield _error(path, f"{relative!r} {refused}")
        return
    if asset.removed:
        yield _warning(
            path, f"SVG content removed by the sanitizer: {', '.join(asset.removed[:8])}"
        )


def check_texts(ctx: CheckContext) -> Iterator[Problem]:
    languages = list(ctx.config.languages)
    default = ctx.config.default_language
    for path, value, kind in iter_texts(ctx.config, type(ctx.config)):
        if isinstance(value, dict):
            for language in value:
                if language not in LANGUAGES:
                    yield _error(
                        (*path, language),
                        f"unsupported language '{language}'{did_you_mean(language, LANGUAGES)}; "
                        f"Portico speaks {one_of(LANGUAGES)}",
                    )
                elif language not in languages:
                    yield _warning(
                        (*path, language),
                        f"'{language}' is not one of this merchant's languages; "
                        "the text is never shown",
                    )
            for language in languages:
                if language not in value:
                    yield _warning(
                        path,
                        f"no '{language}' text; pages in {language} show the "
                        f"'{default}' text instead",
                    )
        if kind is TextKind.HTML:
            for raw in html_texts(_raw(ctx.data, path)):
                removed = stripped_markup(raw)
                if removed:
                    yield _warning(path, f"HTML removed by the sanitizer: {', '.join(removed)}")


def _raw(data: object, path: Path) -> object:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def check_success(ctx: CheckContext) -> Iterator[Problem]:
    if ctx.config.embed.success == "top" and ctx.config.order_page.success.redirect_url is None:
        yield _error(
            ("embed", "success"),
            "'top' sends the window to order_page.success.redirect_url, which is not set",
        )


def check_payment_providers(ctx: CheckContext) -> Iterator[Problem]:
    payments = ctx.config.payments
    if payments.providers.sepa_debit == "stripe":
        yield _error(
            ("payments", "providers", "sepa_debit"),
            "SEPA direct debit through Stripe is not available yet; use 'sandbox' or 'bank_file'",
        )
    if "card" in payments.stripe_methods and payments.stripe is None:
        yield _error(
            ("payments", "providers", "card"),
            "'stripe' takes the card payments, but payments.stripe is missing "
            "(publishable_key, secret_key_env, webhook_secret_env)",
        )
    keys = payments.stripe
    if keys is None:
        return
    key = keys.publishable_key
    if key.startswith(("sk_", "rk_")):
        yield _error(
            ("payments", "stripe", "publishable_key"),
            "this is a secret key: it must never sit in YAML; roll it in Stripe's dashboard "
            "and put the publishable key (pk_…) here",
        )
    elif not key.startswith("pk_"):
        yield _error(
            ("payments", "stripe", "publishable_key"),
            f"expected a publishable key starting with 'pk_', received '{key[:12]}'",
        )
    # secret_key_env / webhook_secret_env: check_env_names, like every *_env key


def check_env_names(ctx: CheckContext) -> Iterator[Problem]:
    """Every ``*_env`` key names a variable in the merchant's namespace, ``PORTICO_<SLUG>_…``
    (:mod:`app.config.envnames`): never the operator's settings or another merchant's."""
    if not ctx.slug:
        return
    namespace = EnvNamespace.of(ctx.slug, ctx.merchants_dir)
    for path, message in env_problems(ctx.data, namespace):
        yield _error(path, message)


CHECKS: tuple[Check, ...] = (
    check_unique_names,
    check_email_field,
    check_conditions,
    check_field_references,
    check_plan_references,
    check_money,
    check_branding,
    check_texts,
    check_success,
    check_payment_providers,
    check_env_names,
)


def run_checks(ctx: CheckContext) -> list[Problem]:
    return [problem for check in CHECKS for problem in check(ctx)]
