"""`portico check` messages: exact wording and position, every problem in one run.

The messages are Portico's interface to merchants, so the tests pin them word
for word. Each case edits one line of a small valid file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from app.config.loader import load_merchant
from app.config.registry import installed_themes
from app.settings import THEMES_DIR

VALID = """\
merchant:
  name: Shop GmbH
  email: billing@shop.example
  address: {street: Hauptstr. 1, postal_code: "10115", city: Berlin, country: DE}
  currency: EUR
  links: {terms: "https://shop.example/agb"}
languages: [de, en]
branding:
  theme: default
  colors: {primary: "#0b5fff", background: "#ffffff", text: "#1a1a1a"}
plans:
  - id: basic
    name: Basic
    price: "9.00"
    interval: month
order_page:
  title: {de: Bestellen, en: Order}
  fields:
    - name: email
      type: email
      label: {de: E-Mail, en: Email}
      required: true
    - name: customer_type
      type: radio
      label: {de: Kundentyp, en: Customer type}
      choices:
        - {value: private, label: {de: Privat, en: Private}}
        - {value: business, label: {de: Firma, en: Business}}
    - name: company
      type: text
      label: {de: Firma, en: Company}
      visible_if: {field: customer_type, equals: business}
portal:
  change_plan: {enabled: true, plans: [basic]}
"""


def check(tmp_path: Path, text: str, name: str = "shop.yaml") -> list[str]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    loaded = load_merchant(path, installed_themes(THEMES_DIR))
    prefix = f"{path}:"
    return [line.removeprefix(prefix) for line in loaded.report()]


def edit(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


def test_the_valid_file_has_no_problems(tmp_path: Path) -> None:
    assert check(tmp_path, VALID) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            edit("  currency: EUR", "  currency: EUR\n  currencyy: EUR"),
            "6:3: error: merchant.currencyy: unknown key 'currencyy' (did you mean 'currency'?); "
            "expected one of: 'address', 'currency', 'email', 'links', 'name', 'phone', "
            "'registration', 'timezone', 'vat_id'",
        ),
        (
            edit("  name: Shop GmbH\n", ""),
            "2:3: error: merchant.name: required key 'name' is missing",
        ),
        (
            edit("      type: text", "      type: txt"),
            "30:13: error: order_page.fields[2].type: unknown field type 'txt' (did you mean 'text'?); "
            "expected one of: 'checkbox', 'country', 'date', 'email', 'hidden', 'iban', "
            "'number', 'phone', 'postal_code', 'radio', 'select', 'text', 'textarea', 'vat_id'",
        ),
        (
            edit("    interval: month", "    interval: monht"),
            "15:15: error: plans[0].interval: expected one of: 'day', 'month', 'week', 'year', "
            "received 'monht' (did you mean 'month'?)",
        ),
        (
            edit('    price: "9.00"', '    price: "9.999"'),
            "14:12: error: plans[0].price: not a valid amount in EUR: "
            "'9.999' has more decimals than EUR allows (at most 2 decimal places)",
        ),
        (
            edit("  currency: EUR", "  currency: JPY").replace('"9.00"', '"10.5"'),
            "14:12: error: plans[0].price: not a valid amount in JPY: "
            "'10.5' has more decimals than JPY allows (no decimal places)",
        ),
        (
            edit('primary: "#0b5fff"', 'primary: "blue"'),
            "10:21: error: branding.colors.primary: expected a colour like '#0b5fff' or '#fff', "
            "received 'blue'",
        ),
        (
            edit("  theme: default", "  theme: defualt"),
            "9:10: error: branding.theme: theme 'defualt' is not installed "
            "(did you mean 'default'?); installed themes: 'default', 'nordic'",
        ),
        (
            edit("languages: [de, en]", "languages: [de, eng]"),
            "7:17: error: languages[1]: expected one of: 'de', 'en', 'sv', received 'eng' "
            "(did you mean 'en'?)",
        ),
        (
            edit('terms: "https://shop.example/agb"', 'terms: "http://shop.example/agb"'),
            "6:18: error: merchant.links.terms: expected an https:// URL, "
            "received 'http://shop.example/agb'",
        ),
        (
            edit("plans: [basic]", "plans: [basik]"),
            "34:40: error: portal.change_plan.plans[0]: unknown plan 'basik' "
            "(did you mean 'basic'?); plans: 'basic'",
        ),
        (
            edit("field: customer_type, equals: business", "field: customer_typ, equals: business"),
            "32:27: error: order_page.fields[2].visible_if.field: 'customer_typ' is not a field "
            "of this page (did you mean 'customer_type'?)",
        ),
        (
            edit("field: customer_type, equals: business", "field: customer_type, equals: busines"),
            "32:19: error: order_page.fields[2].visible_if: field 'customer_type' cannot take the "
            "value 'busines'; expected one of: 'business', 'private' (did you mean 'business'?)",
        ),
        (
            edit("    - name: company", "    - name: customer_type"),
            "29:13: error: order_page.fields[2].name: duplicate name 'customer_type' "
            "(also used at order_page.fields[1].name)",
        ),
        (
            edit("    - name: email\n      type: email", "    - name: e_mail\n      type: email"),
            "19:7: error: order_page.fields[0]: an order page has exactly one email field, "
            "named 'email'; 'e_mail' would be a second one",
        ),
        (
            edit("  email: billing@shop.example", "  email: billing@"),
            "3:10: error: merchant.email: 'billing@' is not a valid email address: "
            "There must be something after the @-sign.",
        ),
        (
            "merchant: [unclosed\n",
            "2:1: error: YAML syntax: expected ',' or ']', but got '<stream end>'",
        ),
        (
            edit("  name: Shop GmbH", "  name: Shop GmbH\n  name: Shop AG"),
            "3:3: error: duplicate key 'name' (first defined at line 2)",
        ),
    ],
)
def test_error_messages(tmp_path: Path, text: str, expected: str) -> None:
    problems = check(tmp_path, text)
    assert expected in problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            edit("  title: {de: Bestellen, en: Order}", "  title: {de: Bestellen}"),
            "17:10: warning: order_page.title: no 'en' text; pages in en show the 'de' text instead",
        ),
        (
            edit(
                "  title: {de: Bestellen, en: Order}",
                '  intro: {de: "<p onclick=x>Hi</p>", en: "<p>Hi</p>"}\n'
                "  title: {de: Bestellen, en: Order}",
            ),
            "17:10: warning: order_page.intro: HTML removed by the sanitizer: p[onclick]",
        ),
        (
            edit('text: "#1a1a1a"', 'text: "#aaaaaa"'),
            "10:61: warning: branding.colors.text: text #aaaaaa on background #ffffff has a "
            "contrast of 2.32:1, below the 4.5:1 that WCAG AA asks for",
        ),
        (
            edit("portal:\n  change_plan: {enabled: true, plans: [basic]}\n", "")
            .replace(
                "plans:\n  - id: basic",
                'plans:\n  - id: extra\n    name: Extra\n    price: "1"\n  - id: basic',
            )
            .replace("order_page:\n", "order_page:\n  plans: [basic]\n"),
            "12:9: warning: plans[0].id: nobody can reach plan 'extra': it is neither offered on "
            "the order page (order_page.plans) nor a plan change target (portal.change_plan.plans)",
        ),
    ],
)
def test_warnings(tmp_path: Path, text: str, expected: str) -> None:
    problems = check(tmp_path, text)
    assert expected in problems, "\n".join(problems)
    assert not [p for p in problems if ": error: " in p]


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    text = (
        edit("  currency: EUR", "  currency: EURO")
        .replace("  theme: default", "  theme: fancy")
        .replace("      type: text", "      type: txt")
    )
    problems = check(tmp_path, text)
    assert len([p for p in problems if ": error: " in p]) == 2  # type errors stop semantic checks
    text = edit("  theme: default", "  theme: fancy").replace('"9.00"', '"9.001"')
    problems = check(tmp_path, text)
    assert [p.split(": ")[2] for p in problems] == ["branding.theme", "plans[0].price"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("static.yaml", "the merchant slug 'static' is reserved by Portico's own URLs"),
        ("Shop.yaml", "the file name gives the merchant slug 'Shop', which must be 2 to 40"),
    ],
)
def test_slugs(tmp_path: Path, name: str, expected: str) -> None:
    problems = check(tmp_path, VALID, name=name)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("  logo: shop/missing.png", "branding.logo: file 'shop/missing.png' does not exist"),
        (
            "  logo: shop/logo.gif",
            "branding.logo: 'shop/logo.gif' is not a PNG, JPEG, WebP, ICO or SVG image",
        ),
        (
            "  logo: ../../etc/passwd",
            "branding.logo: '../../etc/passwd' points outside the merchants",
        ),
    ],
)
def test_logo_problems(tmp_path: Path, line: str, expected: str) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "logo.gif").write_bytes(b"GIF89a\x01\x00\x01\x00")
    problems = check(tmp_path, edit("  theme: default", f"  theme: default\n{line}"))
    assert any(expected in problem for problem in problems), problems


def test_logo_that_is_a_real_png_passes(tmp_path: Path) -> None:
    (tmp_path / "shop").mkdir()
    Image.new("RGB", (4, 2)).save(tmp_path / "shop" / "logo.png")  # parsed, not sniffed
    assert (
        check(tmp_path, edit("  theme: default", "  theme: default\n  logo: shop/logo.png")) == []
    )


@pytest.mark.parametrize(
    ("addition", "expected"),
    [
        (
            "embed:\n  allowed_origins: ['http://shop.example']\n",
            "embed.allowed_origins[0]: expected an https:// URL, received 'http://shop.example'",
        ),
        (
            "embed:\n  allowed_origins: ['https://shop.example/shop']\n",
            "embed.allowed_origins[0]: expected an origin without a path, like "
            "'https://shop.example', received 'https://shop.example/shop'",
        ),
        (
            "webhooks:\n  - {url: 'ftp://x.example', events: [invoice.paid], secret_env: S}\n",
            "webhooks[0].url: expected an https:// URL, received 'ftp://x.example'",
        ),
        (
            "webhooks:\n  - {url: 'https://x.example', events: [invoice.payed], secret_env: S}\n",
            "webhooks[0].events[0]: expected one of: ",
        ),
    ],
)
def test_url_problems(tmp_path: Path, addition: str, expected: str) -> None:
    problems = check(tmp_path, VALID + addition)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  change_plan: {enabled: true, plans: [basic]}",
            "  change_plan: {enabled: true, plans: [basic]}\n  return_url: http://shop.example",
            "portal.return_url: expected an https:// URL",
        ),
        (
            "      visible_if: {field: customer_type, equals: business}",
            "      visible_if: {field: customer_type, equals: business}\n"
            "  success: {redirect_url: 'javascript:alert(1)'}",
            "order_page.success.redirect_url: expected an https:// URL, received 'javascript:alert(1)'",
        ),
        (
            "    - name: company",
            "    - name: plan",
            "order_page.fields[2].name: 'plan' is reserved; choose another name",
        ),
        (
            "      visible_if: {field: customer_type, equals: business}",
            "      visible_if: {field: company, equals: business}",
            "order_page.fields[2].visible_if.field: 'company' does not come before 'company'",
        ),
    ],
)
def test_more_errors(tmp_path: Path, old: str, new: str, expected: str) -> None:
    problems = check(tmp_path, edit(old, new))
    assert any(expected in problem for problem in problems), problems
