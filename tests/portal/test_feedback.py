"""Feedback after a portal action: the prompt, storing a rating, and every refusal."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.app import make_app, stop_background_work
from tests.helpers.orders import stored
from tests.helpers.portal import (
    DETAILS,
    SAVED,
    customer_of,
    edited_config,
    error_summary,
    events,
    page_token,
    signed_in_client,
)

FEEDBACK = "/acme/portal/feedback?lang=en"
JANA = "jana@example.com"


@pytest.fixture
def jana(app: Flask) -> FlaskClient:
    return signed_in_client(app, "acme", JANA)


def send(client: FlaskClient, **form: str) -> object:
    data = {"csrf_token": page_token(client, DETAILS), "action": "details", **form}
    return client.post(FEEDBACK, data=data)


def saved_details_page(client: FlaskClient) -> str:
    data = {**SAVED, "city": "Potsdam", "csrf_token": page_token(client, DETAILS)}
    response = client.post(DETAILS, data=data)
    assert response.status_code == 303
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_prompt_is_five_labelled_buttons_and_an_optional_comment(jana: FlaskClient) -> None:
    html = saved_details_page(jana)
    prompt = html[html.index('<section class="portal-section feedback-prompt"') :]
    prompt = prompt[: prompt.index("</section>")]
    assert 'action="/acme/portal/feedback?lang=en"' in prompt
    assert '<legend class="field__label">Your rating</legend>' in prompt
    buttons = re.findall(r'<button [^>]*name="rating" value="(\d)"[^>]*>\d<span', prompt)
    assert buttons == ["1", "2", "3", "4", "5"]
    assert prompt.count('<span class="visually-hidden"> of 5</span>') == 5
    assert '<label class="field__label" for="feedback-comment">' in prompt
    assert 'name="csrf_token"' in prompt and 'name="action" value="details"' in prompt
    assert "<script" not in prompt


def test_a_rating_is_stored_announced_and_thanked(app: Flask, jana: FlaskClient) -> None:
    response = send(jana, rating="4", comment="  Quick and easy.  ")
    assert response.status_code == 200
    assert "Thank you for your feedback" in response.get_data(as_text=True)
    [entry] = stored(app, "acme", "feedback")
    assert entry["rating"] == 4
    assert entry["comment"] == "Quick and easy."
    assert entry["action"] == "details"
    assert entry["customer_id"] == customer_of(app, "acme", JANA)["id"]
    assert entry["at"]
    [event] = events(app, "acme", "portal.feedback")
    assert event["data"] == entry
    assert event["customer_id"] == entry["customer_id"]


def test_a_rating_without_comment_is_fine(app: Flask, jana: FlaskClient) -> None:
    assert send(jana, rating="1").status_code == 200
    assert [e["comment"] for e in stored(app, "acme", "feedback")] == [""]


@pytest.mark.parametrize(
    ("form", "problem"),
    [
        ({"rating": "0"}, "Rating: Choose a rating from 1 to 5."),
        ({"rating": "6"}, "Rating: Choose a rating from 1 to 5."),
        ({"rating": "five"}, "Rating: Choose a rating from 1 to 5."),
        ({}, "Rating: Choose a rating from 1 to 5."),
        ({"rating": "3", "comment": "x" * 1001}, "Comment: Please shorten your comment"),
    ],
)
def test_invalid_feedback_is_refused_and_nothing_stored(
    app: Flask, jana: FlaskClient, form: dict[str, str], problem: str
) -> None:
    response = send(jana, **{"comment": "keep me", **form})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    [message] = error_summary(html)
    assert problem in message
    if len(form.get("comment", "")) <= 1000:
        assert ">keep me</textarea>" in html
    assert 'name="rating" value="3"' in html  # asked again
    assert stored(app, "acme", "feedback") == []
    assert events(app, "acme", "portal.feedback") == []


def test_a_forged_action_is_refused(app: Flask, jana: FlaskClient) -> None:
    response = send(jana, rating="3", action="<script>")
    assert response.status_code == 400
    assert "<script>" not in response.get_data(as_text=True)
    assert stored(app, "acme", "feedback") == []


def test_feedback_needs_the_session_and_its_token(app: Flask, jana: FlaskClient) -> None:
    assert jana.post(FEEDBACK, data={"rating": "5", "action": "details"}).status_code == 400
    stranger = app.test_client()
    assert stranger.post(FEEDBACK, data={"rating": "5", "action": "details"}).status_code == 303
    assert stored(app, "acme", "feedback") == []


@pytest.fixture
def no_feedback(tmp_path: Path) -> Iterator[Flask]:
    config = edited_config(
        tmp_path,
        "acme",
        "  return_url: https://acme.example/account\n",
        "  return_url: https://acme.example/account\n  feedback: false\n",
    )
    app = make_app(tmp_path / "instance", config)
    yield app
    stop_background_work(app)


def test_a_merchant_can_switch_feedback_off(no_feedback: Flask) -> None:
    jana = signed_in_client(no_feedback, "acme", JANA)
    html = saved_details_page(jana)
    assert "Your details have been saved." in html
    assert 'name="rating"' not in html
    assert send(jana, rating="5").status_code == 404
    assert stored(no_feedback, "acme", "feedback") == []
