"""Portal sessions: the cookie, timeouts, sign-out, deep links and merchant isolation."""

from __future__ import annotations

import shutil

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from app.web.portal.auth import portal_login_required, safe_next, signed_in
from tests.helpers.app import DEMO_CONFIG, make_app, stop_background_work
from tests.helpers.clock import Clock
from tests.helpers.mail import Mailbox, link_and_code
from tests.helpers.orders import form_token, stored
from tests.helpers.portal import (
    ask_for_link,
    confirm,
    csrf_token,
    sign_in,
    sign_in_by_mail,
    sign_up,
)

# A page another portal feature will add later, guarded like theirs will be.
deep = Blueprint("deep_link_test", __name__)


@deep.route("/<merchant>/portal/deep", methods=["GET", "POST"])
@portal_login_required
def deep_page(merchant: str) -> str:
    return f"deep page of {signed_in().customer_id}"


@pytest.fixture
def app_with_deep_page(app: Flask) -> Flask:
    app.register_blueprint(deep)
    return app


def session_cookie(client: FlaskClient, merchant: str = "acme") -> str | None:
    cookie = client.get_cookie(f"portico-{merchant}")
    return cookie.value if cookie else None


def signed_in_client(app: Flask, email: str = "jana@example.com") -> FlaskClient:
    """Another browser of a customer who signed up already, signed in at acme."""
    client = app.test_client()
    sign_in(app, client, "acme", email)
    return client


def is_signed_in(client: FlaskClient, merchant: str = "acme") -> bool:
    html = client.get(f"/{merchant}/portal?lang=en").get_data(as_text=True)
    return "Signed in as" in html


def test_the_session_cookie_in_development(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "acme", "jana@example.com")
    response = sign_in(app, client, "acme", "jana@example.com")
    header = response.headers["Set-Cookie"]
    assert header.startswith("portico-acme=")
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert "Domain" not in header and "Expires" not in header


def test_the_session_cookie_in_production(instance_dir, mailbox: Mailbox) -> None:
    app = make_app(instance_dir, PORTICO_ENV="production", PORTICO_SMTP_URL=mailbox.smtp_url)
    client = app.test_client()
    sign_up(client, "acme", "jana@example.com")
    assert ask_for_link(client, "acme", "jana@example.com").status_code == 200
    path, _ = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    response = confirm(client, path)
    header = response.headers["Set-Cookie"]
    assert header.startswith("__Host-portico-acme=")
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "Path=/" in header and "Domain" not in header
    stop_background_work(app)


def test_signing_in_issues_a_new_session_id(app: Flask, client: FlaskClient, clock: Clock) -> None:
    sign_up(client, "acme", "jana@example.com")
    planted = "P" * 43  # an id an attacker set before the sign-in (session fixation)
    client.set_cookie("portico-acme", planted)
    sign_in(app, client, "acme", "jana@example.com")
    first = session_cookie(client)
    assert first not in (None, planted)
    clock.advance(seconds=61)
    sign_in(app, client, "acme", "jana@example.com")
    second = session_cookie(client)
    assert second not in (None, first)
    assert len(stored(app, "acme", "sessions")) == 1  # the earlier one ended
    stale = app.test_client()
    stale.set_cookie("portico-acme", first)
    assert not is_signed_in(stale)


def test_idle_sessions_end_after_30_minutes(app: Flask, client: FlaskClient, clock: Clock) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_in(app, client, "acme", "jana@example.com")
    for _ in range(3):  # activity keeps it alive
        clock.advance(minutes=25)
        assert is_signed_in(client)
    clock.advance(minutes=30, seconds=1)
    response = client.get("/acme/portal?lang=en")
    assert "Signed in as" not in response.get_data(as_text=True)
    assert "portico-acme=;" in response.headers["Set-Cookie"]  # the stale cookie is cleared


def test_sessions_end_12_hours_after_sign_in(app: Flask, client: FlaskClient, clock: Clock) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_in(app, client, "acme", "jana@example.com")
    for _ in range(28):  # 11 h 40 min of steady activity
        clock.advance(minutes=25)
        assert is_signed_in(client)
    clock.advance(minutes=21)
    assert not is_signed_in(client)


def test_an_expired_session_returns_to_the_page_after_signing_in(
    app_with_deep_page: Flask, client: FlaskClient, mailbox: Mailbox, clock: Clock
) -> None:
    app = app_with_deep_page
    sign_up(client, "acme", "jana@example.com")
    sign_in_by_mail(client, mailbox, "acme", "jana@example.com")
    assert client.get("/acme/portal/deep?tab=2&lang=de").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/acme/portal/deep?tab=2&lang=de")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/acme/portal?lang=de&next=")
    assert "expired=1" in location
    page = client.get(location).get_data(as_text=True)
    assert "Ihre Sitzung ist abgelaufen" in page  # the page keeps ?lang=de
    assert 'name="next" value="/acme/portal/deep?tab=2&amp;lang=de"' in page
    clock.advance(minutes=2)
    ask_for_link(client, "acme", "jana@example.com", "de", next="/acme/portal/deep?tab=2&lang=de")
    path, _ = link_and_code(mailbox.wait_for_signin("jana@example.com", count=2))
    signed_in = confirm(client, path)
    assert signed_in.headers["Location"] == "/acme/portal/deep?tab=2&lang=de"
    customer = stored(app, "acme", "customers")[0]
    assert client.get(signed_in.headers["Location"]).get_data(as_text=True) == (
        f"deep page of {customer['id']}"
    )


def test_a_deep_link_survives_sign_in_on_another_device(
    app_with_deep_page: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    sign_up(client, "acme", "jana@example.com")
    first = client.get("/acme/portal/deep")
    assert first.status_code == 303
    assert "next=/acme/portal/deep" in first.headers["Location"]
    ask_for_link(client, "acme", "jana@example.com", next="/acme/portal/deep")
    _, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    laptop = app_with_deep_page.test_client()
    page = laptop.get("/acme/portal/code").get_data(as_text=True)
    response = laptop.post(
        "/acme/portal/code?lang=en",
        data={"email": "jana@example.com", "code": code, "form_token": form_token(page)},
    )
    assert response.headers["Location"] == "/acme/portal/deep?lang=en"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/acme/portal", "/acme/portal"),
        ("/acme/portal/payment-methods", "/acme/portal/payment-methods"),
        ("/acme/portal/invoices?page=2", "/acme/portal/invoices?page=2"),
        ("/acme/portal?", "/acme/portal"),
        ("https://evil.example/acme/portal", None),
        ("//evil.example/acme/portal", None),
        ("/\\evil.example", None),
        ("/acme/portal/../order", None),
        ("/acme/portalx", None),
        ("/acme/order", None),
        ("/stromma/portal", None),
        ("/acme/portal/logout", None),
        ("/acme/portal/verify/abc", None),
        ("/acme/portal/login", None),
        ("/acme/portal/x#frag", None),
        ("/acme/portal/\r\nSet-Cookie:x", None),
        ("javascript:alert(1)", None),
        ("/acme/portal/" + "a" * 600, None),
        ("", None),
        (None, None),
    ],
)
def test_next_stays_inside_the_merchants_portal(value: str | None, expected: str | None) -> None:
    assert safe_next("acme", value) == expected


def test_a_foreign_next_is_dropped(app: Flask, client: FlaskClient, mailbox: Mailbox) -> None:
    sign_up(client, "acme", "jana@example.com")
    page = client.get("/acme/portal?next=https://evil.example/").get_data(as_text=True)
    assert 'name="next"' not in page
    ask_for_link(client, "acme", "jana@example.com", next="//evil.example/x")
    path, _ = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    assert confirm(client, path).headers["Location"] == "/acme/portal?lang=en"


def test_sign_out_ends_the_session(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_in(app, client, "acme", "jana@example.com")
    old = session_cookie(client)
    token = csrf_token(client.get("/acme/portal?lang=en").get_data(as_text=True))
    response = client.post("/acme/portal/logout?lang=en", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/acme/portal?lang=en&signed_out=1"
    assert session_cookie(client) is None
    assert "You have signed out." in client.get(response.headers["Location"]).get_data(as_text=True)
    replay = app.test_client()
    replay.set_cookie("portico-acme", old)
    assert not is_signed_in(replay)  # a copied cookie is worth nothing now
    assert stored(app, "acme", "sessions") == []
    actions = [entry["action"] for entry in stored(app, "acme", "audit")]
    assert actions == ["portal.signin", "portal.signout"]


def test_sign_out_everywhere(app: Flask, client: FlaskClient, clock: Clock) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_up(client, "acme", "other@example.com")
    phone = signed_in_client(app)
    clock.advance(seconds=61)
    laptop = signed_in_client(app)
    someone_else = signed_in_client(app, "other@example.com")
    token = csrf_token(laptop.get("/acme/portal").get_data(as_text=True))
    response = laptop.post("/acme/portal/logout-everywhere", data={"csrf_token": token})
    assert response.status_code == 303
    assert "signed_out=all" in response.headers["Location"]
    assert not is_signed_in(phone)
    assert not is_signed_in(laptop)
    assert is_signed_in(someone_else)


def test_signed_in_posts_need_the_sessions_form_token(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_up(client, "acme", "other@example.com")
    sign_in(app, client, "acme", "jana@example.com")
    other = signed_in_client(app, "other@example.com")
    foreign = csrf_token(other.get("/acme/portal").get_data(as_text=True))
    own = csrf_token(client.get("/acme/portal").get_data(as_text=True))
    for path in ("/acme/portal/logout", "/acme/portal/logout-everywhere"):
        assert client.post(path).status_code == 400
        assert client.post(path, data={"csrf_token": "x" * 40}).status_code == 400
        assert client.post(path, data={"csrf_token": foreign}).status_code == 400
        cross = client.post(
            path, data={"csrf_token": own}, headers={"Sec-Fetch-Site": "cross-site"}
        )
        assert cross.status_code == 403
    assert is_signed_in(client)
    assert is_signed_in(other)


def test_a_session_grants_nothing_at_another_merchant(app: Flask, client: FlaskClient) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_up(client, "stromma", "jana@example.com")
    sign_in(app, client, "acme", "jana@example.com")
    acme_id = session_cookie(client)
    assert is_signed_in(client, "acme")
    assert not is_signed_in(client, "stromma")
    client.set_cookie("portico-stromma", acme_id)  # the same id under the other name
    assert not is_signed_in(client, "stromma")
    token = csrf_token(client.get("/acme/portal").get_data(as_text=True))
    out = client.post("/stromma/portal/logout", data={"csrf_token": token})
    assert out.status_code == 303 and "/stromma/portal" in out.headers["Location"]
    assert is_signed_in(client, "acme")
    assert stored(app, "stromma", "sessions") == []


def test_a_link_works_only_at_its_own_merchant(
    app: Flask, client: FlaskClient, mailbox: Mailbox
) -> None:
    sign_up(client, "acme", "jana@example.com")
    sign_up(client, "stromma", "jana@example.com")
    ask_for_link(client, "acme", "jana@example.com")
    path, code = link_and_code(mailbox.wait_for_signin("jana@example.com"))
    foreign = path.replace("/acme/", "/stromma/")
    assert client.get(foreign).status_code == 404
    token = form_token(client.get("/stromma/portal").get_data(as_text=True))
    assert client.post(foreign, data={"form_token": token}).status_code == 404
    refused = client.post(
        "/stromma/portal/code",
        data={"email": "jana@example.com", "code": code, "form_token": token},
    )
    assert refused.status_code == 422
    assert not is_signed_in(client, "stromma")
    assert confirm(client, path).status_code == 303  # still good where it belongs


def test_an_unknown_merchant_has_no_portal(client: FlaskClient) -> None:
    assert client.get("/nobody/portal").status_code == 404
    assert client.get("/nobody/portal/verify/" + "A" * 43).status_code == 404


def test_a_merchant_can_switch_the_portal_off(tmp_path) -> None:
    merchants = tmp_path / "config" / "merchants"
    merchants.mkdir(parents=True)
    source = (DEMO_CONFIG / "merchants" / "stromma.yaml").read_text(encoding="utf-8")
    (merchants / "stromma.yaml").write_text(
        source.replace("\nportal:\n", "\nportal:\n  enabled: false\n", 1), encoding="utf-8"
    )
    shutil.copytree(DEMO_CONFIG / "merchants" / "stromma", merchants / "stromma")
    app = make_app(tmp_path / "instance", tmp_path / "config")
    client = app.test_client()
    assert client.get("/stromma/order").status_code == 200
    for path in ("/stromma/portal", "/stromma/portal/code", "/stromma/portal/verify/" + "A" * 43):
        assert client.get(path).status_code == 404, path
    stop_background_work(app)
