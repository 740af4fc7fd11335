"""Classic XSS payloads, a merchant with one in every text, and what "inert" means for a page.

Used by ``tests/reliability/test_xss.py`` (the HTML as served) and ``tests/browser/test_xss_browser.py``
(the same pages in Chromium, listening for dialogs and CSP violations).
Merchant ``xss-<n>`` carries payload ``n`` in every text it has; the customer
fields of a sign-up carry it too.
"""

from __future__ import annotations

import shutil
import unicodedata
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from flask.testing import FlaskClient

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<iframe src="javascript:alert(1)"></iframe>',
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</style></script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)//",
    '" autofocus onfocus=alert(1) x="',
    "' autofocus onfocus=alert(1) x='",
    "<details open ontoggle=alert(1)>",
    '<math><mi xlink:href="javascript:alert(1)">m</mi></math>',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<form action="https://evil.example"><button>go</button></form>',
    "<style>*{background:url(https://evil.example/x)}</style>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<scr<script>ipt>alert(1)</script>",
    "{{ 1337*1337 }}{% if 1 %}ssti{% endif %}",
    "%(email)s ${alert(1)} #{alert(1)}",
    "\u2028\u2029</script><script>alert(1)</script>",
]
SSTI_RESULT = "1787569"  # 1337*1337: a template that evaluated merchant text
ALL_AT_ONCE = " ".join(PAYLOADS)  # for merchant xss-all: quotes of one meet tags of another
CASES = [
    *((f"xss-{index}", payload) for index, payload in enumerate(PAYLOADS)),
    ("xss-all", ALL_AT_ONCE),
]
MERCHANTS = [slug for slug, _ in CASES]
# A valid address (letters + ' = ` { } | ~ are allowed unquoted) that breaks naive quoting.
EMAIL = "o'neil+`x`={a}|~@example.com"
FIELD_VALUES = ("full_name", "company", "notes")


def one_line(text: str) -> str:
    return "".join(char for char in text if unicodedata.category(char) not in ("Cc", "Zl", "Zp"))


def merchant_document(payload: str, slug: str = "xss-0") -> dict[str, Any]:
    """A merchant with ``payload`` in every text: names, labels, help, plans, consents…"""
    p = payload
    both = {"en": p, "de": p}
    return {
        "merchant": {
            "name": f"Shop {one_line(p)}",  # goes into mail headers: check refuses breaks
            "email": "shop@example.com",
            "address": {"street": p, "postal_code": "10115", "city": p, "country": "DE"},
            "registration": p,
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "links": {"terms": "https://shop.example/terms", "privacy": "https://shop.example/p"},
        },
        "languages": ["en", "de"],
        "branding": {
            "theme": "default",
            "logo": f"{slug}/logo.svg",  # in the merchant's own folder
            "colors": {"primary": "#0b5fff", "background": "#ffffff", "text": "#1a1a1a"},
        },
        "embed": {"allowed_origins": ["https://shop.example"]},
        "plans": [
            {
                "id": "basic",
                "name": p,
                "description": both,
                "features": [p, both],
                "badge": p,
                "highlight": True,
                "price": "9.00",
                "interval": "month",
                "trial_days": 14,
            },
            {
                "id": "pro",
                "name": both,
                "price": "19.00",
                "setup_fee": "5.00",
                "interval": "month",
            },
        ],
        "order_page": {
            "title": both,
            "intro": f"<p>{p}</p>",
            "submit_label": p,
            "fields": [
                {"name": "email", "type": "email", "label": p, "help": p, "placeholder": p,
                 "required": True},
                {"name": "full_name", "type": "text", "label": p, "help": p, "placeholder": p,
                 "required": True, "max_length": 3000, "section": p},
                {"name": "kind", "type": "radio", "label": p, "default": "a",
                 "choices": [{"value": "a", "label": p}, {"value": "b", "label": both}]},
                {"name": "company", "type": "text", "label": p, "max_length": 3000,
                 "visible_if": {"field": "kind", "equals": "b"},
                 "required_if": {"field": "kind", "equals": "b"}},
                {"name": "size", "type": "select", "label": p, "help": p,
                 "choices": [{"value": "s", "label": p}, {"value": "m", "label": "M"}]},
                {"name": "notes", "type": "textarea", "label": p, "help": p, "placeholder": p,
                 "max_length": 3000},
                {"name": "code", "type": "text", "label": p, "pattern": "[A-Z0-9]*",
                 "pattern_message": p},
                {"name": "news", "type": "checkbox", "label": p, "help": p},
                {"name": "ref", "type": "hidden", "default": p[:200]},
            ],
            "consents": [
                {"name": "terms", "required": True,
                 "label": f'{p} <a href="https://shop.example/terms">terms</a> {p}'},
            ],
            "success": {"message": f"<p>{p}</p>{p}"},
        },
        "payments": {"methods": ["invoice"]},
        "coupons": [{"code": "SAVE10", "name": p, "percent_off": 10, "duration": "once"}],
    }  # fmt: skip


LOGO = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
    "<script>alert(1)</script><rect width='10' height='10'/></svg>"
)


def write_merchants(config_dir: Path, demo_config: Path) -> Path:
    """One merchant file per payload in ``config_dir/merchants`` (and the demo ``stromma``,
    so pages of another merchant are there to compare)."""
    merchants = config_dir / "merchants"
    merchants.mkdir(parents=True, exist_ok=True)
    for slug, payload in CASES:
        (merchants / slug).mkdir(exist_ok=True)
        (merchants / slug / "logo.svg").write_text(LOGO, encoding="utf-8")
        document = merchant_document(payload, slug)
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        (merchants / f"{slug}.yaml").write_text(text, encoding="utf-8")
    shutil.copy(demo_config / "merchants" / "stromma.yaml", merchants)
    shutil.copytree(demo_config / "merchants" / "stromma", merchants / "stromma")
    return merchants


def signup_data(payload: str, *, valid: bool) -> dict[str, str]:
    """The customer's answers with the payload in every free-text field; ``valid=False``
    leaves the consent unticked and breaks the pattern, so every value is shown back."""
    data = {
        "plan": "basic",
        "email": EMAIL if valid else payload,
        "kind": "b",
        "size": "s",
        "news": "y",
        "code": "" if valid else payload,
        **dict.fromkeys(FIELD_VALUES, payload),
    }
    if valid:
        data["terms"] = "y"
    return data


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag


URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster")
FOREIGN_TAGS = {"iframe", "svg", "math", "object", "embed", "base", "style", "frame", "applet"}


def _is_own_url(value: str) -> bool:
    return value.startswith("/") and not value.startswith("//")


def inert_problems(html: str, payload: str) -> list[str]:
    """What in ``html`` could run or restyle merchant/customer text; empty when inert."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    problems = []
    for tag, attrs in parser.elements:
        events = [name for name in attrs if name.startswith("on")]
        if events:
            problems.append(f"<{tag}> has event handlers {events}")
        if tag in FOREIGN_TAGS:
            problems.append(f"a <{tag}> element")
        if tag == "script" and not _is_own_url(attrs.get("src", "")):
            problems.append(f"a script that is not ours: {attrs}")
        if tag == "meta" and "http-equiv" in attrs:
            problems.append(f"<meta http-equiv={attrs['http-equiv']!r}>")
        if tag == "img" and not (
            _is_own_url(attrs.get("src", "")) or attrs["src"].startswith("data:")
        ):
            problems.append(f"an image from elsewhere: {attrs.get('src')!r}")
        if tag in ("form", "button") and attrs.get("action", "/").startswith(("http", "//")):
            problems.append(f"a form posting elsewhere: {attrs}")
        for name in URL_ATTRIBUTES:
            value = "".join(attrs.get(name, "").split()).lower()
            if value.startswith(("javascript:", "vbscript:", "data:text")):
                problems.append(f"<{tag} {name}={attrs[name]!r}>")
        # The portal's own error summary takes focus on load (a payload bringing it would
        # have to bring its id too, and any handler it adds is caught above).
        if (
            "autofocus" in attrs
            and tag not in ("input", "textarea", "select")
            and not (tag == "div" and attrs.get("id") == "error-summary")
        ):
            problems.append(f"<{tag} autofocus>")
    if "<" in payload and payload in html:
        problems.append("the payload appears unescaped")
    if SSTI_RESULT in html or ">ssti<" in html:
        problems.append("merchant text was evaluated as a template")
    return problems


def page(client: FlaskClient, url: str, payload: str, *, status: int = 200, **post) -> str:
    """GET (or POST ``post``) ``url``: the answer ``status``, inert, under the strict policy."""
    response = client.post(url, **post) if post else client.get(url)
    assert response.status_code == status, (url, response.status_code)
    html = response.get_data(as_text=True)
    assert inert_problems(html, payload) == [], url
    policy_header = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy_header and "unsafe-inline" not in policy_header
    return html


def check_mail(mail: EmailMessage, payload: str) -> None:
    """The HTML part is inert; the headers are exactly ours, whatever the texts hold."""
    parsed = message_from_bytes(bytes(mail), policy=policy.default)
    headers = ["Subject", "From", "To", "Reply-To", "Date", "Message-ID", "Auto-Submitted"]
    headers += ["MIME-Version", "Content-Type", "Content-Language"]
    assert sorted(parsed.keys()) == sorted(headers)
    assert parsed["To"] == EMAIL
    html = parsed.get_body(("html",)).get_content()
    assert inert_problems(html, payload) == []
    text = parsed.get_body(("plain",)).get_content()
    assert payload.strip() in text or "Shop" in text
