"""Marketing opt-ins in the portal: a merchant's optional consents, given or taken back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import make_app, stop_background_work
from tests.helpers.orders import VALID, open_form
from tests.helpers.portal import (
    NEWSLETTER,
    audits,
    customer_of,
    edited_config,
    events,
    page_token,
    sign_in,
)

PREFERENCES = "/acme/portal/preferences?lang=en"
JANA = "jana@example.com"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    """acme with an optional consent (a newsletter) after its required terms."""
    anchor = "      required: true\n  success:\n"
    config = edited_config(
        tmp_path, "acme", anchor, "      required: true\n" + NEWSLETTER + "  success:\n"
    )
    app = make_app(tmp_path / "instance", config)
    yield app
    stop_background_work(app)


def join(app: Flask, *, newsletter: bool) -> FlaskClient:
    """Jana signs up on the order page, ticking the newsletter box or not, and signs in."""
    client = app.test_client()
    data = {**VALID["acme"], "email": JANA, "form_token": open_form(client, "acme", "?lang=en")}
    if newsletter:
        data["newsletter"] = "y"
    assert client.post("/acme/order?lang=en", data=data).status_code == 303
    sign_in(app, client, "acme", JANA)
    return client


def choose(client: FlaskClient, **boxes: str) -> object:
    return client.post(PREFERENCES, data={"csrf_token": page_token(client, PREFERENCES), **boxes})


def test_an_opt_in_given_at_sign_up_shows_ticked_and_can_be_withdrawn(app: Flask) -> None:
    jana = join(app, newsletter=True)
    html = jana.get(PREFERENCES).get_data(as_text=True)
    assert 'name="newsletter" value="y" checked' in html
    assert "Agreed on" in html
    assert 'send me the <a href="https://acme.example/news"' in html  # the sanitized label
    assert 'aria-current="page">Preferences<' in html

    response = choose(jana)  # the box unticked
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/acme/portal/preferences?lang=en&saved=1")
    choice = customer_of(app, "acme", JANA)["opt_ins"]["newsletter"]
    assert choice["given"] is False and choice["at"] and choice["text"] is None
    [entry] = audits(app, "acme", "customer.opt_ins")
    assert entry["before"] == {"newsletter": True} and entry["after"] == {"newsletter": False}
    assert entry["actor"] == f"portal:{JANA}"
    [event] = events(app, "acme", "customer.updated")
    assert event["data"]["opt_ins"] == {"newsletter": False}
    assert event["data"]["changed"] == ["opt_ins.newsletter"]

    saved = jana.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your preferences have been saved." in saved
    assert "Declined on" in saved and " checked" not in saved


def test_an_opt_in_can_be_given_later_with_the_text_as_shown(app: Flask) -> None:
    jana = join(app, newsletter=False)
    assert "Not agreed." in jana.get(PREFERENCES).get_data(as_text=True)
    assert choose(jana, newsletter="y").status_code == 303
    choice = customer_of(app, "acme", JANA)["opt_ins"]["newsletter"]
    assert choice["given"] is True and choice["language"] == "en"
    assert "send me the" in choice["text"]
    # sending the same choice again records nothing new
    assert choose(jana, newsletter="y").status_code == 303
    assert len(audits(app, "acme", "customer.opt_ins")) == 1
    assert len(events(app, "acme", "customer.updated")) == 1


def test_required_consents_and_unknown_inputs_are_not_preferences(app: Flask) -> None:
    jana = join(app, newsletter=False)
    html = jana.get(PREFERENCES).get_data(as_text=True)
    assert 'name="terms"' not in html
    assert choose(jana, terms="", marketing_everything="y").status_code == 303
    assert "opt_ins" not in customer_of(app, "acme", JANA)
    assert audits(app, "acme", "customer.opt_ins") == []


def test_a_post_without_the_session_token_changes_nothing(app: Flask) -> None:
    jana = join(app, newsletter=True)
    assert jana.post(PREFERENCES, data={}).status_code == 400
    assert "opt_ins" not in customer_of(app, "acme", JANA)


def test_without_optional_consents_there_is_no_preferences_page(instance_dir: Path) -> None:
    app = make_app(instance_dir)  # the demo acme: only required terms
    try:
        client = app.test_client()
        data = {**VALID["acme"], "email": JANA, "form_token": open_form(client, "acme")}
        assert client.post("/acme/order?lang=en", data=data).status_code == 303
        sign_in(app, client, "acme", JANA)
        assert client.get(PREFERENCES).status_code == 404
        assert "Preferences" not in client.get("/acme/portal?lang=en").get_data(as_text=True)
    finally:
        stop_background_work(app)
