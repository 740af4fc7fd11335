"""Issue 15, finding 1: a merchant never supplies templates, so its folder cannot run code.

The attack: Jinja files under ``config/merchants/<slug>/`` (also the undocumented
``templates/templates/`` path the probe found) overriding every page and mail template
with server-side template injection. Themes come only from the operator's ``themes/``
(app/core/themes.py): the order page, the portal sign-in page and the confirmation mail
are the theme's, untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.settings import THEMES_DIR
from tests.helpers.app import mails_sent
from tests.helpers.orders import mail_text, outbox
from tests.helpers.security import edit_yaml, sign_up_acme

MARKER = "HOSTILE-TEMPLATE-RAN"
PAYLOAD = (
    f"{MARKER} {{{{ self.__init__.__globals__ }}}} {{{{ config }}}} "
    "{{ cycler.__init__.__globals__.os.environ }} "
    "{% for key in request.environ %}{{ key }}{% endfor %}"
)
HOSTILE_FOLDERS = ("templates", "templates/templates", "", "themes/default/templates")


@pytest.fixture
def config_dir(config_dir: Path) -> Path:
    """acme's folder holds a hostile copy of every template of the default theme, at
    each place a loader might look."""
    acme = config_dir / "merchants" / "acme"
    for template in (THEMES_DIR / "default" / "templates").rglob("*"):
        if template.is_file():
            relative = template.relative_to(THEMES_DIR / "default" / "templates")
            for folder in HOSTILE_FOLDERS:
                target = acme / folder / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(PAYLOAD, encoding="utf-8")
    return config_dir


def assert_theme_page(html: str) -> None:
    assert MARKER not in html
    assert "__globals__" not in html and "PORTICO_SECRET_KEY" not in html
    assert "test-secret-key-for-signing-only" not in html  # the app's secret key


def test_hostile_templates_do_not_change_the_order_page(client: FlaskClient) -> None:
    for language in ("de", "en"):
        response = client.get(f"/acme/order?lang={language}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert_theme_page(html)
        assert 'name="form_token"' in html  # the theme's form


def test_hostile_templates_do_not_change_the_portal_sign_in_page(client: FlaskClient) -> None:
    response = client.get("/acme/portal?lang=en")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert_theme_page(html)
    assert 'name="email"' in html


def test_hostile_templates_do_not_change_error_or_success_pages(client: FlaskClient) -> None:
    missing = client.get("/acme/order/complete/sig_nothing-here")
    assert missing.status_code == 404
    assert_theme_page(missing.get_data(as_text=True))
    success = client.get(sign_up_acme(client))
    assert success.status_code == 200
    assert_theme_page(success.get_data(as_text=True))


def test_hostile_templates_do_not_change_the_confirmation_mail(
    app: Flask, client: FlaskClient, instance_dir: Path
) -> None:
    sign_up_acme(client)
    mails_sent(app)
    [mail] = outbox(instance_dir)
    text = mail_text(mail)
    assert mail["To"] == "jana@example.com"
    assert MARKER not in text and "__globals__" not in text
    assert "ACME Cloud GmbH" in text


def test_a_theme_name_cannot_point_into_the_merchant_folder(
    client: FlaskClient, merchants: Path
) -> None:
    """``branding.theme`` names an installed theme, never a path to the merchant's files."""
    for theme in ("../config/merchants/acme", "../../config/merchants/acme/templates"):
        edit_yaml(merchants / "acme.yaml", lambda data, t=theme: data["branding"].update(theme=t))
        response = client.get("/acme/order?lang=en")
        assert response.status_code == 503
        assert MARKER not in response.get_data(as_text=True)
